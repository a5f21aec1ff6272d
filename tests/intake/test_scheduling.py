"""Consultations (issue 5): free slots across time off, bookings and daylight-saving
changes; booking and its changes; the exclusion constraint; two front-desk users on
one slot; reminders sent once; the .ics invitation.

No date here is written down: booking refuses past times, so a test that books on a
fixed day starts failing once that day has gone by. Every time is counted from the
``clock`` fixture, which freezes the clock at 08:00 of the day the tests run, and
again a year later (issue 17)."""

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError, OperationalError, transaction
from django.utils import dateformat, timezone
from icalendar import Calendar

from clinic.errors import ClinicError
from clinic.models import OutboundEmail, TimeOff, WorkingHours
from clinic.roles import Role
from intake import scheduling
from intake.models import (
    Case,
    CaseEvent,
    Consultation,
    ConsultationChangeRequest,
    ConsultationType,
)
from intake.notifications import consultation_calendar
from intake.scheduling import (
    SlotTaken,
    change_request_close,
    consultation_book,
    consultation_change_request,
    consultation_move,
    consultation_reschedule,
    free_slots,
    reminders_send,
    suggested_slots,
)
from tests.concurrency import race
from tests.factories import UserFactory, case_to_book, working_hours

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _clinic_in_new_york(settings):
    settings.TIME_ZONE = "America/New_York"
    with timezone.override(NEW_YORK):
        yield


@dataclass(frozen=True)
class Clock:
    """The clock a test runs at: ``now`` is 08:00 in New York; times are counted in
    days from ``monday``, the Monday of the week after (1 to 7 days ahead), so a
    test sees a whole working week in the future whatever weekday it runs on."""

    now: datetime
    traveller: time_machine.Traveller

    def move_to(self, moment: datetime) -> None:
        """Moves the clock (it keeps ticking from there)."""
        self.traveller.move_to(moment.astimezone(UTC))

    @property
    def monday(self) -> date:
        today = self.now.date()
        return today + timedelta(days=7 - today.weekday())

    def day(self, offset: int) -> date:
        return self.monday + timedelta(days=offset)

    def at(self, offset: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.day(offset), time(hour, minute), tzinfo=NEW_YORK)


@pytest.fixture(params=[0, 1], ids=["today", "a-year-ahead"])
def clock(request) -> Iterator[Clock]:
    """Today, and the same day a year later: what the tests do must not depend on
    the date CI runs them. The clock ticks from 08:00 so events keep their order."""
    today = datetime.now(NEW_YORK).date()
    if request.param:
        today = today + timedelta(days=365 * request.param)
    now = datetime.combine(today, time(8), tzinfo=NEW_YORK)
    # Travel to the UTC instant: a destination with a ZoneInfo would also change
    # the process's time zone.
    with time_machine.travel(now.astimezone(UTC), tick=True) as traveller:
        yield Clock(now, traveller)


def weekdays_nine_to_five(profile, location="Main clinic"):
    working_hours(profile, location=location)


def new_consultation():
    return ConsultationType.objects.get(slug="new-consultation")


# --- Free slots --------------------------------------------------------------------------


def test_slots_fill_the_working_window_on_a_grid(clock, physician):
    profile = physician.physician_profile
    WorkingHours.objects.create(physician=profile, weekday=0, starts=time(9), ends=time(11))
    slots = free_slots(
        physician=profile,
        consultation_type=new_consultation(),
        start_day=clock.day(0),  # a Monday
        days=7,
    )
    starts = [timezone.localtime(s.starts_at).strftime("%a %H:%M") for s in slots]
    # 45 minutes in 09:00-11:00 on a 15-minute grid; nothing on the other days.
    assert starts == ["Mon 09:00", "Mon 09:15", "Mon 09:30", "Mon 09:45", "Mon 10:00", "Mon 10:15"]


