"""The physician's pages: the review queue, the case page (and its printable view),
and one POST view per action on a case. Every action is a service in
``intake.cases``; a refused move comes back as a message on the case page."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from care.outcomes import attention_for as followup_attention_for
from clinic.access import signed_in_user
from clinic.audit import Action, audit_read, audit_reads, seen
from clinic.errors import ClinicError
from clinic.models import User, WorkingHours
from clinic.policy import may_act_on_case, review_area
from intake import cases
from intake.frontdesk_forms import DayForm
from intake.models import Case, Consultation, mark_flags
from intake.review_forms import (
    CandidateForm,
    CaseFilter,
    ImagingRequestForm,
    NotCandidateForm,
    QuestionForm,
    ReassignForm,
)
from intake.scheduling import local_day_range
from intake.selectors import case_review, intake_summary
from treatments.models import Contraindication

TABS = {"mine": "My cases", "pool": "Unassigned pool"}


@require_safe
@review_area
def queue(request: HttpRequest) -> HttpResponse:
    me = signed_in_user(request)
    tab = request.GET.get("tab", "mine")
    if tab not in TABS:
        tab = "mine"
    scope = {"assigned_to": me} if tab == "mine" else {"assigned_to__isnull": True}
    filterset = CaseFilter(request.GET, queryset=Case.objects.for_queue().filter(**scope))
    page = Paginator(filterset.qs, settings.REVIEW_QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    counts = {
        "mine": Case.objects.open_for(me).count(),
        "pool": Case.objects.open().filter(assigned_to__isnull=True).count(),
    }
    rows = mark_flags(list(page.object_list))
    # Follow-ups that need this physician: a list of its own beside the queue.
    attention = followup_attention_for(me)
    audit_reads(
        request,
        action=Action.LIST,
        records=[seen(c, c.patient_id) for c in rows]
        + [seen(f.series.case, f.series.patient_id) for f in attention],
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "review/queue.html",
        {
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in TABS.items()],
            "filter": filterset,
            "page": page,
            "rows": rows,
            "now": timezone.now(),
            "today": timezone.localdate(),
            "query": query.urlencode(),
            "target_days": settings.REVIEW_TARGET_BUSINESS_DAYS,
            "followup_attention": attention,
        },
    )


@require_POST
@review_area
def next_case(request: HttpRequest) -> HttpResponse:
    case = cases.case_claim_next(physician=signed_in_user(request))
    if case is None:
        messages.info(request, "No unclaimed cases are waiting in your queue or the pool.")
        return redirect("review:queue")
    messages.success(request, f"You have claimed case {case.reference}.")
    return redirect("review:case", public_id=case.public_id)


@require_safe
@review_area
def calendar(request: HttpRequest) -> HttpResponse:
    """The physician's own consultations, one week (Monday to Sunday) at a time."""
    me = signed_in_user(request)
    shown = DayForm(request.GET or None).day()
    monday = shown - timedelta(days=shown.weekday())
    start, end = local_day_range(monday, 7)
    consultations = (
        Consultation.objects.filter(physician=me, starts_at__gte=start, starts_at__lt=end)
        .exclude(state=Consultation.State.CANCELLED)
        .select_related("case__intake", "consultation_type")
        .order_by("starts_at")
    )
    by_day: dict[date, list[Consultation]] = {monday + timedelta(days=n): [] for n in range(7)}
    audit_reads(request, action=Action.LIST, records=[seen(c, c.patient_id) for c in consultations])
    for consultation in consultations:
        by_day[timezone.localtime(consultation.starts_at).date()].append(consultation)
    windows: dict[int, list[WorkingHours]] = {}
    for window in WorkingHours.objects.filter(physician__user=me).order_by("starts"):
        windows.setdefault(window.weekday, []).append(window)
    return render(
        request,
        "review/calendar.html",
        {
            "days": [(day, windows.get(day.weekday(), []), rows) for day, rows in by_day.items()],
            "week_empty": not windows and not any(by_day.values()),
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "today": timezone.localdate(),
        },
    )


def _case(public_id: UUID) -> Case:
    return get_object_or_404(
        Case.objects.select_related(
            "intake", "patient", "assigned_to__physician_profile", "main_complaint"
        ),
        public_id=public_id,
    )


def _forms(case: Case, me: User, bound: dict[str, forms.Form] | None = None) -> dict[str, Any]:
    made: dict[str, Any] = {
        "reassign_form": ReassignForm(current=me),
        "question_form": QuestionForm(),
        "candidate_form": CandidateForm(hard_stops=_has_hard_stop(case)),
        "imaging_form": ImagingRequestForm(initial={"region": case.body_region_id}),
        "decline_form": NotCandidateForm(),
    }
    return made | (bound or {})


def _has_hard_stop(case: Case) -> bool:
    return case.flags.filter(severity=Contraindication.Severity.HARD_STOP).exists()


