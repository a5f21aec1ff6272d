"""Treated patients, as the pages make them: a shared plan, a booked procedure and
its record on the day (the record plans the follow-ups), and answers to a follow-up."""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import time_machine
from django.utils import timezone

from care.models import FollowUp, ProcedureRecord
from care.services import procedures
from care.services.followups import COMPLICATIONS, FollowUpAnswers
from care.services.procedure_records import ProcedureDetails, procedure_record
from clinic.models import User
from intake.models import Case
from intake.scheduling import free_slots
from tests.care.helpers import shared_plan
from treatments.models import BodyRegion, TreatmentOption


def treat(
    case: Case,
    physician: User,
    front_desk: User,
    *,
    on: datetime | None = None,
    slug: str = "prp",
    side: str = "left",
) -> ProcedureRecord:
    """Books the plan's procedure a few days after ``on`` (default: now) and records
    it on its day (left knee, PRP): the record plans the follow-ups."""
    on = on or timezone.now()
    with time_machine.travel(on, tick=False):
        if not case.treatment_plans.shared().exists():
            shared_plan(case, physician, slug)
        starts_at = free_slots(
            physician=physician.physician_profile,
            consultation_type=procedures.procedure_type(),
            start_day=timezone.localdate() + timedelta(days=3),
            days=5,
        )[0].starts_at
        consultation = procedures.procedure_book(
            case=case, starts_at=starts_at, booked_by=front_desk
        )
    with time_machine.travel(consultation.starts_at + timedelta(minutes=40), tick=False):
        return procedure_record(
            consultation=consultation,
            physician=physician,
            details=ProcedureDetails(
                performed_at=consultation.starts_at + timedelta(minutes=10),
                option=TreatmentOption.objects.get(slug=slug),
                body_region=BodyRegion.objects.get(slug="knee"),
                side=side,
                guidance="ultrasound",
                volume_injected_ml=Decimal("5.0"),
            ),
        )


def answers(
    pain: int = 3, percent: int = 70, activity: int = 1, **overrides: Any
) -> FollowUpAnswers:
    """A complete set: ``pain`` 0-10, percent of normal, one value for every
    daily-activities item (0 no difficulty .. 4 unable); complications all "no"."""
    values: dict[str, Any] = {
        "instruments": {
            "pain-nrs": {1: pain},
            "percent-of-normal": {1: percent},
            "daily-activities": dict.fromkeys(range(1, 9), activity),
        },
        "global_change": 2,
        "redness_swelling": False,
        "fever": False,
        "new_pain": False,
        "saw_doctor": False,
    }
    return FollowUpAnswers(**(values | overrides))


def at_opening(followup: FollowUp, hours: int = 10) -> datetime:
    """Local ``hours`` o'clock on the day the follow-up's window opens."""
    return timezone.make_aware(
        datetime.combine(followup.opens_on, datetime.min.time()) + timedelta(hours=hours)
    )


def open_six_weeks(record: ProcedureRecord) -> FollowUp:
    """Runs the periodic task on the day the 6-week window opens."""
    from care.services.followups import followups_run

    six_weeks = record.followup_series.followups.get(label="6 weeks")
    followups_run(now=at_opening(six_weeks))
    six_weeks.refresh_from_db()
    return six_weeks


def form_data(form_answers: FollowUpAnswers | None = None, **overrides: str) -> dict[str, str]:
    """The questionnaire page's POST for ``form_answers`` (default: ``answers()``)."""
    from intake.models import Instrument

    given = form_answers or answers()
    data: dict[str, str] = {}
    for slug, items in given.instruments.items():
        instrument = Instrument.objects.get(slug=slug)
        for position, value in items.items():
            data[f"q{instrument.pk}_{position}"] = str(value)
    data["global_change"] = str(given.global_change)
    for name in COMPLICATIONS:
        data[name] = "yes" if getattr(given, name) else "no"
    return data | overrides