def test_time_off_bookings_and_the_past_are_not_free(clock, physician, front_desk, settings):
    settings.BOOKING_MINIMUM_NOTICE_MINUTES = 0  # the notice has its own test
    profile = physician.physician_profile
    WorkingHours.objects.create(physician=profile, weekday=0, starts=time(9), ends=time(12))
    TimeOff.objects.create(physician=profile, starts_at=clock.at(0, 9), ends_at=clock.at(0, 10))
    follow_up = ConsultationType.objects.get(slug="follow-up")  # 20 minutes
    case = case_to_book(physician)
    Consultation.objects.create(
        case=case,
        patient=case.patient,
        physician=physician,
        consultation_type=follow_up,
        mode="in_person",
        starts_at=clock.at(0, 11),
        ends_at=clock.at(0, 11, 20),
        booked_by=front_desk,
    )
    slots = free_slots(
        physician=profile,
        consultation_type=follow_up,
        start_day=clock.day(0),
        days=1,
        now=clock.at(0, 10, 10),
    )
    starts = [timezone.localtime(s.starts_at).strftime("%H:%M") for s in slots]
    # Before 10:10 is past or time off; 10:45 would run into the 11:00 booking, 11:15
    # into its end at 11:20; 11:45 would end after noon.
    assert starts == ["10:15", "10:30", "11:30"]
    assert "11:00" not in starts and "10:45" not in starts


def monday_after_clock_change(after: date, *, spring: bool) -> date:
    """The Monday after the next Sunday on which New York's clocks go forward
    (spring) or back (the change is at 02:00, between two noons)."""

    def noon_offset(day: date) -> timedelta:
        return datetime.combine(day, time(12), tzinfo=NEW_YORK).utcoffset() or timedelta(0)

    day = after
    while True:
        before, after_change = noon_offset(day), noon_offset(day + timedelta(days=1))
        if before != after_change and (after_change > before) == spring:
            return day + timedelta(days=2)
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("spring", "utc_hours"),
    [
        # The Monday after the spring change: 09:00 EDT is 13:00 UTC; the Friday
        # before it, 09:00 EST was 14:00 UTC.
        (True, (14, 13)),
        # The Monday after the autumn change: 09:00 EST is 14:00 UTC.
        (False, (13, 14)),
    ],
    ids=["spring", "autumn"],
)
def test_slots_keep_the_wall_clock_across_daylight_saving(clock, physician, spring, utc_hours):
    profile = physician.physician_profile
    weekdays_nine_to_five(profile)
    monday = monday_after_clock_change(clock.now.date(), spring=spring)
    assert monday.weekday() == 0
    friday = monday - timedelta(days=3)
    slots = free_slots(
        physician=profile,
        consultation_type=new_consultation(),
        start_day=friday,
        days=4,
        # The change may be months away, beyond the booking horizon: the search runs
        # as of the day before.
        now=datetime.combine(friday - timedelta(days=1), time(8), tzinfo=NEW_YORK),
    )
    first = {timezone.localtime(s.starts_at).date(): s for s in reversed(slots)}
    assert timezone.localtime(first[friday].starts_at).time() == time(9)
    assert timezone.localtime(first[monday].starts_at).time() == time(9)
    assert (
        first[friday].starts_at.astimezone(ZoneInfo("UTC")).hour,
        first[monday].starts_at.astimezone(ZoneInfo("UTC")).hour,
    ) == utc_hours
    assert all(s.starts_at.utcoffset() is not None for s in slots)


def test_suggestions_are_the_patient_s_preferred_times_spread_over_days(clock, physician):
    weekdays_nine_to_five(physician.physician_profile)
    slots = free_slots(
        physician=physician.physician_profile,
        consultation_type=new_consultation(),
        start_day=clock.day(0),
        days=14,
    )
    chosen, preferred = suggested_slots(slots, days=["tue", "thu"], times=["morning"])
    starts = [timezone.localtime(s.starts_at) for s in chosen]
    # Tuesday, Thursday and the next Tuesday, two mornings each.
    assert preferred and [(m.date(), m.hour, m.minute) for m in starts] == [
        (clock.day(1), 9, 0),
        (clock.day(1), 10, 0),
        (clock.day(3), 9, 0),
        (clock.day(3), 10, 0),
        (clock.day(8), 9, 0),
        (clock.day(8), 10, 0),
    ]
    anything, preferred = suggested_slots(slots, days=[], times=[], limit=3)
    assert not preferred and [timezone.localtime(s.starts_at).hour for s in anything] == [9, 10, 12]
    weekend, preferred = suggested_slots(slots, days=["sat"], times=[])
    assert not preferred and weekend[0].starts_at == clock.at(0, 9)


