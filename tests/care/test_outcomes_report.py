"""The outcomes report's arithmetic on a small data set whose every figure is known:
three patients treated with PRP on the knee, two of whom answered at 6 weeks."""

from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from care.models import FollowUpResponse, FollowUpSeries
from care.outcomes import ReportRow, outcomes_report
from care.services import followups
from clinic.roles import Role
from tests.care.followup_helpers import answers, at_opening, treat
from tests.care.helpers import billing_provider
from tests.factories import UserFactory, case_to_book, working_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def treated(physician, front_desk) -> list[FollowUpSeries]:
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    series = []
    for baseline_pain, baseline_function in [(6, "50.0"), (8, "40.0"), (5, "60.0")]:
        patient = UserFactory.create(role=Role.PATIENT)
        record = treat(case_to_book(physician, patient=patient), physician, front_desk)
        one = record.followup_series
        FollowUpSeries.objects.filter(pk=one.pk).update(
            baseline_pain=baseline_pain, baseline_function=Decimal(baseline_function)
        )
        one.refresh_from_db()
        series.append(one)
    return series


def _row(rows: list[ReportRow], timepoint: str) -> ReportRow:
    (row,) = [r for r in rows if r.timepoint == timepoint]
    return row


def test_the_report_adds_up_a_known_small_data_set(treated, physician, other_physician) -> None:
    first, second, _third = treated
    six_weeks = [s.followups.get(label="6 weeks") for s in treated]
    # Answered on the day the 6-week window opens: pain 6 -> 2 (a meaningful
    # improvement: 4 points, 67%), 8 -> 7 (1 point: not meaningful); the third patient
    # has not answered.
    with time_machine.travel(at_opening(six_weeks[0]), tick=False):
        followups.followups_run(now=timezone.now())
        for one in six_weeks:
            one.refresh_from_db()
        followups.followup_answer(
            followup=six_weeks[0], patient=first.patient, answers=answers(pain=2, activity=1)
        )
        followups.followup_answer(
            followup=six_weeks[1], patient=second.patient, answers=answers(pain=7, activity=3)
        )
        today = timezone.localdate()
    scores = {
        r.followup.series_id: r.function_score
        for r in FollowUpResponse.objects.select_related("followup")
    }
    rows = outcomes_report(today=today)
    assert {(r.option, r.condition) for r in rows} == {("Platelet-rich plasma (PRP)", "Knee")}
    six = _row(rows, "6 weeks")
    assert (six.treated, six.due, six.answered, six.improved) == (3, 3, 2, 1)
    assert (six.response_rate, six.improved_share) == (67, 50)
    assert six.median_pain_change == Decimal("-2.5")  # the middle of -4 and -1
    middle = (scores[first.pk] - 50 + scores[second.pk] - 40) / Decimal(2)
    assert six.median_function_change == middle.quantize(Decimal("0.1"))
    # Later time points: planned, their windows not open yet, so not due.
    for later in ("3 months", "6 months", "12 months"):
        row = _row(rows, later)
        assert (row.treated, row.due, row.answered, row.improved) == (3, 0, 0, 0)
        assert row.median_pain_change is None and row.response_rate is None
    # Filters: another physician treated nobody; the treatment dates bound the rows.
    assert outcomes_report(today=today, physician=other_physician) == []
    assert _row(outcomes_report(today=today, physician=physician), "6 weeks") == six
    year_before = first.treated_on.replace(year=first.treated_on.year - 1)
    assert outcomes_report(today=today, treated_to=year_before) == []
