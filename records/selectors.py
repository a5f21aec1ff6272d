"""Reads for the FHIR exports: cases with everything their resources are built from,
in a fixed number of queries per batch of cases (the bulk export reads them in
chunks, so memory stays flat whatever the clinic's size)."""

from datetime import datetime
from typing import Any

from django.db.models import Model, Prefetch, Q, QuerySet

from care.models import GoodFaithEstimate, PlannedOption, ProcedureRecord, TreatmentPlan
from clinic.models import User
from intake.models import (
    AnswerOption,
    Case,
    CaseFlag,
    Complaint,
    Consultation,
    ImagingStudy,
    Instrument,
    InstrumentItem,
    QuestionnaireResponse,
    RedFlagAnswer,
    ReviewDecision,
    ScreeningAnswer,
)


def _instrument_parts(prefix: str = "") -> list[Prefetch[Any]]:
    return [
        Prefetch(f"{prefix}items", queryset=InstrumentItem.objects.order_by("position")),
        Prefetch(f"{prefix}options", queryset=AnswerOption.objects.order_by("position")),
    ]


def _history(model: type[Model]) -> Prefetch[Any]:
    """The row's change history (django-pghistory events), oldest first, with the
    context that says who made each change."""
    events = model.history.rel.related_model  # type: ignore[attr-defined]  # pghistory's
    return Prefetch(
        "history",
        queryset=events.objects.select_related("pgh_context").order_by("pgh_created_at", "pgh_id"),
    )


def export_cases() -> QuerySet[Case]:
    """Every case with what its export needs (the intake and its answers, flags,
    decisions, consultations, shared plans and issued estimates)."""
    return Case.objects.select_related(
        "intake__patient",
        "intake__consent",
        "patient",
        "assigned_to__physician_profile",
        "main_complaint__intake",
    ).prefetch_related(
        Prefetch(
            "intake__complaints",
            queryset=Complaint.objects.select_related("body_region", "condition").prefetch_related(
                "condition__codes", _history(Complaint)
            ),
        ),
        Prefetch(
            "intake__responses",
            queryset=QuestionnaireResponse.objects.select_related("instrument").prefetch_related(
                *_instrument_parts("instrument__")
            ),
        ),
        Prefetch(
            "intake__screening_answers",
            queryset=ScreeningAnswer.objects.select_related("contraindication"),
        ),
        Prefetch(
            "intake__red_flag_answers", queryset=RedFlagAnswer.objects.select_related("red_flag")
        ),
        Prefetch(
            "intake__imaging_studies", queryset=ImagingStudy.objects.select_related("body_region")
        ),
        "intake__prior_treatments",
        "intake__imaging_files",
        Prefetch("flags", queryset=CaseFlag.objects.select_related("contraindication")),
        Prefetch("decisions", queryset=ReviewDecision.objects.order_by("decided_at", "pk")),
        Prefetch(
            "consultations",
            queryset=Consultation.objects.select_related(
                "patient", "physician__physician_profile", "consultation_type"
            )
            .prefetch_related(_history(Consultation))
            .order_by("starts_at", "pk"),
        ),
        Prefetch(
            "treatment_plans",
            queryset=TreatmentPlan.objects.shared()
            .select_related("physician", "body_region")
            .prefetch_related(
                Prefetch("planned", queryset=PlannedOption.objects.select_related("option"))
            )
            .order_by("version"),
        ),
        Prefetch("estimates", queryset=GoodFaithEstimate.objects.order_by("issued_at", "pk")),
        Prefetch(
            "procedure_records",
            queryset=ProcedureRecord.objects.select_related(
                "option", "body_region", "physician", "plan", "case__patient", "followup_series"
            )
            .prefetch_related("followup_series__followups__response")
            .order_by("performed_at", "pk"),
        ),
        _history(Case),
    )


def changed_since(since: datetime) -> Q:
    """Cases whose record changed at or after ``since``: the case, its intake, a
    consultation or a plan was written, or an estimate was issued."""
    return (
        Q(updated_at__gte=since)
        | Q(intake__updated_at__gte=since)
        | Q(consultations__updated_at__gte=since)
        | Q(treatment_plans__updated_at__gte=since)
        | Q(estimates__issued_at__gte=since)
    )


def export_physicians() -> QuerySet[User]:
    """Every physician (active or not: old records still name them)."""
    return (
        User.objects.filter(physician_profile__isnull=False)
        .select_related("physician_profile")
        .order_by("pk")
    )


def export_instruments() -> QuerySet[Instrument]:
    return Instrument.objects.prefetch_related(*_instrument_parts()).order_by("pk")