# --- Booking -------------------------------------------------------------------------------


def test_booking_puts_the_consultation_in_the_calendar_and_tells_the_patient(
    clock, physician, front_desk, django_capture_on_commit_callbacks
):
    weekdays_nine_to_five(physician.physician_profile, location="Room 2")
    case = case_to_book(physician)
    start = clock.at(1, 10)
    with django_capture_on_commit_callbacks(execute=True):
        consultation = consultation_book(case=case, starts_at=start, booked_by=front_desk)
    assert (consultation.physician, consultation.location) == (physician, "Room 2")
    assert consultation.ends_at - consultation.starts_at == timedelta(minutes=45)
    case.refresh_from_db()
    assert case.state == Case.State.BOOKED
    assert case.events.last().kind == CaseEvent.Kind.BOOKED
    email = OutboundEmail.objects.filter(to=case.patient.email).latest("created_at")
    assert email.subject.startswith("Your consultation is booked")
    assert "PRP" not in email.subject


class RecordingSmsBackend:
    """An SMS_BACKEND for tests: keeps what it was asked to send."""

    sent: list[tuple[str, str]] = []

    def send(self, *, to: str, text: str) -> None:
        self.sent.append((to, text))


@pytest.fixture
def texts(settings):
    settings.SMS_BACKEND = f"{__name__}.RecordingSmsBackend"
    RecordingSmsBackend.sent = []
    return RecordingSmsBackend.sent


def test_the_text_message_goes_once_the_booking_is_committed(
    clock, physician, front_desk, texts, django_capture_on_commit_callbacks
):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    starts_at = clock.at(1, 10)  # a Tuesday
    with django_capture_on_commit_callbacks(execute=True):
        consultation_book(case=case, starts_at=starts_at, booked_by=front_desk)
        assert texts == []  # not before the commit
    day = starts_at.strftime("%a %d %b")
    assert texts == [("+12015550123", f"Clinic Intake: your consultation is booked, {day} 10:00.")]


def test_a_booking_rolled_back_sends_no_text_message(
    clock, physician, front_desk, texts, django_capture_on_commit_callbacks
):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
        transaction.set_rollback(True)
    assert texts == []
    assert callbacks == []
    assert not Consultation.objects.filter(case=case).exists()


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (lambda clock: clock.at(5, 10), "outside"),  # a Saturday
        (lambda clock: clock.at(1, 16, 30), "outside"),  # 45 minutes do not fit before 17:00
        (lambda clock: clock.now - timedelta(hours=1), "past"),
        (lambda clock: clock.at(-14, 10), "past"),  # a Monday gone by
    ],
    ids=["saturday", "too-late-in-the-day", "an-hour-ago", "last-week"],
)
def test_a_slot_outside_hours_or_in_the_past_is_refused(
    clock, physician, front_desk, when, message
):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    with pytest.raises(ClinicError, match=message):
        consultation_book(case=case, starts_at=when(clock), booked_by=front_desk)
    assert not Consultation.objects.exists()


def test_time_off_and_an_inactive_physician_are_refused(clock, physician, front_desk):
    profile = physician.physician_profile
    weekdays_nine_to_five(profile)
    case = case_to_book(physician)
    TimeOff.objects.create(physician=profile, starts_at=clock.at(1, 0), ends_at=clock.at(2, 0))
    with pytest.raises(ClinicError, match="away"):
        consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    physician.is_active = False
    physician.save()
    with pytest.raises(ClinicError, match="not taking appointments"):
        consultation_book(case=case, starts_at=clock.at(2, 10), booked_by=front_desk)


def test_only_the_front_desk_books(clock, physician, patient):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    for person in (physician, patient):
        with pytest.raises(ClinicError, match="Only the front desk"):
            consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=person)


