"""Reads of follow-up outcomes: a series' progress against its baseline (for the
patient's and the physician's charts), the physician's "needs attention" items, the
front desk's call list and the clinic's outcomes report. Each loads what its page
shows in a fixed number of queries."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    When,
)
from django.db.models import Case as SqlCase
from django.utils.translation import gettext

from care.models import FollowUp, FollowUpCall, FollowUpContact, FollowUpSeries, FollowUpTimepoint
from clinic.models import User
from intake.models import Case
from treatments.models import BodyRegion, Condition, TreatmentOption

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


def call_rows(followups: Iterable[FollowUp]) -> list[CallRow]:
    """The call list's rows for follow-ups read by ``calls_due`` (a page of them)."""
    return [
        CallRow(
            followup=f,
            name=f.series.case.intake.legal_name,
            phone=str(f.series.case.intake.phone or ""),
            last_call=f.calls_made[-1] if f.calls_made else None,  # type: ignore[attr-defined]
        )
        for f in followups
    ]


def calls_due(*, now: datetime) -> QuerySet[FollowUp]:
    """Open follow-ups whose second reminder went out ``FOLLOWUP_CALL_AFTER_DAYS``
    ago without an answer, the soonest to close first: contact details, which
    follow-up and when it closes; no answer, score or note of the patient is loaded."""
    since = now - timedelta(days=settings.FOLLOWUP_CALL_AFTER_DAYS)
    reminded = FollowUpContact.objects.filter(
        followup=OuterRef("pk"), kind=FollowUpContact.Kind.REMINDER_2, sent_at__lte=since
    )
    return (
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


class _Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``: the middle value, or the mean of the two
    middle values (as ``statistics.median``)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _tenth(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value)).quantize(Decimal("0.1"))


def _treated_filter(
    prefix: str,
    *,
    physician: User | None,
    treated_from: date | None,
    treated_to: date | None,
) -> Q:
    """Series (through ``prefix``) of a recorded procedure, by its physician and day."""
    where = Q(**{f"{prefix}record__isnull": False})
    if physician is not None:
        where &= Q(**{f"{prefix}record__physician": physician})
    if treated_from is not None:
        where &= Q(**{f"{prefix}treated_on__gte": treated_from})
    if treated_to is not None:
        where &= Q(**{f"{prefix}treated_on__lte": treated_to})
    return where


def _group_keys(prefix: str) -> tuple[F, F, SqlCase]:
    """A row's group as ids: the option, and the plan's condition or, where the plan
    names none, the body region. Integers sort in memory where names spilled to disk;
    the names come from the small catalog tables afterwards."""
    return (
        F(f"{prefix}record__option_id"),
        F(f"{prefix}record__plan__condition_id"),
        SqlCase(
            When(
                **{f"{prefix}record__plan__condition_id__isnull": True},
                then=F(f"{prefix}body_region_id"),
            ),
            default=None,
        ),
    )


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
    opt-out), answered, the median change of pain and of function from baseline, and
    how many improved meaningfully. A fixed number of queries whatever the clinic's
    size: PostgreSQL groups and counts, so no follow-up row is loaded into Python."""

    def treated_where(prefix: str) -> Q:
        return _treated_filter(
            prefix, physician=physician, treated_from=treated_from, treated_to=treated_to
        )

    # Due: opened, answered or missed, or planned with its window open by ``today``;
    # not those closed by a new series or an opt-out.
    due = ~Q(state=FollowUp.State.CLOSED) & ~Q(state=FollowUp.State.PLANNED, opens_on__gt=today)
    answered = Q(state=FollowUp.State.ANSWERED)
    pain_change = F("response__pain") - F("series__baseline_pain")
    function_change = F("response__function_score") - F("series__baseline_function")
    # pain_verdict's "improved", in SQL: down by MCID_POINTS and by MCID_SHARE.
    improved = (
        Q(series__baseline_pain__isnull=False)
        & Q(_fall__gte=MCID_POINTS)
        & Q(_fall__gte=ExpressionWrapper(MCID_SHARE * F("series__baseline_pain"), DecimalField()))
    )
    followup_keys, series_keys = _group_keys("series__"), _group_keys("")
    keys = ("g_option", "g_condition", "g_region", "timepoint_id")
    rows = FollowUp.objects.filter(treated_where("series__")).annotate(
        g_option=followup_keys[0], g_condition=followup_keys[1], g_region=followup_keys[2]
    )
    # Counts over every follow-up (a hash aggregate); the medians, which need their
    # rows sorted, over the answered ones only.
    due_counts = {
        tuple(g[k] for k in keys): g["due"]
        for g in rows.values(*keys).annotate(due=Count("pk", filter=due)).order_by()
    }
    answered_groups = {
        tuple(g[k] for k in keys): g
        for g in rows.filter(answered)
        .annotate(_fall=F("series__baseline_pain") - F("response__pain"))
        .values(*keys)
        .annotate(
            answered=Count("pk"),
            improved=Count("pk", filter=improved),
            median_pain=_Median(pain_change),
            median_function=_Median(function_change),
        )
        .order_by()
    }
    # Patients treated (series) per option and condition, whatever the time point.
    treated = {
        (r["g_option"], r["g_condition"], r["g_region"]): r["treated"]
        for r in FollowUpSeries.objects.filter(treated_where(""))
        .annotate(g_option=series_keys[0], g_condition=series_keys[1], g_region=series_keys[2])
        .values("g_option", "g_condition", "g_region")
        .annotate(treated=Count("pk"))
        .order_by()
    }
    options = dict(TreatmentOption.objects.values_list("pk", "name"))
    conditions = dict(Condition.objects.values_list("pk", "name"))
    regions = dict(BodyRegion.objects.values_list("pk", "name"))
    timepoints = {t.pk: (t.days_after, t.name) for t in FollowUpTimepoint.objects.all()}
    result = []
    for group, due_count in due_counts.items():
        option_id, condition_id, region_id, timepoint_id = group
        key = (option_id, condition_id, region_id)
        condition = conditions[condition_id] if condition_id is not None else regions[region_id]
        days, timepoint = timepoints[timepoint_id]
        g = answered_groups.get(group, {})
        row = ReportRow(
            option=options[option_id],
            condition=condition,
            timepoint=timepoint,
            treated=treated.get(key, 0),
            due=due_count,
            answered=g.get("answered", 0),
            median_pain_change=_tenth(g.get("median_pain")),
            median_function_change=_tenth(g.get("median_function")),
            improved=g.get("improved", 0),
        )
        result.append((row.option, row.condition, days, row))
    return [row for *_, row in sorted(result, key=lambda r: r[:3])]
