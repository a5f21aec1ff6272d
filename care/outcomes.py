"""Reads of follow-up outcomes: a series' progress against its baseline (for the
patient's and the physician's charts), the physician's "needs attention" items, the
front desk's call list and the clinic's outcomes report. Each loads what its page
shows in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from statistics import median

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils.translation import gettext

from care.models import FollowUp, FollowUpCall, FollowUpContact, FollowUpSeries, FollowUpTimepoint
from clinic.models import User
from intake.models import Case

# The minimal clinically important difference of a 0-10 pain rating: a fall of at
# least 2 points and at least 30% from baseline (Farrar et al., Pain 2001;94:149-158).
MCID_POINTS = 2
MCID_SHARE = Decimal("0.3")
WORSE_POINTS = 2


def pain_verdict(baseline: int | None, pain: int | None) -> str:
    """ "improved" (meaningful improvement), "worse", "" (neither, or not known)."""
    if baseline is None or pain is None:
        return ""
    fall = baseline - pain
    if fall >= MCID_POINTS and Decimal(fall) >= MCID_SHARE * baseline:
        return "improved"
    if -fall >= WORSE_POINTS:
        return "worse"
    return ""


@dataclass(frozen=True)
class ProgressPoint:
    label: str
    when: date
    pain: int | None
    function: Decimal | None
    percent_normal: Decimal | None
    pain_change: int | None = None
    function_change: Decimal | None = None
    verdict: str = ""
    is_baseline: bool = False


@dataclass
class SeriesProgress:
    series: FollowUpSeries
    followups: list[FollowUp]
    points: list[ProgressPoint] = field(default_factory=list)

    @property
    def latest(self) -> ProgressPoint | None:
        answered = [p for p in self.points if not p.is_baseline]
        return answered[-1] if answered else None


def _progress(series: FollowUpSeries) -> SeriesProgress:
    followups = list(series.followups.all())
    points = [
        ProgressPoint(
            label=gettext("Before treatment"),
            when=series.treated_on,
            pain=series.baseline_pain,
            function=series.baseline_function,
            percent_normal=series.baseline_percent_normal,
            is_baseline=True,
        )
    ]
    for followup in followups:
        response = getattr(followup, "response", None) if followup.state == "answered" else None
        if response is None:
            continue
        base_pain, base_function = series.baseline_pain, series.baseline_function
        points.append(
            ProgressPoint(
                label=followup.shown_label,
                when=followup.due_on,
                pain=response.pain,
                function=response.function_score,
                percent_normal=response.percent_normal,
                pain_change=None if base_pain is None else response.pain - base_pain,
                function_change=None
                if base_function is None
                else response.function_score - base_function,
                verdict=pain_verdict(base_pain, response.pain),
            )
        )
    return SeriesProgress(series=series, followups=followups, points=points)


def series_of(case: Case) -> list[SeriesProgress]:
    """The case's follow-up series, newest first, each with its progress (3 queries)."""
    series = (
        FollowUpSeries.objects.filter(case=case)
        .select_related("body_region", "record__option")
        .prefetch_related(
            Prefetch(
                "followups",
                queryset=FollowUp.objects.select_related("response", "timepoint").order_by(
                    "due_on"
                ),
            )
        )
        .order_by("-treated_on", "-pk")
    )
    return [_progress(s) for s in series]


def attention_for(physician: User) -> list[FollowUp]:
    """Answered follow-ups that need the physician of their case, oldest first."""
    return list(
        FollowUp.objects.needing_attention()
        .filter(series__case__assigned_to=physician)
        .select_related("series__case__intake", "series__body_region", "response")
        .order_by("answered_at", "pk")
    )


@dataclass(frozen=True)
class CallRow:
    followup: FollowUp
    name: str
    phone: str
    last_call: FollowUpCall | None


def call_list(*, now: datetime) -> list[CallRow]:
    """Open follow-ups whose second reminder went out ``FOLLOWUP_CALL_AFTER_DAYS``
    ago without an answer: contact details, which follow-up and when it closes; no
    answer, score or note of the patient is loaded."""
    since = now - timedelta(days=settings.FOLLOWUP_CALL_AFTER_DAYS)
    reminded = FollowUpContact.objects.filter(
        followup=OuterRef("pk"), kind=FollowUpContact.Kind.REMINDER_2, sent_at__lte=since
    )
    rows = (
        FollowUp.objects.filter(Exists(reminded), state=FollowUp.State.OPEN)
        .select_related("series__case__intake")
        .only(
            "public_id",
            "label",
            "due_on",
            "closes_on",
            "series__patient_id",
            "series__case__public_id",
            "series__case__reference",
            "series__case__patient_id",
            "series__case__intake__legal_name",
            "series__case__intake__phone",
        )
        .prefetch_related(
            Prefetch(
                "calls",
                queryset=FollowUpCall.objects.select_related("by").order_by("at", "pk"),
                to_attr="calls_made",
            )
        )
        .order_by("closes_on", "pk")
    )
    return [
        CallRow(
            followup=f,
            name=f.series.case.intake.legal_name,
            phone=str(f.series.case.intake.phone or ""),
            last_call=f.calls_made[-1] if f.calls_made else None,  # type: ignore[attr-defined]
        )
        for f in rows
    ]