def test_a_taken_slot_is_refused_and_back_to_back_is_fine(clock, physician, front_desk):
    weekdays_nine_to_five(physician.physician_profile)
    first, second = case_to_book(physician), case_to_book(physician)
    consultation_book(case=first, starts_at=clock.at(1, 10), booked_by=front_desk)
    with pytest.raises(SlotTaken, match="just taken"):
        consultation_book(case=second, starts_at=clock.at(1, 10, 30), booked_by=front_desk)
    consultation_book(case=second, starts_at=clock.at(1, 10, 45), booked_by=front_desk)


def test_reschedule_cancel_and_attendance_are_events(clock, physician, front_desk):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    moved = consultation_reschedule(
        consultation=consultation, starts_at=clock.at(2, 14), by=front_desk
    )
    assert (moved.sequence, timezone.localtime(moved.starts_at).hour) == (1, 14)
    with pytest.raises(ClinicError, match="reason"):
        consultation_move(consultation=moved, action="cancel", by=front_desk)
    consultation_move(consultation=moved, action="cancel", by=front_desk, reason="Patient ill")
    case.refresh_from_db()
    assert case.state == Case.State.CONSULT_REQUESTED  # back on the list to book
    again = consultation_book(case=case, starts_at=clock.at(2, 14), booked_by=front_desk)
    clock.move_to(clock.at(2, 13, 50))  # check-in is on the day
    consultation_move(consultation=again, action="check_in", by=front_desk)
    consultation_move(consultation=again, action="complete", by=front_desk)
    with pytest.raises(ClinicError, match="not possible"):
        consultation_move(consultation=again, action="no_show", by=front_desk)
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-6:] == ["booked", "rescheduled", "cancelled", "booked", "checked_in", "completed"]


# --- The booking window (issue 17) -------------------------------------------------------


def test_no_slot_is_offered_or_booked_with_less_than_the_minimum_notice(
    clock, physician, front_desk, settings
):
    settings.BOOKING_MINIMUM_NOTICE_MINUTES = 90
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    now = clock.at(1, 10, 57)  # three minutes before an 11:00 slot
    starts = [
        timezone.localtime(s.starts_at).strftime("%H:%M")
        for s in free_slots(
            physician=physician.physician_profile,
            consultation_type=new_consultation(),
            start_day=clock.day(1),
            days=1,
            now=now,
        )
    ]
    assert starts[0] == "12:30"  # 10:57 + 90 minutes is 12:27; the grid's next is 12:30
    clock.move_to(now)
    for too_soon in (clock.at(1, 11), clock.at(1, 12, 15)):
        with pytest.raises(ClinicError, match="too soon") as refused:
            consultation_book(case=case, starts_at=too_soon, booked_by=front_desk)
    assert str(refused.value) == (
        "That time is too soon: consultations are booked at least 90 minutes ahead. "
        "Choose a later one."
    )
    assert not Consultation.objects.exists()
    consultation_book(case=case, starts_at=clock.at(1, 12, 30), booked_by=front_desk)


def test_a_time_beyond_the_horizon_is_neither_offered_nor_booked(
    clock, physician, front_desk, settings
):
    settings.BOOKING_HORIZON_DAYS = 10  # today and the nine days after it
    weekdays_nine_to_five(physician.physician_profile)
    last_day = clock.now.date() + timedelta(days=9)
    slots = free_slots(
        physician=physician.physician_profile,
        consultation_type=new_consultation(),
        start_day=clock.now.date(),
        days=60,
    )
    assert slots and max(timezone.localtime(s.starts_at).date() for s in slots) <= last_day
    case = case_to_book(physician)
    first_monday_after = last_day + timedelta(days=7 - last_day.weekday())
    for beyond in (
        datetime.combine(first_monday_after, time(10), tzinfo=NEW_YORK),
        datetime.combine(last_day + timedelta(days=120), time(10), tzinfo=NEW_YORK),
    ):
        with pytest.raises(ClinicError, match="too far ahead") as refused:
            consultation_book(case=case, starts_at=beyond, booked_by=front_desk)
    assert f"up to {dateformat.format(last_day, 'l j F Y')} (10 days ahead)" in str(refused.value)
    booked = consultation_book(case=case, starts_at=slots[-1].starts_at, booked_by=front_desk)
    # Moving it is held to the same window.
    with pytest.raises(ClinicError, match="too far ahead"):
        consultation_reschedule(
            consultation=booked,
            starts_at=datetime.combine(first_monday_after, time(10), tzinfo=NEW_YORK),
            by=front_desk,
        )


