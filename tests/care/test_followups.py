"""Follow-ups: planned when a procedure is recorded (a repeat on the same target
starts a new series), opened, reminded and missed by the periodic task (each message
once, even under parallel runs), answered and scored on the server, escalated to the
physician, and honoured opt-outs."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from care.models import CareEvent, FollowUp, FollowUpContact, FollowUpTimepoint
from care.services import followups, procedures
from clinic.errors import ClinicError
from clinic.models import OutboundEmail
from tests.care.followup_helpers import answers, at_opening, treat
from tests.care.helpers import billing_provider
from tests.concurrency import race
from tests.factories import case_to_book, working_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(physician, patient):
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    return case_to_book(physician, patient=patient)


def test_the_schedule_is_admin_data_seeded_by_migration() -> None:
    rows = list(FollowUpTimepoint.objects.values_list("name", "days_after", "opens_days_before"))
    assert rows == [
        ("6 weeks", 42, 7),
        ("3 months", 91, 7),
        ("6 months", 182, 7),
        ("12 months", 365, 7),
    ]
    assert set(FollowUpTimepoint.objects.values_list("closes_days_after", flat=True)) == {28}


def test_recording_a_procedure_plans_four_follow_ups_against_the_intake(
    case, physician, front_desk
) -> None:
    record = treat(case, physician, front_desk)
    series = record.followup_series
    treated_on = timezone.localdate(record.performed_at)
    assert series.treated_on == treated_on
    # The intake: pain now 6 on the left knee; function answers all "best" (0% of
    # normal is the first option of that scale; "no difficulty" scores 100).
    assert (series.baseline_pain, series.baseline_function) == (6, Decimal("100.0"))
    planned = list(series.followups.order_by("due_on"))
    assert [(f.label, f.state) for f in planned] == [
        ("6 weeks", "planned"),
        ("3 months", "planned"),
        ("6 months", "planned"),
        ("12 months", "planned"),
    ]
    six_weeks = planned[0]
    assert six_weeks.due_on == treated_on + timedelta(days=42)
    assert six_weeks.opens_on == treated_on + timedelta(days=35)
    assert six_weeks.closes_on == treated_on + timedelta(days=70)
    assert CareEvent.objects.filter(case=case, kind="followups_planned").count() == 1


def test_a_changed_schedule_leaves_planned_follow_ups_alone(case, physician, front_desk) -> None:
    record = treat(case, physician, front_desk)
    FollowUpTimepoint.objects.filter(name="6 weeks").update(days_after=30)
    assert record.followup_series.followups.get(label="6 weeks").due_on == timezone.localdate(
        record.performed_at
    ) + timedelta(days=42)


def test_a_repeat_procedure_on_the_same_target_starts_a_new_series(
    case, physician, front_desk, patient
) -> None:
    first = treat(case, physician, front_desk)
    six_weeks = first.followup_series.followups.get(label="6 weeks")
    followups.followups_run(now=at_opening(six_weeks))
    six_weeks.refresh_from_db()
    followups.followup_answer(followup=six_weeks, patient=patient, answers=answers())
    second = treat(case, physician, front_desk, on=at_opening(six_weeks) + timedelta(days=10))
    old = first.followup_series
    old.refresh_from_db()
    assert old.closed_at is not None and "new series" in old.closed_reason
    states = dict(old.followups.values_list("label", "state"))
    assert states == {
        "6 weeks": "answered",
        "3 months": "closed",
        "6 months": "closed",
        "12 months": "closed",
    }
    assert "new procedure" in old.followups.get(label="3 months").closed_reason
    assert second.followup_series.followups.filter(state="planned").count() == 4
    assert CareEvent.objects.filter(case=case, kind="followups_closed").exists()


def _invitations(followup: FollowUp) -> int:
    return followup.contacts.filter(kind="invitation").count()


def test_the_task_opens_reminds_twice_then_marks_missed(case, physician, front_desk, patient):
    record = treat(case, physician, front_desk)
    six_weeks = record.followup_series.followups.get(label="6 weeks")
    opening = at_opening(six_weeks)
    # Before the window: nothing.
    assert followups.followups_run(now=opening - timedelta(days=1))["opened"] == 0
    emails = OutboundEmail.objects.filter(to=patient.email)
    before = emails.count()
    assert followups.followups_run(now=opening)["opened"] == 1
    assert followups.followups_run(now=opening + timedelta(hours=1)) == {
        "missed": 0,
        "opened": 0,
        "reminded": 0,
    }
    six_weeks.refresh_from_db()
    assert six_weeks.state == "open" and _invitations(six_weeks) == 1
    assert emails.count() == before + 1
    mail = emails.order_by("-pk")[0]
    assert str(six_weeks.public_id) in mail.body and "pain" not in mail.body.lower()
    assert followups.followups_run(now=opening + timedelta(days=3))["reminded"] == 1
    assert followups.followups_run(now=opening + timedelta(days=3, hours=2))["reminded"] == 0
    assert followups.followups_run(now=opening + timedelta(days=7))["reminded"] == 1
    assert followups.followups_run(now=opening + timedelta(days=20))["reminded"] == 0
    assert sorted(six_weeks.contacts.values_list("kind", flat=True)) == [
        "invitation",
        "reminder_1",
        "reminder_2",
    ]
    assert emails.count() == before + 3
    closes = timezone.make_aware(datetime.combine(six_weeks.closes_on + timedelta(days=1), time(9)))
    assert followups.followups_run(now=closes)["missed"] == 1
    six_weeks.refresh_from_db()
    assert six_weeks.state == "missed" and six_weeks.closed_at is not None
    assert CareEvent.objects.filter(case=case, kind="followup_missed").count() == 1


def test_a_text_only_with_a_mobile_number_and_agreement(
    case, physician, front_desk, patient
) -> None:
    record = treat(case, physician, front_desk)
    six_weeks = record.followup_series.followups.get(label="6 weeks")
    followups.followups_run(now=at_opening(six_weeks))
    assert six_weeks.contacts.get().texted is False
    followups.followup_preferences_save(patient=patient, texts_agreed=True, opted_out=False)
    followups.followups_run(now=at_opening(six_weeks) + timedelta(days=3))
    assert six_weeks.contacts.get(kind="reminder_1").texted is True


def test_opting_out_closes_unanswered_follow_ups_and_is_honoured(
    case, physician, front_desk, patient
) -> None:
    record = treat(case, physician, front_desk)
    followups.followup_preferences_save(patient=patient, texts_agreed=False, opted_out=True)
    series = record.followup_series
    assert set(series.followups.values_list("state", flat=True)) == {"closed"}
    assert "opted out" in series.followups.get(label="6 weeks").closed_reason
    six_weeks = series.followups.get(label="6 weeks")
    assert followups.followups_run(now=at_opening(six_weeks))["opened"] == 0
    assert not FollowUpContact.objects.exists()


def _open(record) -> FollowUp:
    six_weeks = record.followup_series.followups.get(label="6 weeks")
    followups.followups_run(now=at_opening(six_weeks))
    six_weeks.refresh_from_db()
    return six_weeks


def test_answers_are_scored_on_the_server(case, physician, front_desk, patient) -> None:
    six_weeks = _open(treat(case, physician, front_desk))
    response = followups.followup_answer(
        followup=six_weeks, patient=patient, answers=answers(pain=3, percent=70, activity=1)
    )
    # Daily activities: 8 items answered 1 of 4 -> 100 - 8/32 * 100 = 75.
    assert (response.pain, response.percent_normal, response.function_score) == (
        3,
        Decimal("70.0"),
        Decimal("75.0"),
    )
    assert response.needs_attention is False
    six_weeks.refresh_from_db()
    assert six_weeks.state == "answered"
    with pytest.raises(ClinicError, match="already answered"):
        followups.followup_answer(followup=six_weeks, patient=patient, answers=answers())


def test_incomplete_answers_and_other_patients_are_refused(
    case, physician, front_desk, other_patient
) -> None:
    six_weeks = _open(treat(case, physician, front_desk))
    partial = answers()
    partial.instruments["daily-activities"].pop(8)
    with pytest.raises(ClinicError, match="answer every question"):
        followups.followup_answer(followup=six_weeks, patient=case.patient, answers=partial)
    with pytest.raises(ClinicError, match="not yours"):
        followups.followup_answer(followup=six_weeks, patient=other_patient, answers=answers())
    with pytest.raises(ClinicError, match="compared with before"):
        followups.followup_answer(
            followup=six_weeks, patient=case.patient, answers=answers(global_change=5)
        )


def test_a_planned_follow_up_cannot_be_answered_yet(case, physician, front_desk, patient) -> None:
    record = treat(case, physician, front_desk)
    planned = record.followup_series.followups.get(label="3 months")
    with pytest.raises(ClinicError, match="not open"):
        followups.followup_answer(followup=planned, patient=patient, answers=answers())


@pytest.mark.parametrize(
    ("overrides", "needs", "reason"),
    [
        ({"pain": 7}, False, ""),  # 1 worse than the baseline 6: not yet
        ({"pain": 8}, True, "Pain 8/10, 2 worse"),
        ({"fever": True}, True, "A fever"),
        ({"saw_doctor": True, "pain": 1}, True, "visit to a doctor"),
    ],
)
def test_escalation_on_a_complication_or_pain_two_points_worse(
    case, physician, front_desk, patient, overrides, needs, reason
) -> None:
    six_weeks = _open(treat(case, physician, front_desk))
    response = followups.followup_answer(
        followup=six_weeks, patient=patient, answers=answers(**overrides)
    )
    assert response.needs_attention is needs
    assert reason in response.attention_reason
    assert (FollowUp.objects.needing_attention().filter(pk=six_weeks.pk).exists()) is needs
    if needs:
        followups.followup_attention_review(followup=six_weeks, physician=physician)
        assert not FollowUp.objects.needing_attention().exists()


def test_only_the_cases_physician_reviews(case, physician, other_physician, front_desk, patient):
    six_weeks = _open(treat(case, physician, front_desk))
    followups.followup_answer(followup=six_weeks, patient=patient, answers=answers(fever=True))
    with pytest.raises(ClinicError, match="Only the physician"):
        followups.followup_attention_review(followup=six_weeks, physician=other_physician)


def test_the_front_desk_records_calls_on_open_follow_ups_only(
    case, physician, front_desk, patient
) -> None:
    six_weeks = _open(treat(case, physician, front_desk))
    call = followups.followup_call_record(
        followup=six_weeks, by=front_desk, result="left_message", note="Voicemail"
    )
    assert call.get_result_display() == "Left a message"
    with pytest.raises(ClinicError, match="Only the front desk"):
        followups.followup_call_record(followup=six_weeks, by=patient, result="no_answer", note="")
    followups.followup_answer(followup=six_weeks, patient=patient, answers=answers())
    with pytest.raises(ClinicError, match="no longer open"):
        followups.followup_call_record(
            followup=six_weeks, by=front_desk, result="no_answer", note=""
        )


def test_the_window_dates_follow_the_local_procedure_day() -> None:
    timepoint = FollowUpTimepoint(days_after=91, opens_days_before=7, closes_days_after=28)
    assert followups.window(timepoint, date(2027, 1, 10)) == (
        date(2027, 4, 4),
        date(2027, 4, 11),
        date(2027, 5, 9),
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_runs_send_each_message_once(physician, patient, front_desk) -> None:
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    record = treat(case_to_book(physician, patient=patient), physician, front_desk)
    six_weeks = record.followup_series.followups.get(label="6 weeks")
    emails = OutboundEmail.objects.filter(to=patient.email)
    before = emails.count()
    opening = at_opening(six_weeks)
    results = race(lambda _: followups.followups_run(now=opening), n=4)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sum(r["opened"] for r in results if isinstance(r, dict)) == 1
    results = race(lambda _: followups.followups_run(now=opening + timedelta(days=3)), n=4)
    assert sum(r["reminded"] for r in results if isinstance(r, dict)) == 1
    assert six_weeks.contacts.count() == 2
    assert emails.count() == before + 2
    assert connection.vendor == "postgresql"


def test_the_beat_schedule_runs_the_task(settings) -> None:
    from care import tasks

    assert settings.CELERY_BEAT_SCHEDULE["followups"]["task"] == "care.tasks.run_followups"
    with time_machine.travel(timezone.now(), tick=False):
        assert tasks.run_followups.delay().get() == {"missed": 0, "opened": 0, "reminded": 0}


@pytest.mark.parametrize(
    ("baseline", "pain", "verdict"),
    [
        (6, 4, "improved"),  # 2 points and 33%
        (7, 5, ""),  # 2 points but 29%: not yet meaningful
        (10, 7, "improved"),  # 3 points, 30%
        (3, 1, "improved"),  # 2 points, 67%
        (2, 1, ""),  # 1 point
        (6, 8, "worse"),
        (6, 7, ""),
        (None, 3, ""),  # no baseline, no verdict
    ],
)
def test_the_mcid_rule(baseline, pain, verdict) -> None:
    from care.outcomes import pain_verdict

    assert pain_verdict(baseline, pain) == verdict


def test_a_rescheduled_procedure_is_followed_from_the_day_it_was_done(
    case, physician, front_desk
) -> None:
    from care.services.procedure_records import ProcedureDetails, procedure_record
    from intake.scheduling import consultation_reschedule, free_slots
    from tests.care.helpers import shared_plan
    from treatments.models import BodyRegion, TreatmentOption

    shared_plan(case, physician, "prp")
    slots = free_slots(
        physician=physician.physician_profile,
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=3),
        days=10,
    )
    booked = procedures.procedure_book(
        case=case, starts_at=slots[0].starts_at, booked_by=front_desk
    )
    later = next(
        s.starts_at
        for s in slots
        if s.starts_at.date() > slots[0].starts_at.date() + timedelta(days=2)
    )
    moved = consultation_reschedule(consultation=booked, starts_at=later, by=front_desk)
    with time_machine.travel(moved.starts_at + timedelta(minutes=40), tick=False):
        record = procedure_record(
            consultation=moved,
            physician=physician,
            details=ProcedureDetails(
                performed_at=moved.starts_at + timedelta(minutes=10),
                option=TreatmentOption.objects.get(slug="prp"),
                body_region=BodyRegion.objects.get(slug="knee"),
                side="left",
                guidance="ultrasound",
                volume_injected_ml=Decimal("5.0"),
            ),
        )
    six_weeks = record.followup_series.followups.get(label="6 weeks")
    assert six_weeks.due_on == timezone.localdate(later) + timedelta(days=42)
