"""Reads for the care pages, with what each page shows loaded in a fixed number of
queries."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from care.models import EstimateDue, GoodFaithEstimate, PlanItem, ProcedureRecord, TreatmentPlan
from intake.models import Case, Consultation


def plans_of(case: Case) -> list[TreatmentPlan]:
    """Every version of the case's plan, newest first, with options and items."""
    return list(
        TreatmentPlan.objects.filter(case=case)
        .select_related("body_region", "condition", "physician__physician_profile")
        .prefetch_related(
            "planned__option",
            Prefetch("items", queryset=PlanItem.objects.select_related("option")),
        )
        .order_by("-version")
    )


def estimates_of(case: Case) -> QuerySet[GoodFaithEstimate]:
    return (
        GoodFaithEstimate.objects.filter(case=case)
        .select_related("acknowledgement", "plan")
        .order_by("-issued_at", "-pk")
    )


def estimate_document(public_id: UUID) -> QuerySet[GoodFaithEstimate]:
    return GoodFaithEstimate.objects.filter(public_id=public_id).select_related(
        "case", "disclaimer", "acknowledgement"
    )


@dataclass(frozen=True)
class FrontDeskEstimates:
    overdue: list[EstimateDue]
    due: list[EstimateDue]
    issued: list[GoodFaithEstimate]
    to_book: list[Case]


def front_desk_estimates(*, today: date, issued_limit: int = 50) -> FrontDeskEstimates:
    """Open dues (overdue first) and the latest issued estimates. Names, references,
    dates and totals only: no plan, note or diagnosis is loaded."""
    open_dues = list(
        EstimateDue.objects.open()
        .select_related("case__intake")
        .only(
            "public_id",
            "reason",
            "opened_on",
            "service_on",
            "due_on",
            "rule",
            "case__public_id",
            "case__reference",
            "case__patient_id",
            "case__intake__legal_name",
        )
        .order_by("due_on", "pk")
    )
    issued = list(
        GoodFaithEstimate.objects.select_related("case", "acknowledgement").order_by(
            "-issued_at", "-pk"
        )[:issued_limit]
    )
    # A case whose latest shared plan still has sessions to do, with no procedure
    # booked or under way: one recorded procedure per session of the plan.
    latest_plan = TreatmentPlan.objects.shared().filter(case=OuterRef("pk")).order_by("-version")
    sessions_done = (
        ProcedureRecord.objects.filter(plan=OuterRef("latest_plan"))
        .order_by()
        .values("plan")
        .annotate(done=Count("pk"))
        .values("done")
    )
    to_book = list(
        Case.objects.annotate(
            latest_plan=Subquery(latest_plan.values("pk")[:1]),
            sessions=Subquery(latest_plan.values("sessions")[:1]),
            sessions_done=Coalesce(Subquery(sessions_done), 0),
        )
        .filter(
            latest_plan__isnull=False,
            sessions_done__lt=F("sessions"),
        )
        .exclude(
            Exists(
                Consultation.objects.filter(
                    case=OuterRef("pk"),
                    state__in=[Consultation.State.BOOKED, Consultation.State.CHECKED_IN],
                    consultation_type__slug="injection-procedure",
                )
            )
        )
        .select_related("intake")
        .only("public_id", "reference", "patient_id", "intake__legal_name")
        .order_by("reference")
    )
    return FrontDeskEstimates(
        to_book=to_book,
        overdue=[d for d in open_dues if d.due_on < today],
        due=[d for d in open_dues if d.due_on >= today],
        issued=issued,
    )


def records_of(case: Case) -> QuerySet[ProcedureRecord]:
    return case.procedure_records.select_related(
        "option", "body_region", "physician__physician_profile", "plan"
    )


def lot_recipients(lot_number: str) -> QuerySet[ProcedureRecord]:
    """Every procedure that used a donor-tissue lot (exact match, ignoring case and
    surrounding spaces), with the patient's contact details, for a recall."""
    return (
        ProcedureRecord.objects.filter(
            kind=ProcedureRecord.Kind.DONOR_TISSUE, lot_number__iexact=lot_number.strip()
        )
        .select_related("case__patient", "case__intake", "physician", "option")
        .order_by("performed_at", "pk")
    )