def test_check_in_is_on_the_day_of_the_consultation_only(clock, physician, front_desk):
    weekdays_nine_to_five(physician.physician_profile)
    consultation = consultation_book(
        case=case_to_book(physician), starts_at=clock.at(1, 10), booked_by=front_desk
    )
    for when in (clock.at(0, 16), clock.at(0, 23, 59), clock.at(2, 0, 1)):
        clock.move_to(when)
        with pytest.raises(ClinicError, match="on the day of the consultation"):
            consultation_move(consultation=consultation, action="check_in", by=front_desk)
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.BOOKED
    # Just after midnight that day (the clinic's, not UTC's) is the day.
    clock.move_to(clock.at(1, 0, 1))
    consultation_move(consultation=consultation, action="check_in", by=front_desk)
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.CHECKED_IN


# --- The database's guard -----------------------------------------------------------------


def test_the_exclusion_constraint_refuses_overlaps_whatever_writes_them(
    clock, physician, front_desk
):
    case = case_to_book(physician)
    values = {
        "case": case,
        "patient": case.patient,
        "physician": physician,
        "consultation_type": new_consultation(),
        "mode": "in_person",
        "booked_by": front_desk,
    }
    Consultation.objects.create(**values, starts_at=clock.at(1, 10), ends_at=clock.at(1, 11))
    with pytest.raises(IntegrityError), transaction.atomic():
        Consultation.objects.create(
            **values, starts_at=clock.at(1, 10, 30), ends_at=clock.at(1, 11, 30)
        )
    # Back to back, and over a cancelled one, are allowed.
    Consultation.objects.create(**values, starts_at=clock.at(1, 11), ends_at=clock.at(1, 12))
    Consultation.objects.filter(starts_at=clock.at(1, 10)).update(state="cancelled")
    Consultation.objects.create(**values, starts_at=clock.at(1, 10), ends_at=clock.at(1, 11))


@pytest.mark.django_db(transaction=True)
def test_two_front_desk_users_on_one_slot_exactly_one_books(clock, physician):
    weekdays_nine_to_five(physician.physician_profile)
    desks = [UserFactory.create(role=Role.FRONT_DESK) for _ in range(2)]
    to_book = [case_to_book(physician) for _ in range(2)]
    start = clock.at(1, 10)

    results = race(
        lambda i: consultation_book(case=to_book[i], starts_at=start, booked_by=desks[i])
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], SlotTaken)
    assert str(refused[0]) == "That time was just taken; please pick another."
    assert Consultation.objects.active().count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_physician_lock_makes_the_loser_wait_for_the_winner_s_commit(
    clock, physician, monkeypatch
):
    """What the lock on the physician's row adds to the constraint (issue 17): even
    when both bookings pass their checks at the same moment (each waits here for the
    other, up to a second), the second one checks only after the first committed. So
    its refusal comes from the re-check, never from the database: no constraint
    violation, and none of the deadlocks two inserts checking the constraint at once
    can meet (the control test below), which would answer 500."""
    weekdays_nine_to_five(physician.physician_profile)
    desks = [UserFactory.create(role=Role.FRONT_DESK) for _ in range(2)]
    to_book = [case_to_book(physician) for _ in range(2)]
    start = clock.at(1, 10)
    both_checked = threading.Barrier(2, timeout=1)
    check_slot = scheduling._check_slot

    def check_then_wait(*args, **kwargs):
        window = check_slot(*args, **kwargs)
        # The other booking may be waiting for the lock: then go on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()
        return window

    monkeypatch.setattr(scheduling, "_check_slot", check_then_wait)
    results = race(
        lambda i: consultation_book(case=to_book[i], starts_at=start, booked_by=desks[i])
    )

    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(refused) == 1 and isinstance(refused[0], SlotTaken), refused
    assert refused[0].__cause__ is None  # refused by the re-check, not an IntegrityError
    assert Consultation.objects.active().count() == 1


