"""Demo intakes for ``seed_demo``: one submitted case and one draft, built through the
same services the pages use. Never run on a real clinic (seed_demo refuses)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from clinic.models import User
from intake import services
from intake.models import Case, Instrument, Intake, PriorTreatment
from treatments.models import BodyRegion, Condition, TreatmentOption

if TYPE_CHECKING:
    from intake.models import Consultation

DEMO_IP = "192.0.2.10"  # documentation range (RFC 5737)


def _about(patient: User, *, born: date, sex: str, city: str) -> dict[str, object]:
    return {
        "legal_name": patient.full_name,
        "date_of_birth": born,
        "sex": sex,
        "phone": "+12015550143",
        "address_line1": "12 Orchard Lane",
        "address_line2": "",
        "city": city,
        "region": "NJ",
        "postal_code": "07081",
        "emergency_contact_name": "Alex Garcia",
        "emergency_contact_relationship": "Partner",
        "emergency_contact_phone": "+12015550177",
        "unit_system": "imperial",
        "height_cm": Decimal("165.1"),
        "weight_kg": Decimal("70.3"),
    }


@dataclass(frozen=True)
class DemoCase:
    region: str
    condition: str
    side: str
    pain_now: int
    pain_worst_week: int
    born: date
    sex: str
    city: str
    medicines: str
    goals: str
    screening_yes: tuple[str, ...] = ()
    red_flags_yes: tuple[str, ...] = ()
    interested: tuple[str, ...] = ()
    # Step 7: self-pay patients are owed a Good Faith Estimate.
    payment: str = "self_pay"


MARIA_KNEE = DemoCase(
    region="knee",
    condition="knee-osteoarthritis",
    side="left",
    pain_now=6,
    pain_worst_week=8,
    born=date(1968, 4, 9),
    sex="female",
    city="Springfield",
    medicines="Apixaban 5 mg twice daily; lisinopril 10 mg",
    goals="Walk the dog for an hour and garden without pain.",
    screening_yes=("anticoagulant",),
    interested=("prp", "bone-marrow-stem-cells"),
)


def demo_submitted_knee_case(patient: User) -> Case:
    """A 58-year-old with left knee osteoarthritis who takes a blood thinner."""
    return demo_submitted_case(patient, MARIA_KNEE)


def demo_submitted_case(patient: User, demo: DemoCase) -> Case:
    """A whole intake, step by step through the services, signed and submitted."""
    intake = demo_complete_draft(patient, demo)
    return services.intake_submit(
        intake=intake,
        signature=services.Signature(
            name=patient.full_name,
            ip_address=DEMO_IP,
            consent_version=services.current_consent().version,
            acknowledged_risks=True,
            acknowledged_cost=True,
            acknowledged_regulatory=True,
        ),
    )


def demo_complete_draft(patient: User, demo: DemoCase) -> Intake:
    """Every step answered through the services; only the signature is missing."""
    if not patient.email_verified_at:
        patient.email_verified_at = timezone.now()
        patient.save(update_fields=["email_verified_at"])
    intake = services.intake_start(patient=patient)
    services.intake_about_save(
        intake=intake, data=_about(patient, born=demo.born, sex=demo.sex, city=demo.city)
    )
    region = BodyRegion.objects.get(slug=demo.region)
    services.intake_complaints_save(
        intake=intake,
        complaints=[
            services.ComplaintAnswer(
                body_region_id=region.pk,
                side=demo.side,
                condition_id=Condition.objects.filter(slug=demo.condition)
                .values_list("pk", flat=True)
                .first(),
                started_on=date(2021, 9, 1),
                onset="gradual",
                pain_now=demo.pain_now,
                pain_worst_week=demo.pain_worst_week,
            )
        ],
    )
    answers = {}
    for instrument in Instrument.objects.filter(in_intake=True, is_active=True).prefetch_related(
        "items", "options"
    ):
        values = [option.value for option in instrument.options.all()]
        middle = values[len(values) // 2]
        answers[instrument.pk] = {item.position: middle for item in instrument.items.all()}
    services.intake_function_save(intake=intake, answers=answers)
    tried = {
        PriorTreatment.Kind.PHYSICAL_THERAPY: services.PriorTreatmentAnswer(
            kind="physical_therapy",
            tried=True,
            last_on=date(2024, 2, 1),
            details="12 weeks",
            outcome="some",
        ),
        PriorTreatment.Kind.STEROID_INJECTION: services.PriorTreatmentAnswer(
            kind="steroid_injection",
            tried=True,
            last_on=date(2025, 6, 15),
            details="3",
            outcome="some",
        ),
    }
    services.intake_prior_treatments_save(
        intake=intake,
        treatments=[
            tried.get(kind, services.PriorTreatmentAnswer(kind=kind, tried=False))
            for kind in PriorTreatment.Kind
        ],
    )
    services.intake_health_save(
        intake=intake,
        answers={
            rule.pk: "yes" if rule.slug in demo.screening_yes else "no"
            for rule in services.screening_questions()
        },
        red_flags={
            flag.pk: "yes" if flag.slug in demo.red_flags_yes else "no"
            for flag in services.red_flag_questions()
        },
        data={
            "current_medicines": demo.medicines,
            "allergies": "Penicillin",
            "other_conditions": "",
        },
    )
    services.intake_imaging_save(
        intake=intake,
        status="yes",
        studies=[
            services.ImagingStudyAnswer(
                modality="xray",
                body_region_id=region.pk,
                done_on=date(2025, 5, 20),
                facility="Springfield Imaging",
            )
        ],
    )
    services.intake_goals_save(
        intake=intake,
        data={
            "goals": demo.goals,
            "preferred_days": ["tue", "thu"],
            "preferred_times": ["morning"],
            "payment": demo.payment,
            "insurance_carrier": "Demo Health Plan" if demo.payment == "insurance" else "",
            "insurance_member_id": "DEMO-0001" if demo.payment == "insurance" else "",
        },
        interested=TreatmentOption.objects.filter(slug__in=demo.interested),
    )
    intake.refresh_from_db()
    return intake


def demo_draft(patient: User) -> Intake:
    """A draft stopped after step 1, to show resuming."""
    intake = services.intake_start(patient=patient)
    services.intake_about_save(
        intake=intake, data=_about(patient, born=date(1979, 11, 23), sex="male", city="Trenton")
    )
    return intake


ROSA_BACK = DemoCase(
    region="spine",
    condition="degenerative-disc-disease",
    side="na",
    pain_now=7,
    pain_worst_week=9,
    born=date(1974, 2, 17),
    sex="female",
    city="Newark",
    medicines="Ibuprofen 400 mg as needed",
    goals="Sit through a working day and pick up my grandson.",
    screening_yes=("nsaid",),
    red_flags_yes=("saddle-numbness-bladder-bowel",),
    interested=("prp",),
)
ANA_SHOULDER = DemoCase(
    region="shoulder",
    condition="shoulder-osteoarthritis",
    side="right",
    pain_now=5,
    pain_worst_week=7,
    born=date(1961, 7, 30),
    sex="female",
    city="Princeton",
    medicines="Letrozole 2.5 mg daily; amoxicillin for a tooth infection",
    goals="Swim again and reach the top shelf.",
    screening_yes=("cancer", "infection"),
    interested=("adipose-stem-cells",),
)
BEN_HIP = DemoCase(
    region="hip",
    condition="hip-osteoarthritis",
    side="right",
    pain_now=4,
    pain_worst_week=6,
    born=date(1983, 12, 5),
    sex="male",
    city="Camden",
    medicines="none",
    goals="Run a 10 km race again.",
    interested=("prp", "dextrose-prolotherapy"),
)
LUCY_ELBOW = DemoCase(
    region="elbow",
    condition="tennis-elbow",
    side="right",
    pain_now=5,
    pain_worst_week=7,
    born=date(1986, 3, 14),
    sex="female",
    city="Hoboken",
    medicines="none",
    goals="Play tennis twice a week and carry shopping without pain.",
    interested=("prp",),
)
OMAR_KNEE = DemoCase(
    region="knee",
    condition="patellar-tendinitis",
    side="left",
    pain_now=4,
    pain_worst_week=6,
    born=date(1992, 8, 2),
    sex="male",
    city="Jersey City",
    medicines="none",
    goals="Play basketball with my team again.",
    interested=("prp", "dextrose-prolotherapy"),
)


def demo_candidate(case: Case, *, note: str) -> Case:
    """The case's physician claims it and asks to see the patient (new consultation,
    in person): it goes on the front desk's 'to schedule' list."""
    from intake.cases import CandidateDecision, case_claim, case_mark_candidate
    from intake.models import ReviewDecision

    physician = case.assigned_to
    assert physician is not None  # noqa: S101 (demo cases are routed first)
    case_claim(case=case, physician=physician)
    case_mark_candidate(
        case=case,
        physician=physician,
        decision=CandidateDecision(
            options=list(TreatmentOption.objects.filter(slug="prp")),
            consultation_type=ReviewDecision.ConsultationType.NEW,
            consultation_mode=ReviewDecision.ConsultationMode.IN_PERSON,
            urgency=ReviewDecision.Urgency.ROUTINE,
            message_to_patient="Your answers suggest PRP may help; let's discuss it in person.",
            internal_note=note,
        ),
    )
    case.refresh_from_db()
    return case


def demo_booking(case: Case, *, booked_by: User) -> "Consultation":
    """Books the case's consultation at the physician's first free 10 o'clock (or
    later) slot from tomorrow on, as the front desk would."""
    from clinic.models import PhysicianProfile
    from intake.models import Consultation, ConsultationType
    from intake.scheduling import consultation_book, free_slots

    assert case.assigned_to_id is not None  # noqa: S101 (a candidate case has its physician)
    profile = PhysicianProfile.objects.get(user_id=case.assigned_to_id)
    slots = free_slots(
        physician=profile,
        consultation_type=ConsultationType.objects.get(slug="new-consultation"),
        start_day=timezone.localdate() + timedelta(days=1),
        days=14,
    )
    slot = next(s for s in slots if s.local_start.hour >= 10)
    consultation: Consultation = consultation_book(
        case=case, starts_at=slot.starts_at, booked_by=booked_by
    )
    return consultation
