"""The care part of ``seed_demo``: Grace, whose consultation is done, with a shared
plan, an issued and acknowledged Good Faith Estimate, and a booked procedure with
approved instructions; and Henry, whose donor-tissue (allograft) procedure was done
this morning and recorded with its lot, so the recall list finds him. Built through
the services the pages use (only a consultation's time is set directly: no service
books the past). Never run on a real clinic (seed_demo refuses)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from care.models import BillingProvider, GoodFaithEstimate
from care.services import estimates, instructions, plans, procedure_records, procedures
from clinic.models import PhysicianProfile, User
from intake import demo
from intake.models import Case, Consultation
from intake.routing import case_route
from intake.scheduling import consultation_move, free_slots
from treatments.models import BodyRegion, TreatmentOption

GRACE_KNEE = demo.DemoCase(
    region="knee",
    condition="knee-osteoarthritis",
    side="right",
    pain_now=5,
    pain_worst_week=7,
    born=date(1961, 11, 2),
    sex="female",
    city="Springfield",
    medicines="Ibuprofen 400 mg when needed; atorvastatin 20 mg",
    goals="Play tennis with my grandchildren again.",
    interested=("prp",),
)


HENRY_KNEE = demo.DemoCase(
    region="knee",
    condition="knee-osteoarthritis",
    side="left",
    pain_now=6,
    pain_worst_week=8,
    born=date(1957, 3, 14),
    sex="male",
    city="Union",
    medicines="Amlodipine 5 mg daily",
    goals="Walk the dog for half an hour without stopping.",
    interested=("allograft",),
)
# As printed on the demo product's label; search it on the recall list.
DEMO_LOT = "AMX-26-0315"


def demo_billing_provider() -> BillingProvider:
    """The demo clinic's billing details (CMS's documentation example NPI)."""
    provider = BillingProvider.objects.filter(is_current=True).first()
    return provider or BillingProvider.objects.create(
        name="Demo Regenerative Clinic",
        npi_number="1234567893",
        tin="12-3456789",
        location="100 Main Street, Springfield, NJ 07081",
    )


def _at_now(consultation: Consultation) -> None:
    """Moves a booked consultation to begin now (check-in is on the day only)."""
    shift = consultation.starts_at - timezone.now()
    Consultation.objects.filter(pk=consultation.pk).update(
        starts_at=F("starts_at") - shift, ends_at=F("ends_at") - shift
    )
    consultation.refresh_from_db()


def _consultation_held(case: Case, *, front_desk: User, days_ago: int) -> None:
    """The case's first consultation, booked, held and completed ``days_ago``: it is
    moved to now, checked in and completed, then moved back."""
    consultation = demo.demo_booking(case, booked_by=front_desk)
    _at_now(consultation)
    consultation_move(consultation=consultation, action="check_in", by=front_desk)
    consultation_move(consultation=consultation, action="complete", by=front_desk)
    Consultation.objects.filter(pk=consultation.pk).update(
        starts_at=F("starts_at") - timedelta(days=days_ago),
        ends_at=F("ends_at") - timedelta(days=days_ago),
    )


def demo_care_story(patient: User, *, front_desk: User) -> Case:
    """Grace's right knee: consultation held, PRP planned and shared (the estimate is
    issued and she acknowledged it), the procedure booked (re-issued with its date)
    and its instructions approved."""
    demo_billing_provider()
    case = case_route(case_id=demo.demo_submitted_case(patient, GRACE_KNEE).pk)
    case = demo.demo_candidate(case, note="Demo: PRP discussed at the consultation.")
    _consultation_held(case, front_desk=front_desk, days_ago=2)
    case.refresh_from_db()
    physician = case.assigned_to
    assert physician is not None  # noqa: S101 (a candidate case has its physician)
    plan = plans.plan_draft_save(
        case=case,
        physician=physician,
        draft=plans.PlanDraft(
            options=list(TreatmentOption.objects.filter(slug="prp")),
            body_region=BodyRegion.objects.get(slug="knee"),
            side="right",
            condition=case.main_complaint.condition if case.main_complaint else None,
            icd10_code="M17.11",
            sessions=2,
            weeks_between_sessions=4,
            guidance="ultrasound",
            note_to_patient="Two PRP injections four weeks apart; we review how you are "
            "at six weeks. If it helps, improvement usually shows over several weeks.",
        ),
    )
    plans.plan_share(plan=plan, physician=physician)
    estimates.estimate_acknowledge(
        estimate=GoodFaithEstimate.objects.filter(case=case).latest(),
        patient=patient,
        ip_address=demo.DEMO_IP,
    )
    profile = PhysicianProfile.objects.get(user=physician)
    slot = free_slots(
        physician=profile,
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=14),
        days=14,
    )[0]
    procedure = procedures.procedure_book(case=case, starts_at=slot.starts_at, booked_by=front_desk)
    instructions.instructions_draft(procedure=procedure, physician=physician)
    instructions.instructions_approve(procedure=procedure, physician=physician)
    case.refresh_from_db()
    return case


def demo_treated_story(patient: User, *, front_desk: User) -> Case:
    """Henry's left knee: consultation held two weeks ago, a donor-tissue plan shared
    and its estimate acknowledged, the procedure booked with approved instructions,
    then held this morning (moved to an hour ago, checked in) and recorded with the
    product's lot; the estimate is re-issued for the day it took place."""
    demo_billing_provider()
    case = case_route(case_id=demo.demo_submitted_case(patient, HENRY_KNEE).pk)
    case = demo.demo_candidate(case, note="Demo: allograft discussed at the consultation.")
    _consultation_held(case, front_desk=front_desk, days_ago=14)
    case.refresh_from_db()
    physician = case.assigned_to
    assert physician is not None  # noqa: S101 (a candidate case has its physician)
    plan = plans.plan_draft_save(
        case=case,
        physician=physician,
        draft=plans.PlanDraft(
            options=list(TreatmentOption.objects.filter(slug="allograft")),
            body_region=BodyRegion.objects.get(slug="knee"),
            side="left",
            condition=case.main_complaint.condition if case.main_complaint else None,
            icd10_code="M17.12",
            sessions=1,
            weeks_between_sessions=0,
            guidance="ultrasound",
            note_to_patient="One ultrasound-guided injection of donor tissue into the left "
            "knee; we review how you are at six weeks.",
        ),
    )
    plans.plan_share(plan=plan, physician=physician)
    profile = PhysicianProfile.objects.get(user=physician)
    slot = free_slots(
        physician=profile,
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=7),
        days=14,
    )[0]
    procedure = procedures.procedure_book(case=case, starts_at=slot.starts_at, booked_by=front_desk)
    instructions.instructions_draft(procedure=procedure, physician=physician)
    instructions.instructions_approve(procedure=procedure, physician=physician)
    # Held this morning: an hour ago, or from midnight if it is not yet an hour past.
    now = timezone.now()
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time()))
    shift = procedure.starts_at - max(now - timedelta(hours=1), midnight)
    Consultation.objects.filter(pk=procedure.pk).update(
        starts_at=F("starts_at") - shift, ends_at=F("ends_at") - shift
    )
    procedure.refresh_from_db()
    estimates.estimate_issue(case=case, by=front_desk)
    estimates.estimate_acknowledge(
        estimate=GoodFaithEstimate.objects.filter(case=case).latest(),
        patient=patient,
        ip_address=demo.DEMO_IP,
    )
    consultation_move(consultation=procedure, action="check_in", by=front_desk)
    procedure_records.procedure_record(
        consultation=procedure,
        physician=physician,
        details=procedure_records.ProcedureDetails(
            performed_at=min(procedure.starts_at + timedelta(minutes=15), now),
            option=TreatmentOption.objects.get(slug="allograft"),
            body_region=BodyRegion.objects.get(slug="knee"),
            side="left",
            guidance="ultrasound",
            volume_injected_ml=Decimal("2.0"),
            product_name="Amniotic suspension allograft (demo product)",
            manufacturer="Demo Tissue Bank",
            lot_number=DEMO_LOT,
            lot_expires_on=date(timezone.localdate().year + 1, 9, 30),
        ),
    )
    case.refresh_from_db()
    return case