@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_both_checks_pass_and_only_the_constraint_stops_it(
    clock, physician, front_desk
):
    """The same race with check-then-insert and no lock: both checks see a free slot
    and both insert; only the database stops the second. That is why booking locks
    first, so the loser is told "just taken" instead of meeting a database error."""
    weekdays_nine_to_five(physician.physician_profile)
    to_book = [case_to_book(physician) for _ in range(2)]
    start = clock.at(1, 10)
    end = start + timedelta(minutes=45)
    both_checked = threading.Barrier(2)

    def unlocked_book(i):
        with transaction.atomic():
            free = not Consultation.objects.active().overlapping(start, end).exists()
            both_checked.wait()
            Consultation.objects.create(
                case=to_book[i],
                patient=to_book[i].patient,
                physician=physician,
                consultation_type=new_consultation(),
                mode="in_person",
                starts_at=start,
                ends_at=end,
                booked_by=front_desk,
            )
            return free

    results = race(unlocked_book)
    assert sum(r is True for r in results) == 1
    # The database refuses the other: as a constraint violation, or, when both
    # inserts check the constraint at once, as a deadlock (PostgreSQL's exclusion
    # constraints do that; the service's lock on the physician avoids it).
    assert sum(isinstance(r, IntegrityError | OperationalError) for r in results) == 1
    assert Consultation.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_reminders_go_once_even_when_the_task_runs_twice_at_once(
    clock, physician, front_desk, settings
):
    settings.REMINDER_HOURS = [24, 2]
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    day_before = clock.at(0, 11)
    counts = race(lambda i: reminders_send(now=day_before))
    assert sorted(int(str(c)) for c in counts) == [0, 1]
    assert reminders_send(now=day_before) == 0
    reminders = OutboundEmail.objects.filter(subject__startswith="Reminder")
    assert reminders.count() == 1
    # Two hours before: the second reminder; a moved consultation gets its own.
    assert reminders_send(now=clock.at(1, 8, 30)) == 1
    consultation_reschedule(consultation=consultation, starts_at=clock.at(2, 10), by=front_desk)
    assert reminders_send(now=clock.at(1, 11)) == 1
    assert reminders.count() == 3


def test_the_invitation_keeps_its_uid_and_cancels_cleanly(clock, physician, front_desk):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    first = Calendar.from_ical(consultation_calendar(consultation))
    moved = consultation_reschedule(
        consultation=consultation, starts_at=clock.at(2, 10), by=front_desk
    )
    second = Calendar.from_ical(consultation_calendar(moved))
    cancelled = Calendar.from_ical(consultation_calendar(moved, cancelled=True))
    events = [next(iter(c.walk("VEVENT"))) for c in (first, second, cancelled)]
    assert len({str(e["uid"]) for e in events}) == 1
    assert [int(str(e["sequence"])) for e in events] == [0, 1, 1]
    assert str(first["method"]) == "REQUEST" and str(cancelled["method"]) == "CANCEL"
    assert events[1].decoded("dtstart") == clock.at(2, 10)
    assert str(events[2]["status"]) == "CANCELLED"
    text = consultation_calendar(moved)
    assert "PRP" not in text and "knee" not in text.lower()


def test_the_e_mails_carry_the_invitation_as_an_attachment(
    clock, physician, front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    with django_capture_on_commit_callbacks(execute=True):
        consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    with django_capture_on_commit_callbacks(execute=True):
        consultation_move(
            consultation=consultation, action="cancel", by=front_desk, reason="Physician ill"
        )
    booked, cancelled = mailoutbox[-2:]
    ((name, content, mimetype),) = booked.attachments
    assert (name, mimetype) == ("consultation.ics", "text/calendar; method=REQUEST")
    assert (
        f"DTSTART:{clock.at(1, 10).astimezone(UTC):%Y%m%dT%H%M%SZ}" in content
        and consultation.uid in content
    )
    ((_, content, mimetype),) = cancelled.attachments
    assert mimetype == "text/calendar; method=CANCEL" and "METHOD:CANCEL" in content
    assert "Physician ill" not in cancelled.body + content  # the reason stays in the clinic
    assert not OutboundEmail.objects.exclude(calendar="").exists()  # erased once sent


# --- After the booking ----------------------------------------------------------------------


def test_a_no_show_puts_the_case_back_on_the_list_to_book(clock, physician, front_desk):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician)
    consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    consultation_move(consultation=consultation, action="no_show", by=front_desk)
    case.refresh_from_db()
    assert case.state == Case.State.CONSULT_REQUESTED
    assert list(Case.objects.to_schedule()) == [case]
    # The missed consultation keeps its time: nothing else can be booked over it.
    assert clock.at(1, 10) not in [
        s.starts_at
        for s in free_slots(
            physician=physician.physician_profile,
            consultation_type=new_consultation(),
            start_day=clock.day(1),
            days=1,
        )
    ]


