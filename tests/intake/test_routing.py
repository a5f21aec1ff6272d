"""Routing (issue 4): eligibility, continuity, least-loaded, round-robin, the pool,
priority from the red-flag and contraindication data, and escalation of overdue cases."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from clinic.models import OutboundEmail
from clinic.roles import Role
from intake import cases, services
from intake.models import Case, CaseEvent, ScreeningAnswer
from intake.routing import business_days_after, case_route, cases_escalate_overdue
from tests.factories import (
    PhysicianFactory,
    UserFactory,
    intake_ready_to_sign,
    signature_for,
    submitted_case,
)
from treatments.models import Contraindication, Priority

NEW_YORK = ZoneInfo("America/New_York")


def new_york(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def new_patient():
    return UserFactory.create(role=Role.PATIENT)


def routed_note(case):
    return case.events.get(kind=CaseEvent.Kind.ROUTED).note


def test_a_case_goes_to_the_physician_who_takes_its_region(physician, other_physician):
    case = submitted_case(new_patient(), region="spine")
    assert case.assigned_to == other_physician
    assert case.state == Case.State.SUBMITTED
    name = other_physician.physician_profile.display_name
    assert routed_note(case) == (
        f"Routed to {name}: takes spine (neck and back) cases; 0 open cases, fewest of 1 eligible"
    )


def test_routing_on_commit_after_submit(patient, physician, django_capture_on_commit_callbacks):
    intake = intake_ready_to_sign(patient)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.intake_submit(intake=intake, signature=signature_for(intake))
    case.refresh_from_db()
    assert case.assigned_to == physician
    assert case.routed_at is not None


def test_routing_twice_changes_nothing(physician):
    case = submitted_case(new_patient())
    case_route(case_id=case.pk)
    assert case.events.filter(kind=CaseEvent.Kind.ROUTED).count() == 1


def _deactivate(profile):
    profile.user.is_active = False
    profile.user.save()


def _stop_accepting(profile):
    profile.accepting_new_cases = False
    profile.save()


@pytest.mark.parametrize(
    "make_ineligible",
    [
        pytest.param(_deactivate, id="inactive"),
        pytest.param(_stop_accepting, id="not-accepting"),
        pytest.param(lambda profile: profile.body_regions.clear(), id="other-regions"),
    ],
)
def test_an_ineligible_physician_gets_nothing_and_the_pool_takes_it(
    physician, clinic_admin, make_ineligible
):
    make_ineligible(physician.physician_profile)
    case = submitted_case(new_patient())
    assert case.assigned_to is None
    assert routed_note(case).startswith("Unassigned pool: ")
    assert OutboundEmail.objects.filter(
        to=clinic_admin.email, subject__contains="unassigned pool"
    ).exists()


def test_a_physician_at_their_maximum_is_skipped(physician):
    profile = physician.physician_profile
    profile.max_open_cases = 1
    profile.save()
    first = submitted_case(new_patient())
    second = submitted_case(new_patient())
    assert first.assigned_to == physician
    assert second.assigned_to is None
    assert "at their maximum" in routed_note(second)


def test_the_least_loaded_eligible_physician_gets_the_case(physician):
    busy = physician
    for _ in range(2):
        submitted_case(new_patient())
    idle = PhysicianFactory.create(regions=["knee"]).user
    case = submitted_case(new_patient())
    assert case.assigned_to == idle
    assert Case.objects.open_for(busy).count() == 2
    assert "fewest of 2 eligible" in routed_note(case)


def test_ties_are_taken_in_turn(physician):
    second = PhysicianFactory.create(regions=["knee"]).user
    # Each case is decided at once so both physicians stay at zero open cases.
    owners = []
    for _ in range(4):
        case = submitted_case(new_patient())
        owners.append(case.assigned_to)
        cases.case_mark_not_candidate(
            case=case, physician=case.assigned_to, reason="test", message_to_patient="Sorry."
        )
    assert owners[0] != owners[1]
    assert owners == [owners[0], owners[1], owners[0], owners[1]]
    assert {physician, second} == set(owners)
    assert "taken in turn" in routed_note(Case.objects.filter(assigned_to=owners[0]).first())


def test_a_returning_patient_goes_back_to_their_physician(physician, patient):
    other = PhysicianFactory.create(regions=["knee"]).user
    first = submitted_case(patient)
    reviewer = first.assigned_to
    cases.case_mark_not_candidate(
        case=first, physician=reviewer, reason="Too early", message_to_patient="Try PT first."
    )
    # Give the reviewer more open cases than the other physician: continuity still wins.
    for _ in range(2):
        extra = submitted_case(new_patient(), route=False)
        Case.objects.filter(pk=extra.pk).update(assigned_to=reviewer, routed_at=timezone.now())
    again = submitted_case(patient)
    assert again.assigned_to == reviewer
    assert f"reviewed this patient's earlier case {first.reference}" in routed_note(again)
    assert {physician, other} >= {reviewer}


def test_continuity_gives_way_when_the_earlier_physician_is_not_eligible(physician, patient):
    first = submitted_case(patient)
    cases.case_mark_not_candidate(
        case=first, physician=physician, reason="Too early", message_to_patient="Try PT first."
    )
    physician.physician_profile.accepting_new_cases = False
    physician.physician_profile.save()
    other = PhysicianFactory.create(regions=["knee"]).user
    again = submitted_case(patient)
    assert again.assigned_to == other


def test_a_red_flag_makes_the_case_urgent_and_e_mails_the_physician(physician):
    case = submitted_case(new_patient(), symptoms={"hot-swollen-joint-with-fever": "yes"})
    assert case.priority == Priority.URGENT
    assert case.priority_reason == "Urgent: A joint that became hot, swollen and very painful."
    urgent = OutboundEmail.objects.get(to=physician.email, subject__startswith="Urgent case")
    assert case.reference in urgent.subject


def test_not_sure_about_a_red_flag_is_high(physician):
    case = submitted_case(new_patient(), symptoms={"new-weakness-or-numbness": "unsure"})
    assert case.priority == Priority.HIGH
    assert "patient not sure" in case.priority_reason
    assert not OutboundEmail.objects.filter(subject__startswith="Urgent case").exists()


def test_a_hard_stop_is_high_and_a_caution_stays_routine(physician):
    hard = submitted_case(new_patient(), screening={"platelet-disorder": "yes"})
    caution = submitted_case(new_patient(), screening={"anticoagulant": "yes"})
    assert hard.priority == Priority.HIGH
    assert hard.priority_reason == f"High: hard stop: {hard.flags.get().rule}."
    assert caution.priority == Priority.ROUTINE


@pytest.mark.parametrize("rule", ["pregnancy", "infection"])
def test_not_sure_to_a_hard_stop_raises_it_as_a_yes_would(physician, rule):
    """A hard stop the patient is not sure about stays a hard stop until the physician
    confirms (issue 18), so it reaches the physician as soon as a 'yes' would."""
    sure = submitted_case(new_patient(), screening={rule: "yes"})
    unsure = submitted_case(new_patient(), screening={rule: "unsure"})
    assert unsure.priority == sure.priority == Priority.HIGH
    assert (
        unsure.priority_reason == f"High: hard stop: {unsure.flags.get().rule} (patient not sure)."
    )


def test_not_sure_to_a_caution_stays_routine(physician):
    case = submitted_case(new_patient(), screening={"anticoagulant": "unsure"})
    assert case.priority == Priority.ROUTINE


def test_urgent_outranks_high(physician):
    case = submitted_case(
        new_patient(),
        screening={"platelet-disorder": "yes"},
        symptoms={"saddle-numbness-bladder-bowel": "yes"},
    )
    assert case.priority == Priority.URGENT
    assert "hard stop" not in case.priority_reason


def test_an_overdue_routine_case_is_raised_to_high_once(physician):
    case = submitted_case(new_patient())
    waiting = submitted_case(new_patient())
    assert case.priority == Priority.ROUTINE
    later = case.review_due_at + timedelta(minutes=1)
    Case.objects.filter(pk=waiting.pk).update(review_due_at=later + timedelta(hours=1))
    assert cases_escalate_overdue(now=later) == 1
    assert cases_escalate_overdue(now=later) == 0
    case.refresh_from_db()
    assert case.priority == Priority.HIGH
    assert "review target" in case.priority_reason
    assert case.events.filter(kind=CaseEvent.Kind.PRIORITY_CHANGED).count() == 1
    waiting.refresh_from_db()
    assert waiting.priority == Priority.ROUTINE


def test_a_case_waiting_for_the_patient_is_not_escalated(physician):
    case = submitted_case(new_patient())
    cases.case_request_information(case=case, physician=physician, question="Which knee?")
    assert cases_escalate_overdue(now=case.review_due_at + timedelta(days=30)) == 0


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # Friday morning plus two working days is Tuesday morning.
        (new_york(2026, 11, 20, 9, 30), 2, new_york(2026, 11, 24, 9, 30)),
        # Saturday counts from Monday.
        (new_york(2026, 11, 21, 15, 0), 1, new_york(2026, 11, 23, 15, 0)),
        # Across the autumn change (1 Nov 2026) and the spring one (8 Mar 2026): same wall time.
        (new_york(2026, 10, 30, 16, 0), 2, new_york(2026, 11, 3, 16, 0)),
        (new_york(2026, 3, 6, 16, 0), 2, new_york(2026, 3, 10, 16, 0)),
    ],
)
def test_business_days_keep_the_local_time(settings, start, days, due):
    settings.TIME_ZONE = "America/New_York"
    with timezone.override(NEW_YORK):
        result = business_days_after(start, days)
    # Compared in UTC: aware datetimes sharing one tzinfo compare by wall clock only.
    assert result.astimezone(UTC) == due.astimezone(UTC)


def test_the_beat_schedule_names_the_escalation_task(physician):
    from clinic.celery import app
    from intake.tasks import escalate_overdue_cases

    entry = app.conf.beat_schedule["escalate-overdue-cases"]
    assert entry["task"] == escalate_overdue_cases.name
    case = submitted_case(new_patient())
    Case.objects.filter(pk=case.pk).update(review_due_at=timezone.now() - timedelta(minutes=1))
    assert escalate_overdue_cases.delay().get() == 1


# --- Every combination of answers submits (issue 17) ----------------------------------------

ANSWERS = [ScreeningAnswer.Answer.YES, ScreeningAnswer.Answer.NO, ScreeningAnswer.Answer.UNSURE]


def expected_priority(screening: dict[str, str], symptoms: dict[str, str]) -> tuple[int, list[str]]:
    """Worked out from the catalog alone: the highest priority any answer raises,
    and the names behind it ('not sure' to a red flag raises high; a hard stop's
    rule, answered yes or not sure, raises its own; a caution none)."""
    found: list[tuple[int, str]] = []
    for flag in services.red_flag_questions():
        if symptoms[flag.slug] == ScreeningAnswer.Answer.YES:
            found.append((flag.raises_priority, flag.name))
        elif symptoms[flag.slug] == ScreeningAnswer.Answer.UNSURE:
            found.append((Priority.HIGH, flag.name))
    for rule in services.screening_questions():
        answer = screening[rule.slug]
        raised = answer == ScreeningAnswer.Answer.YES or (
            answer == ScreeningAnswer.Answer.UNSURE
            and rule.severity == Contraindication.Severity.HARD_STOP
        )
        if raised and rule.raises_priority < Priority.ROUTINE:
            found.append((rule.raises_priority, rule.name))
    if not found:
        return Priority.ROUTINE, []
    top = min(level for level, _ in found)
    return top, [name for level, name in found if level == top]


def submits_and_routes(physician, screening: dict[str, str], symptoms: dict[str, str]) -> None:
    with transaction.atomic():
        case = submitted_case(new_patient(), screening=screening, symptoms=symptoms)
        priority, names = expected_priority(screening, symptoms)
        assert case.assigned_to == physician and case.routed_at is not None
        assert case.priority == priority
        assert all(name in case.priority_reason for name in names)
        if names:
            assert case.priority_reason.startswith(f"{Priority(priority).label}:")
        else:
            assert case.priority_reason == "No red flags and no hard stops."
        transaction.set_rollback(True)


def catalog_slugs() -> tuple[list[str], list[str]]:
    rules = [rule.slug for rule in services.screening_questions()]
    return rules, [flag.slug for flag in services.red_flag_questions()]


@pytest.mark.parametrize("answer", ANSWERS)
def test_the_same_answer_to_every_question_submits_and_routes(physician, answer):
    """'Not sure' to everything is the patient of issue 17."""
    rules, flags = catalog_slugs()
    submits_and_routes(physician, dict.fromkeys(rules, answer), dict.fromkeys(flags, answer))


@hypothesis_settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_combination_of_answers_submits_and_routes(physician, data):
    """Each screening and red-flag question answered yes, no or not sure, in any
    combination: the intake submits, the case is routed, and its priority and
    reasons are those the answers raise."""
    rules, flags = catalog_slugs()

    def answers(slugs: list[str], label: str) -> dict[str, str]:
        chosen = st.fixed_dictionaries({slug: st.sampled_from(ANSWERS) for slug in slugs})
        return data.draw(chosen, label=label)

    submits_and_routes(physician, answers(rules, "screening"), answers(flags, "red flags"))


def test_a_patient_unsure_of_every_red_flag_submits_and_the_case_page_lists_each(client, physician):
    unsure = {flag.slug: "unsure" for flag in services.red_flag_questions()}
    case = submitted_case(new_patient(), symptoms=unsure)
    assert case.priority == Priority.HIGH
    assert len(case.priority_reason) > 300  # what the old column could not hold
    client.force_login(physician)
    page = client.get(reverse("review:case", kwargs={"public_id": case.public_id}))
    body = page.content.decode()
    for flag in services.red_flag_questions():
        assert f"{flag.name} (patient not sure)" in body
