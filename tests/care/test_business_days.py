"""Business days and the Good Faith Estimate's deadlines (45 CFR 149.610(b)), across
weekends, US federal holidays (with their observed days) and the clinic's own."""

from datetime import UTC, date, datetime

import pytest

from care.business_days import BusinessCalendar
from care.models import ClinicHoliday, EstimateDue
from care.services.estimates import estimate_deadline, estimate_due_open
from tests.factories import case_to_book

PLAIN = BusinessCalendar(frozenset())


def d(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-03-02", True),  # a Monday
        ("2026-03-07", False),  # Saturday
        ("2026-03-08", False),  # Sunday
        ("2026-07-03", False),  # Independence Day observed (the 4th is a Saturday)
        ("2026-07-04", False),
        ("2026-11-26", False),  # Thanksgiving
        ("2026-11-27", True),  # the day after is not a federal holiday
        ("2026-06-19", False),  # Juneteenth
        ("2027-06-18", False),  # Juneteenth observed (the 19th is a Saturday)
        ("2027-12-24", False),  # Christmas observed
        ("2027-12-31", False),  # New Year's Day 2028 observed
        ("2026-10-12", False),  # Columbus Day
    ],
)
def test_business_days_skip_weekends_and_federal_holidays(day: str, expected: bool) -> None:
    assert PLAIN.is_business_day(d(day)) is expected


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        ("2026-03-02", 1, "2026-03-03"),  # Monday -> Tuesday
        ("2026-03-06", 1, "2026-03-09"),  # Friday -> Monday
        ("2026-03-07", 1, "2026-03-09"),  # booked on a Saturday -> Monday
        ("2026-03-08", 3, "2026-03-11"),  # Sunday + 3 -> Wednesday
        ("2026-07-02", 1, "2026-07-06"),  # Thursday, over the observed 4 July
        ("2026-12-23", 3, "2026-12-29"),  # over Christmas (Friday 25th)
        ("2027-12-23", 1, "2027-12-27"),  # over Christmas observed (Friday 24th)
        ("2027-12-29", 3, "2028-01-04"),  # over New Year observed on 31 Dec 2027
        ("2026-03-02", 0, "2026-03-02"),
    ],
)
def test_adding_business_days(start: str, count: int, expected: str) -> None:
    assert PLAIN.add(d(start), count) == d(expected)


def test_clinic_holidays_are_not_business_days() -> None:
    calendar = BusinessCalendar(frozenset({d("2026-11-27")}))
    assert not calendar.is_business_day(d("2026-11-27"))
    assert calendar.add(d("2026-11-25"), 1) == d("2026-11-30")
    assert PLAIN.add(d("2026-11-25"), 1) == d("2026-11-27")
    assert calendar.previous(d("2026-11-30")) == d("2026-11-25")


def test_counting_business_days_after_a_day() -> None:
    assert PLAIN.count_after(d("2026-03-02"), d("2026-03-05")) == 3  # Tue, Wed, Thu
    assert PLAIN.count_after(d("2026-03-06"), d("2026-03-09")) == 1  # the weekend counts 0
    assert PLAIN.count_after(d("2026-03-05"), d("2026-03-05")) == 0
    assert PLAIN.count_after(d("2026-03-05"), d("2026-03-02")) == 0


def deadline(reason: str, opened: str, service: str | None, calendar: BusinessCalendar = PLAIN):
    return estimate_deadline(
        reason=reason,
        opened_on=d(opened),
        service_on=d(service) if service else None,
        calendar=calendar,
    )


S, R = EstimateDue.Reason.SCHEDULED, EstimateDue.Reason.REQUESTED


@pytest.mark.parametrize(
    ("opened", "service", "due"),
    [
        # Exactly 3 business days ahead (Mon -> Thu): within 1 business day.
        ("2026-03-02", "2026-03-05", "2026-03-03"),
        # 9 business days ahead: still the 1-day rule.
        ("2026-03-02", "2026-03-13", "2026-03-03"),
        # Exactly 10 business days ahead (Mon -> Mon fortnight): within 3.
        ("2026-03-02", "2026-03-16", "2026-03-05"),
        # Booked on Friday for 3 business days later (Wednesday): due Monday.
        ("2026-03-06", "2026-03-11", "2026-03-09"),
        # Booked on Saturday, 10 business days ahead: Monday + 2 more.
        ("2026-03-07", "2026-03-20", "2026-03-11"),
        # 14 calendar days over Christmas and New Year 2027 are only 9 business days:
        # the 1-day rule, and that day is the Monday after the weekend.
        ("2026-12-18", "2027-01-04", "2026-12-21"),
        # 10 business days over Thanksgiving: within 3, skipping Thursday.
        ("2026-11-20", "2026-12-07", "2026-11-25"),
        ("2026-11-24", "2026-12-09", "2026-11-30"),
    ],
)
def test_deadline_when_the_procedure_is_booked(opened: str, service: str, due: str) -> None:
    assert deadline(S, opened, service).due_on == d(due)


def test_booked_less_than_3_business_days_ahead_is_due_the_business_day_before() -> None:
    # Mon -> Wed is 2 business days: the rule sets no deadline, the clinic's is Tuesday.
    result = deadline(S, "2026-03-02", "2026-03-04")
    assert result.due_on == d("2026-03-03")
    assert "less than 3" in result.rule
    # Booked Friday for Monday: the business day before Monday is Friday itself.
    assert deadline(S, "2026-03-06", "2026-03-09").due_on == d("2026-03-06")
    # Booked for the same day: never before the booking day.
    assert deadline(S, "2026-03-04", "2026-03-04").due_on == d("2026-03-04")


def test_a_clinic_holiday_can_change_which_rule_applies() -> None:
    # Mon 2 Mar to Mon 16 Mar is 10 business days; a clinic closure makes it 9.
    closed = BusinessCalendar(frozenset({d("2026-03-10")}))
    assert deadline(S, "2026-03-02", "2026-03-16").due_on == d("2026-03-05")
    assert deadline(S, "2026-03-02", "2026-03-16", closed).due_on == d("2026-03-03")


@pytest.mark.parametrize(
    ("opened", "due"),
    [
        ("2026-03-02", "2026-03-05"),
        ("2026-03-05", "2026-03-10"),  # Thursday -> Tuesday
        ("2026-12-23", "2026-12-29"),  # over Christmas
        ("2027-12-24", "2027-12-29"),  # asked on the observed Christmas holiday
    ],
)
def test_deadline_on_the_patients_request(opened: str, due: str) -> None:
    assert deadline(R, opened, None).due_on == d(due)


@pytest.mark.django_db
def test_the_due_date_counts_from_the_booking_day_in_the_clinics_time_zone(
    physician, settings
) -> None:
    settings.TIME_ZONE = "America/New_York"
    case = case_to_book(physician)
    ClinicHoliday.objects.create(day=d("2026-03-03"), name="Staff training")
    # 03:00 UTC on Tuesday is still Monday evening in New York.
    due = estimate_due_open(
        case=case,
        reason=S,
        at=datetime(2026, 3, 3, 3, 0, tzinfo=UTC),
        service_on=d("2026-03-09"),
        by=None,
    )
    assert due.opened_on == d("2026-03-02")
    # Mon -> Mon is 4 business days once Tuesday is closed: due the next business
    # day after Monday, which is Wednesday.
    assert due.due_on == d("2026-03-04")
    assert case.care_events.filter(kind="estimate_due").count() == 1
