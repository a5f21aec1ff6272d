"""The follow-up pages: the patient's questionnaire and preferences, the physician's
"reviewed" action and the outcomes report, the front desk's call list.

The link in the invitation leads to the questionnaire behind the patient's login,
not to a one-time link that opens it without one. Why: the answers are health
information and the page shows the patient's progress and whom to call; a login
(with its lock-out, session limits and audit) already guards every other page of
theirs, a forwarded or leaked e-mail then opens nothing, and there is no second
kind of credential to expire, revoke and audit. The cost is a login on a phone,
which the session keeps for 30 minutes; the page itself takes under two minutes."""

import csv
from datetime import date
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from care import charts, outcomes
from care.forms_followups import CallForm, FollowUpForm, PreferencesForm
from care.models import FollowUp
from care.services import followups
from clinic.access import signed_in_user
from clinic.audit import Action, audit_read, audit_reads, seen
from clinic.errors import ClinicError
from clinic.models import User
from clinic.policy import (
    front_desk_area,
    may_plan_care,
    may_read_clinical_record,
    outcomes_area,
    patient_area,
    review_area,
)
from clinic.roles import Role, role_of

# The call list, a page at a time (soonest to close first).
CALLS_PAGE_SIZE = 25


def progress_charts(progress: outcomes.SeriesProgress, prefix: str) -> dict[str, Any]:
    points = progress.points
    labels = [gettext("Before") if p.is_baseline else p.label for p in points]
    return {
        "pain_chart": charts.line_chart(
            title=gettext("Pain (0–10)"),
            labels=labels,
            values=[p.pain for p in points],
            maximum=10,
            chart_id=f"{prefix}-pain",
            better=gettext("lower is better"),
        ),
        "function_chart": charts.line_chart(
            title=gettext("Daily activities (0–100)"),
            labels=labels,
            values=[p.function for p in points],
            maximum=100,
            chart_id=f"{prefix}-function",
            better=gettext("higher is better"),
        ),
    }


def series_context(case_series: list[outcomes.SeriesProgress]) -> list[dict[str, Any]]:
    return [
        {"progress": p, **progress_charts(p, f"series-{p.series.public_id}")} for p in case_series
    ]


# --- The patient ------------------------------------------------------------------------


def _patients_followup(request: HttpRequest, public_id: UUID) -> FollowUp:
    followup = get_object_or_404(
        FollowUp.objects.select_related("series__case", "series__body_region", "response"),
        public_id=public_id,
    )
    if not may_read_clinical_record(signed_in_user(request), followup.series):
        raise Http404("No such questionnaire of yours.")
    return followup


