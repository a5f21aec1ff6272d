from datetime import date
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group
from factory.django import DjangoModelFactory

from clinic.models import PhysicianProfile, User
from clinic.roles import GROUP_NAMES, Role
from treatments.models import BodyRegion

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@clinic.example")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(obj: User, create: bool, extracted: Role | None, **kwargs: Any) -> None:
        if create and extracted is not None:
            obj.groups.add(Group.objects.get(name=GROUP_NAMES[extracted]))


class PhysicianFactory(DjangoModelFactory[PhysicianProfile]):
    class Meta:
        model = PhysicianProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory, role=Role.PHYSICIAN)
    display_name = factory.LazyAttribute(lambda profile: f"Dr {profile.user.full_name}")

    @factory.post_generation
    def regions(
        obj: PhysicianProfile, create: bool, extracted: list[str] | None, **kw: Any
    ) -> None:
        if create and extracted:
            obj.body_regions.set(BodyRegion.objects.filter(slug__in=extracted))


# --- Intakes -----------------------------------------------------------------------
# Built through the same services the pages use, so a test intake is always one a
# patient could have produced.


def intake_ready_to_sign(
    patient: User,
    *,
    screening: dict[str, str] | None = None,
    symptoms: dict[str, str] | None = None,
    region: str = "knee",
    **about: Any,
) -> Any:
    """A draft with steps 1-7 complete (one painful area in ``region``; screening and
    red-flag answers default to 'no'), by a patient whose e-mail address is confirmed."""
    from django.utils import timezone

    from intake import services
    from intake.models import Instrument, PriorTreatment

    if patient.email_verified_at is None:
        patient.email_verified_at = timezone.now()
        patient.save(update_fields=["email_verified_at"])
    intake = services.intake_start(patient=patient)
    painful = BodyRegion.objects.get(slug=region)
    services.intake_about_save(
        intake=intake, data={**ABOUT_YOU, "legal_name": patient.full_name, **about}
    )
    services.intake_complaints_save(
        intake=intake,
        complaints=[
            services.ComplaintAnswer(
                body_region_id=painful.pk,
                side="left",
                condition_id=None,
                started_on=date(2024, 3, 1),
                onset="gradual",
                pain_now=6,
                pain_worst_week=8,
            )
        ],
    )
    services.intake_function_save(
        intake=intake,
        answers={
            instrument.pk: {
                item.position: instrument.options.values_list("value", flat=True)[0]
                for item in instrument.items.all()
            }
            for instrument in Instrument.objects.filter(in_intake=True, is_active=True)
        },
    )
    services.intake_prior_treatments_save(
        intake=intake,
        treatments=[
            services.PriorTreatmentAnswer(kind=kind, tried=False)
            for kind in PriorTreatment.Kind.values
        ],
    )
    answers = {
        rule.pk: (screening or {}).get(rule.slug, "no") for rule in services.screening_questions()
    }
    services.intake_health_save(
        intake=intake,
        answers=answers,
        red_flags={
            flag.pk: (symptoms or {}).get(flag.slug, "no") for flag in services.red_flag_questions()
        },
        data={"current_medicines": "none", "allergies": "", "other_conditions": ""},
    )
    services.intake_imaging_save(intake=intake, status="no", studies=[])
    services.intake_goals_save(
        intake=intake,
        data={
            "goals": "Hiking again",
            "preferred_days": ["mon"],
            "preferred_times": ["morning"],
            "payment": "self_pay",
            "insurance_carrier": "",
            "insurance_member_id": "",
        },
        interested=[],
    )
    intake.refresh_from_db()
    return intake


def submitted_case(
    patient: User,
    *,
    route: bool = True,
    region: str = "knee",
    screening: dict[str, str] | None = None,
    symptoms: dict[str, str] | None = None,
) -> Any:
    """A signed, submitted intake's case, routed as on commit unless ``route`` is off
    (in a test that commits, routing runs on commit whatever ``route`` says)."""
    from intake import services
    from intake.routing import case_route

    intake = intake_ready_to_sign(patient, region=region, screening=screening, symptoms=symptoms)
    case = services.intake_submit(intake=intake, signature=signature_for(intake))
    return case_route(case_id=case.pk) if route else case


def signature_for(intake: Any, **overrides: Any) -> Any:
    from intake import services

    consent = services.current_consent()
    values: dict[str, Any] = {
        "name": intake.legal_name,
        "ip_address": "203.0.113.9",
        "consent_version": consent.version,
        "consent_language": consent.language,
        "acknowledged_risks": True,
        "acknowledged_cost": True,
        "acknowledged_regulatory": True,
    }
    return services.Signature(**(values | overrides))


ABOUT_YOU: dict[str, Any] = {
    "date_of_birth": date(1970, 5, 17),
    "sex": "female",
    "phone": "+12015550123",
    "address_line1": "1 Main Street",
    "address_line2": "",
    "city": "Springfield",
    "region": "NJ",
    "postal_code": "07081",
    "emergency_contact_name": "Sam Patient",
    "emergency_contact_relationship": "Spouse",
    "emergency_contact_phone": "+12015550199",
    "unit_system": "metric",
    "height_cm": Decimal("170.0"),
    "weight_kg": Decimal("72.5"),
}


def working_hours(
    profile: PhysicianProfile,
    *,
    weekdays: Any = range(5),
    starts: Any = None,
    ends: Any = None,
    location: str = "Main clinic",
) -> None:
    """Weekly windows for the physician (by default Monday to Friday, 09:00-17:00)."""
    from datetime import time

    from clinic.models import WorkingHours

    for weekday in weekdays:
        WorkingHours.objects.create(
            physician=profile,
            weekday=weekday,
            starts=starts or time(9),
            ends=ends or time(17),
            location=location,
        )


def case_to_book(physician: User, patient: User | None = None, mode: str = "in_person") -> Any:
    """A submitted case the physician marked a candidate for a new consultation:
    it is on the front desk's 'to schedule' list."""
    from intake import cases
    from intake.models import ReviewDecision
    from treatments.models import TreatmentOption

    case = submitted_case(patient or UserFactory.create(role=Role.PATIENT))
    cases.case_mark_candidate(
        case=case,
        physician=physician,
        decision=cases.CandidateDecision(
            options=list(TreatmentOption.objects.filter(slug="prp")),
            consultation_type=ReviewDecision.ConsultationType.NEW,
            consultation_mode=mode,
            urgency=ReviewDecision.Urgency.ROUTINE,
        ),
    )
    case.refresh_from_db()
    return case