def _case_page(
    request: HttpRequest,
    case: Case,
    *,
    template: str = "review/case.html",
    action: str = Action.VIEW,
    bound: dict[str, forms.Form] | None = None,
    open_action: str = "",
    refused: str = "",
) -> HttpResponse:
    me = signed_in_user(request)
    review = case_review(case)
    audit_read(request, action=action, record=case, patient_id=case.patient_id)
    context = {
        "case": case,
        "intake": case.intake,
        "review": review,
        "summary": intake_summary(case.intake),
        "age": case.intake.age_on(timezone.localdate()),
        "may_act": may_act_on_case(me, case),
        "is_mine": case.assigned_to_id == me.pk,
        "now": timezone.now(),
        "open_action": open_action,
        "refused": refused,
        "kept_text": _typed_text(bound),
        "transitions": cases.TRANSITIONS,
        **_forms(case, me, bound),
    }
    return render(request, template, context)


@require_safe
@review_area
def case_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _case_page(request, _case(public_id))


@require_safe
@review_area
def case_print(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _case_page(
        request, _case(public_id), template="review/case_print.html", action=Action.PRINT
    )


def _act(
    request: HttpRequest,
    public_id: UUID,
    *,
    name: str,
    form: forms.Form | None,
    service: Callable[[Case, User, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Binds the action's form, calls its service and goes back to the case; a form
    error or a refused move shows on the case page with everything typed kept."""
    case = _case(public_id)
    me = signed_in_user(request)
    if form is None or form.is_valid():
        data = form.cleaned_data if form is not None else {}
        try:
            service(case, me, data)
        except ClinicError as error:
            if form is None:
                messages.error(request, str(error))
                return redirect("review:case", public_id=case.public_id)
            form.add_error(None, str(error))
            case.refresh_from_db()  # show the case as it is now
            return _case_page(
                request, case, bound={f"{name}_form": form}, open_action=name, refused=str(error)
            )
        else:
            messages.success(request, done.format(reference=case.reference))
            return redirect("review:case", public_id=case.public_id)
    assert form is not None  # noqa: S101
    return _case_page(request, case, bound={f"{name}_form": form}, open_action=name)


def _typed_text(bound: dict[str, forms.Form] | None) -> list[str]:
    """What the physician typed into a refused form, shown when the form itself is no
    longer offered (the case was taken or decided meanwhile), so nothing is lost."""
    if not bound:
        return []
    return [
        str(form[name].value())
        for form in bound.values()
        for name, field in form.fields.items()
        if isinstance(field.widget, forms.Textarea) and str(form[name].value() or "").strip()
    ]


@require_POST
@review_area
def case_claim(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _act(
        request,
        public_id,
        name="claim",
        form=None,
        service=lambda case, me, _: cases.case_claim(case=case, physician=me),
        done="You are reviewing case {reference}.",
    )


@require_POST
@review_area
def case_release(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _act(
        request,
        public_id,
        name="release",
        form=None,
        service=lambda case, me, _: cases.case_release(case=case, physician=me),
        done="Case {reference} is back in the unassigned pool.",
    )


@require_POST
@review_area
def case_reassign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    me = signed_in_user(request)
    return _act(
        request,
        public_id,
        name="reassign",
        form=ReassignForm(request.POST, current=me),
        service=lambda case, me, data: cases.case_reassign(
            case=case, physician=me, to=data["physician"], reason=data["reason"]
        ),
        done="Case {reference} has been reassigned.",
    )


@require_POST
@review_area
def case_ask(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _act(
        request,
        public_id,
        name="question",
        form=QuestionForm(request.POST),
        service=lambda case, me, data: cases.case_request_information(
            case=case, physician=me, question=data["question"]
        ),
        done="Your question was sent; case {reference} waits for the patient's answer.",
    )


@require_POST
@review_area
def case_request_imaging(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _act(
        request,
        public_id,
        name="imaging",
        form=ImagingRequestForm(request.POST),
        service=lambda case, me, data: cases.case_request_imaging(
            case=case,
            physician=me,
            modality=data["modality"],
            region=data["region"],
            message_to_patient=data["message_to_patient"],
            internal_note=data["internal_note"],
        ),
        done="The patient has been told which imaging is needed for case {reference}.",
    )


@require_POST
@review_area
def case_candidate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = _case(public_id)
    return _act(
        request,
        public_id,
        name="candidate",
        form=CandidateForm(request.POST, hard_stops=_has_hard_stop(case)),
        service=lambda case, me, data: cases.case_mark_candidate(
            case=case,
            physician=me,
            decision=cases.CandidateDecision(
                options=list(data["options"]),
                consultation_type=data["consultation_type"],
                consultation_mode=data["consultation_mode"],
                urgency=data["urgency"],
                message_to_patient=data["message_to_patient"],
                internal_note=data["internal_note"],
                override_reason=data.get("override_reason", ""),
            ),
        ),
        done="Case {reference} is on the front desk's list to book a consultation.",
    )


@require_POST
@review_area
def case_not_candidate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _act(
        request,
        public_id,
        name="decline",
        form=NotCandidateForm(request.POST),
        service=lambda case, me, data: cases.case_mark_not_candidate(
            case=case,
            physician=me,
            reason=data["reason"],
            message_to_patient=data["message_to_patient"],
            internal_note=data["internal_note"],
        ),
        done="Case {reference} is closed as not a candidate; the patient has been told.",
    )