def _questionnaire(
    request: HttpRequest, followup: FollowUp, form: FollowUpForm | None, status: int = 200
) -> HttpResponse:
    response = getattr(followup, "response", None)
    audit_read(request, action=Action.VIEW, record=followup, patient_id=followup.series.patient_id)
    return render(
        request,
        "care/followup.html",
        {
            "followup": followup,
            "form": form,
            "response": response,
            "CLINIC_PHONE": settings.CLINIC_PHONE,
            "CLINIC_ADDRESS": settings.CLINIC_ADDRESS,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@patient_area
def followup(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """One page: the three questionnaires, the global question, the complication
    questions. A refused or incomplete answer comes back with what was chosen kept."""
    item = _patients_followup(request, public_id)
    if item.state != FollowUp.State.OPEN:
        return _questionnaire(request, item, None)
    instruments = followups.followup_instruments()
    if request.method != "POST":
        return _questionnaire(request, item, FollowUpForm(instruments=instruments))
    form = FollowUpForm(request.POST, instruments=instruments)
    if not form.is_valid():
        form.add_error(None, gettext("Some questions are not answered yet; they are marked below."))
        return _questionnaire(request, item, form)
    try:
        followups.followup_answer(
            followup=item, patient=signed_in_user(request), answers=form.followup_answers()
        )
    except ClinicError as error:
        form.add_error(None, str(error))
        return _questionnaire(request, item, form)
    messages.success(request, gettext("Thank you: your answers are saved."))
    return redirect("care:followup", public_id=item.public_id)


@require_POST
@patient_area
def followup_preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST)
    me = signed_in_user(request)
    if form.is_valid():
        followups.followup_preferences_save(
            patient=me,
            texts_agreed=form.cleaned_data["texts_agreed"],
            opted_out=form.cleaned_data["opted_out"],
        )
        messages.success(request, gettext("Your follow-up choices are saved."))
    back = request.POST.get("case", "")
    case = me.cases.filter(public_id=back).first() if _is_uuid(back) else None
    if case is not None:
        return redirect("care:patient_care", public_id=case.public_id)
    return redirect("intake:home")


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


# --- The physician ----------------------------------------------------------------------


@require_POST
@review_area
def followup_review(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The case's physician marks a follow-up that needed attention as reviewed."""
    item = get_object_or_404(FollowUp.objects.select_related("series__case"), public_id=public_id)
    if not may_plan_care(signed_in_user(request), item.series.case):
        raise Http404("No such follow-up of yours.")
    try:
        followups.followup_attention_review(followup=item, physician=signed_in_user(request))
    except ClinicError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The {item.label} follow-up is marked reviewed.")
    return redirect("review:case", public_id=item.series.case.public_id)


def _physician_name(user: User) -> str:
    return user.physician_profile.display_name


class ReportFilter(forms.Form):
    physician = forms.ModelChoiceField(
        queryset=User.objects.filter(physician_profile__isnull=False).select_related(
            "physician_profile"
        ),
        required=False,
        empty_label="All physicians",
    )
    treated_from = forms.DateField(
        required=False, label="Treated from", widget=forms.DateInput(attrs={"type": "date"})
    )
    treated_to = forms.DateField(
        required=False, label="Treated to", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["physician"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.label_from_instance = _physician_name  # type: ignore[method-assign,assignment]


@require_safe
@outcomes_area
def outcomes_report(request: HttpRequest) -> HttpResponse:
    """Numbers only, no patient: who answered what is never shown here."""
    form = ReportFilter(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    today: date = timezone.localdate()
    rows = outcomes.outcomes_report(today=today, **filters)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="outcomes.csv"'
        writer = csv.writer(response)
        writer.writerow(outcomes.REPORT_COLUMNS)
        for row in rows:
            writer.writerow(outcomes.report_csv_row(row))
        return response
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "care/outcomes_report.html",
        {
            "form": form,
            "rows": rows,
            "csv_query": query.urlencode(),
            "is_physician": role_of(signed_in_user(request)) == Role.PHYSICIAN,
        },
    )


# --- The front desk ---------------------------------------------------------------------


def _calls_page(
    request: HttpRequest, *, bound: CallForm | None = None, bound_id: int | None = None
) -> HttpResponse:
    page = Paginator(outcomes.calls_due(now=timezone.now()), CALLS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = outcomes.call_rows(page.object_list)
    audit_reads(
        request,
        action=Action.LIST,
        records=[seen(r.followup, r.followup.series.case.patient_id) for r in rows],
    )
    return render(
        request,
        "care/followup_calls.html",
        {
            "page": page,
            "rows": [
                (r, bound if bound is not None and r.followup.pk == bound_id else CallForm())
                for r in rows
            ],
        },
    )


@require_safe
@front_desk_area
def followup_calls(request: HttpRequest) -> HttpResponse:
    return _calls_page(request)


@require_POST
@front_desk_area
def followup_call(request: HttpRequest, public_id: UUID) -> HttpResponse:
    item = get_object_or_404(FollowUp, public_id=public_id)
    form = CallForm(request.POST)
    if form.is_valid():
        try:
            followups.followup_call_record(
                followup=item,
                by=signed_in_user(request),
                result=form.cleaned_data["result"],
                note=form.cleaned_data["note"],
            )
        except ClinicError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The call is recorded.")
            # Back to the page of the list the call was made from.
            number = request.GET.get("page", "")
            back = reverse("care:followup_calls")
            return redirect(f"{back}?page={number}" if number.isdigit() else back)
    return _calls_page(request, bound=form, bound_id=item.pk)