def test_moving_a_consultation_may_overlap_its_own_old_time(clock, physician, front_desk):
    profile = physician.physician_profile
    weekdays_nine_to_five(profile)
    case = case_to_book(physician)
    consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    starts = {
        s.starts_at
        for s in free_slots(
            physician=profile,
            consultation_type=new_consultation(),
            start_day=clock.day(1),
            days=1,
            ignore=consultation,
        )
    }
    assert clock.at(1, 10, 15) in starts
    moved = consultation_reschedule(
        consultation=consultation, starts_at=clock.at(1, 10, 15), by=front_desk
    )
    assert moved.ends_at == clock.at(1, 11)


def test_a_patient_asks_to_move_or_cancel_and_the_front_desk_settles_it(
    clock, physician, front_desk, patient, other_patient
):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician, patient=patient)
    consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    with pytest.raises(ClinicError, match="not one of your"):
        consultation_change_request(consultation=consultation, patient=other_patient, kind="cancel")
    asked = consultation_change_request(
        consultation=consultation,
        patient=patient,
        kind="reschedule",
        message="  Thursdays suit me better.  ",
    )
    assert (asked.kind, asked.message, asked.late) == (
        "reschedule",
        "Thursdays suit me better.",
        False,
    )
    assert case.events.latest("at").kind == CaseEvent.Kind.CHANGE_REQUESTED
    with pytest.raises(ClinicError, match="already asked"):
        consultation_change_request(consultation=consultation, patient=patient, kind="cancel")
    consultation_reschedule(consultation=consultation, starts_at=clock.at(3, 10), by=front_desk)
    asked.refresh_from_db()
    moved_to = dateformat.format(clock.at(3, 10), "D j M Y H:i")  # "Thu 7 Jan 2027 10:00"
    assert asked.resolved_by == front_desk and asked.resolution.startswith(f"Moved to {moved_to}")
    # A cancellation with less than a day's notice is late; cancelling settles it.
    late = consultation_change_request(
        consultation=consultation, patient=patient, kind="cancel", now=clock.at(2, 12)
    )
    assert late.late
    consultation_move(consultation=consultation, action="cancel", by=front_desk, reason="Asked")
    late.refresh_from_db()
    assert late.resolved_at is not None and late.resolution == "Cancelled."
    with pytest.raises(ClinicError, match="no longer be changed online"):
        consultation_change_request(consultation=consultation, patient=patient, kind="cancel")


def test_a_request_can_be_marked_handled_by_the_front_desk_only(
    clock, physician, front_desk, patient
):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician, patient=patient)
    consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    asked = consultation_change_request(consultation=consultation, patient=patient, kind="cancel")
    with pytest.raises(ClinicError, match="front desk"):
        change_request_close(change=asked, by=physician)
    change_request_close(change=asked, by=front_desk)
    change_request_close(change=asked, by=front_desk)  # twice is harmless
    asked.refresh_from_db()
    assert asked.resolved_by == front_desk
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.BOOKED
    assert not ConsultationChangeRequest.objects.open().exists()


def test_one_open_request_per_consultation_is_the_database_s_rule(
    clock, physician, front_desk, patient
):
    weekdays_nine_to_five(physician.physician_profile)
    case = case_to_book(physician, patient=patient)
    consultation = consultation_book(case=case, starts_at=clock.at(1, 10), booked_by=front_desk)
    ConsultationChangeRequest.objects.create(consultation=consultation, kind="cancel")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationChangeRequest.objects.create(consultation=consultation, kind="reschedule")