# --- The clinic's outcomes report --------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    option: str
    condition: str
    timepoint: str
    treated: int
    due: int
    answered: int
    median_pain_change: Decimal | None
    median_function_change: Decimal | None
    improved: int

    @property
    def response_rate(self) -> int | None:
        return round(100 * self.answered / self.due) if self.due else None

    @property
    def improved_share(self) -> int | None:
        return round(100 * self.improved / self.answered) if self.answered else None


REPORT_COLUMNS = [
    "option",
    "condition",
    "time point",
    "treated",
    "due",
    "answered",
    "response rate %",
    "median pain change",
    "median function change",
    "improved",
    "improved %",
]


def report_csv_row(row: ReportRow) -> list[object]:
    def blank(value: object) -> object:
        return "" if value is None else value

    return [
        row.option,
        row.condition,
        row.timepoint,
        row.treated,
        row.due,
        row.answered,
        blank(row.response_rate),
        blank(row.median_pain_change),
        blank(row.median_function_change),
        row.improved,
        blank(row.improved_share),
    ]


@dataclass
class _Group:
    timepoint: str
    due: int = 0
    answered: int = 0
    improved: int = 0
    pain: list[Decimal] = field(default_factory=list)
    function: list[Decimal] = field(default_factory=list)


def _median(values: list[Decimal]) -> Decimal | None:
    return Decimal(median(values)).quantize(Decimal("0.1")) if values else None


def followups_for_report(
    *,
    physician: User | None = None,
    treated_from: date | None = None,
    treated_to: date | None = None,
) -> QuerySet[FollowUp]:
    rows = FollowUp.objects.filter(series__record__isnull=False)
    if physician is not None:
        rows = rows.filter(series__record__physician=physician)
    if treated_from is not None:
        rows = rows.filter(series__treated_on__gte=treated_from)
    if treated_to is not None:
        rows = rows.filter(series__treated_on__lte=treated_to)
    return rows


def outcomes_report(
    *,
    today: date,
    physician: User | None = None,
    treated_from: date | None = None,
    treated_to: date | None = None,
) -> list[ReportRow]:
    """Per treatment option x condition (the plan's, else the body region) x time
    point: patients treated (series), follow-ups due (opened, answered or missed, or
    whose window has opened by ``today``; not those closed by a new series or an
    opt-out), answered, the median change
    of pain and of function from baseline, and how many improved meaningfully. One
    query, whatever the clinic's size; the grouping is done here."""
    rows = (
        followups_for_report(physician=physician, treated_from=treated_from, treated_to=treated_to)
        .values(
            "series_id",
            "state",
            "opens_on",
            "timepoint_id",
            "series__record__option__name",
            "series__record__plan__condition__name",
            "series__body_region__name",
            "series__baseline_pain",
            "series__baseline_function",
            "response__pain",
            "response__function_score",
        )
        .order_by()
    )
    timepoints = {t.pk: (t.days_after, t.name) for t in FollowUpTimepoint.objects.all()}
    groups: dict[tuple[str, str, int], _Group] = {}
    treated: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in rows:
        option = r["series__record__option__name"]
        condition = r["series__record__plan__condition__name"] or r["series__body_region__name"]
        days, name = timepoints[r["timepoint_id"]]
        treated[(option, condition)].add(r["series_id"])
        group = groups.setdefault((option, condition, days), _Group(timepoint=name))
        if r["state"] == FollowUp.State.CLOSED or (
            r["state"] == FollowUp.State.PLANNED and r["opens_on"] > today
        ):
            continue
        group.due += 1
        if r["state"] != FollowUp.State.ANSWERED:
            continue
        group.answered += 1
        base_pain, pain = r["series__baseline_pain"], r["response__pain"]
        if base_pain is not None:
            group.pain.append(Decimal(pain - base_pain))
            group.improved += pain_verdict(base_pain, pain) == "improved"
        if r["series__baseline_function"] is not None:
            group.function.append(r["response__function_score"] - r["series__baseline_function"])
    result = []
    for (option, condition, _days), group in sorted(groups.items(), key=lambda kv: kv[0]):
        result.append(
            ReportRow(
                option=option,
                condition=condition,
                timepoint=group.timepoint,
                treated=len(treated[(option, condition)]),
                due=group.due,
                answered=group.answered,
                median_pain_change=_median(group.pain),
                median_function_change=_median(group.function),
                improved=group.improved,
            )
        )
    return result
