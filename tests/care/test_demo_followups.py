"""seed_demo's follow-ups: treated patients with answered, missed and open
follow-ups, one complication for the physician, and plausible report rows."""

import csv
import io

import pytest
from django.core.management import call_command

from care.models import FollowUp, FollowUpSeries
from care.outcomes import attention_for, call_rows, calls_due, outcomes_report
from clinic.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_year_of_follow_ups(settings) -> None:
    from django.utils import timezone

    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    states = {
        s.patient.email: dict(s.followups.values_list("label", "state"))
        for s in FollowUpSeries.objects.select_related("patient")
    }
    assert states["helen@clinic.example"] == {
        "6 weeks": "answered",
        "3 months": "answered",
        "6 months": "answered",
        "12 months": "missed",
    }
    assert states["victor@clinic.example"] == {
        "6 weeks": "answered",
        "3 months": "missed",
        "6 months": "open",
        "12 months": "planned",
    }
    assert states["nora@clinic.example"]["6 weeks"] == "answered"
    lee = User.objects.get(email="dr.lee@clinic.example")
    assert [f.series.patient.email for f in attention_for(lee)] == ["victor@clinic.example"]
    assert [r.name for r in call_rows(calls_due(now=timezone.now()))] == ["Victor Novak"]
    rows = outcomes_report(today=timezone.localdate())
    helen_row = next(
        r
        for r in rows
        if "PRP" in r.option and r.condition == "Knee osteoarthritis" and r.timepoint == "6 months"
    )
    assert (helen_row.treated, helen_row.answered, helen_row.improved) == (2, 1, 1)
    answered = FollowUp.objects.filter(state="answered").order_by("answered_at")
    assert all(f.answered_at and f.answered_at.date() < timezone.localdate() for f in answered)
    out = io.StringIO()
    call_command("outcomes_report", "--csv", stdout=out)
    assert len(list(csv.reader(io.StringIO(out.getvalue())))) == 1 + len(rows)
