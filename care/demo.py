"""The care part of ``seed_demo``: one patient whose consultation is done, with a
shared plan, an issued and acknowledged Good Faith Estimate, and a booked procedure
with approved instructions. Built through the services the pages use (only the
consultation's time is set in the past directly: no service books the past). Never
run on a real clinic (seed_demo refuses)."""

from datetime import date, timedelta

from django.db.models import F
from django.utils import timezone

from care.models import BillingProvider, GoodFaithEstimate
from care.services import estimates, instructions, plans, procedures
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


def demo_billing_provider() -> BillingProvider:
    """The demo clinic's billing details (CMS's documentation example NPI)."""
    provider = BillingProvider.objects.filter(is_current=True).first()
    return provider or BillingProvider.objects.create(
        name="Demo Regenerative Clinic",
        npi_number="1234567893",
        tin="12-3456789",
        location="100 Main Street, Springfield, NJ 07081",
    )


def demo_care_story(patient: User, *, front_desk: User) -> Case:
    """Grace's right knee: consultation held, PRP planned and shared (the estimate is
    issued and she acknowledged it), the procedure booked (re-issued with its date)
    and its instructions approved."""
    demo_billing_provider()
    case = case_route(case_id=demo.demo_submitted_case(patient, GRACE_KNEE).pk)
    case = demo.demo_candidate(case, note="Demo: PRP discussed at the consultation.")
    consultation = demo.demo_booking(case, booked_by=front_desk)
    # The consultation took place two days ago. Check-in is only on the day, so it is
    # first moved to now, checked in and completed, then moved back two days.
    shift = consultation.starts_at - timezone.now()
    Consultation.objects.filter(pk=consultation.pk).update(
        starts_at=F("starts_at") - shift, ends_at=F("ends_at") - shift
    )
    consultation.refresh_from_db()
    consultation_move(consultation=consultation, action="check_in", by=front_desk)
    consultation_move(consultation=consultation, action="complete", by=front_desk)
    Consultation.objects.filter(pk=consultation.pk).update(
        starts_at=F("starts_at") - timedelta(days=2), ends_at=F("ends_at") - timedelta(days=2)
    )
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
