"""The front desk's pages: what to book and the patients' requests, booking from a
case, the day view, one consultation and its changes, and incomplete intakes.

The front desk sees contact details and what to book, never the clinical record.
Every change is a service in ``intake.scheduling`` (or ``intake.services``); a
refused one comes back as a message on the page it was made from."""

from collections.abc import Callable
from datetime import date, datetime, timedelta
from itertools import groupby
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from care.services import procedures
from clinic.access import signed_in_user
from clinic.audit import Action, audit_read, audit_reads, seen
from clinic.errors import ClinicError
from clinic.models import PhysicianProfile, TimeOff, WorkingHours
from clinic.policy import front_desk_area
from intake import scheduling, services
from intake.frontdesk_forms import CancelForm, DayForm, SlotForm
from intake.models import (
    STEP_COUNT,
    Case,
    CaseEvent,
    Consultation,
    ConsultationChangeRequest,
    ConsultationType,
    Intake,
)

# Suggested slots shown above the full list: the patient's preferred times first.
SUGGESTED_SLOTS = 6
# The booking page shows this many days of free slots at a time, up to the horizon.
SLOT_PAGE_DAYS = 14
INCOMPLETE_PAGE_SIZE = 50
SCHEDULING_EVENTS = (
    CaseEvent.Kind.CANDIDATE,
    CaseEvent.Kind.BOOKED,
    CaseEvent.Kind.RESCHEDULED,
    CaseEvent.Kind.CANCELLED,
    CaseEvent.Kind.CHECKED_IN,
    CaseEvent.Kind.COMPLETED,
    CaseEvent.Kind.NO_SHOW,
    CaseEvent.Kind.CHANGE_REQUESTED,
)


def _incomplete_cutoff() -> datetime:
    return timezone.now() - timedelta(days=settings.INCOMPLETE_INTAKE_DAYS)


@require_safe
@front_desk_area
def home(request: HttpRequest) -> HttpResponse:
    """The patients' open requests, then the consultations physicians asked for."""
    to_schedule = list(Case.objects.to_schedule())
    requests = list(ConsultationChangeRequest.objects.for_front_desk())
    audit_reads(
        request,
        action=Action.LIST,
        records=[seen(case, case.patient_id) for case in to_schedule]
        + [seen(change.consultation, change.consultation.patient_id) for change in requests],
    )
    return render(
        request,
        "frontdesk/home.html",
        {
            "to_schedule": to_schedule,
            "requests": requests,
            "today": timezone.localdate(),
            "incomplete_count": Intake.objects.incomplete(
                started_before=_incomplete_cutoff()
            ).count(),
            "incomplete_days": settings.INCOMPLETE_INTAKE_DAYS,
        },
    )


# --- Booking and rescheduling -------------------------------------------------------------


def _start_day(request: HttpRequest, *, today: date, window_end: date) -> date:
    """The first day the booking page shows: from today to the horizon's last day."""
    form = DayForm({"date": request.GET.get("from", "")})
    return min(max(form.day(), today), window_end - timedelta(days=1))


def _slot_page(
    request: HttpRequest,
    *,
    case: Case,
    physician: PhysicianProfile,
    kind: ConsultationType,
    mode_display: str,
    consultation: Consultation | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    window_end = today + timedelta(days=settings.BOOKING_HORIZON_DAYS)  # not bookable
    start_day = _start_day(request, today=today, window_end=window_end)
    days = min(SLOT_PAGE_DAYS, (window_end - start_day).days)
    slots = scheduling.free_slots(
        physician=physician,
        consultation_type=kind,
        start_day=start_day,
        days=days,
        ignore=consultation,
    )
    intake = case.intake
    audit_read(request, action=Action.VIEW, record=case, patient_id=case.patient_id)
    suggested, preferred = scheduling.suggested_slots(
        slots,
        days=intake.preferred_days,
        times=intake.preferred_times,
        limit=SUGGESTED_SLOTS,
    )
    by_day = [
        (day, list(day_slots))
        for day, day_slots in groupby(slots, key=lambda slot: slot.local_start.date())
    ]
    later = start_day + timedelta(days=days)
    earlier = start_day - timedelta(days=SLOT_PAGE_DAYS)
    return render(
        request,
        "frontdesk/book.html",
        {
            "case": case,
            "intake": intake,
            "physician": physician,
            "kind": kind,
            "mode_display": mode_display,
            "consultation": consultation,
            "suggested": suggested,
            "preferred": preferred,
            "by_day": by_day,
            "start_day": start_day,
            "end_day": later - timedelta(days=1),
            "later": later if later < window_end else None,
            "earlier": max(earlier, today) if start_day > today else None,
            "error": error,
        },
        status=status,
    )


def _day_and_time(moment: datetime) -> str:
    return dateformat.format(timezone.localtime(moment), r"l j F \a\t H:i")


def _slot_taken(
    request: HttpRequest, take: Callable[[datetime], Consultation]
) -> tuple[Consultation | None, str, int]:
    """Reads the picked slot and books (or moves to) it: the consultation, or the
    reason it was refused and the status to answer with (409 when someone else took
    the time, so the page shows fresh slots; 200 for anything else)."""
    form = SlotForm(request.POST)
    if not form.is_valid():
        return None, str(form.errors["starts_at"][0]), 200
    try:
        return take(form.cleaned_data["starts_at"]), "", 200
    except ClinicError as refused:
        return None, str(refused), 409 if isinstance(refused, scheduling.SlotTaken) else 200


@require_http_methods(["GET", "HEAD", "POST"])
@front_desk_area
def book(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Free slots of the case's physician for the consultation they asked for; the
    patient's preferred days and times first. A slot someone took meanwhile is
    reported with fresh slots."""
    case = get_object_or_404(
        Case.objects.select_related("intake", "assigned_to__physician_profile__user"),
        public_id=public_id,
    )
    try:
        asked = scheduling.booking_request(case)
    except ClinicError as refused:
        messages.info(request, str(refused))
        return redirect("frontdesk:home")
    kind = asked.consultation_type
    physician = case.assigned_to.physician_profile  # type: ignore[union-attr]
    error, status = "", 200
    if request.method == "POST":
        booked, error, status = _slot_taken(
            request,
            lambda starts_at: scheduling.consultation_book(
                case=case,
                starts_at=starts_at,
                booked_by=signed_in_user(request),
                consultation_type=kind,
            ),
        )
        if booked is not None:
            messages.success(
                request,
                f"Booked {case.intake.legal_name} with {physician.display_name} on "
                f"{_day_and_time(booked.starts_at)}. "
                "The patient has been sent the details.",
            )
            return redirect("frontdesk:consultation", public_id=booked.public_id)
    return _slot_page(
        request,
        case=case,
        physician=physician,
        kind=kind,
        mode_display=asked.decision.get_consultation_mode_display(),
        error=error,
        status=status,
    )


def _consultation(public_id: UUID) -> Consultation:
    return get_object_or_404(
        Consultation.objects.select_related(
            "case__intake",
            "patient",
            "physician__physician_profile",
            "consultation_type",
            "booked_by",
        ),
        public_id=public_id,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@front_desk_area
def reschedule(request: HttpRequest, public_id: UUID) -> HttpResponse:
    consultation = _consultation(public_id)
    if consultation.state != Consultation.State.BOOKED:
        messages.error(
            request,
            "Only a booked consultation can be moved; "
            f"this one is {consultation.get_state_display().lower()}.",
        )
        return redirect("frontdesk:consultation", public_id=consultation.public_id)
    error, status = "", 200
    if request.method == "POST":
        moved, error, status = _slot_taken(
            request,
            lambda starts_at: procedures.booking_reschedule(
                consultation=consultation, starts_at=starts_at, by=signed_in_user(request)
            ),
        )
        if moved is not None:
            messages.success(
                request,
                f"Moved to {_day_and_time(moved.starts_at)}. "
                "The patient has been sent the new time.",
            )
            return redirect("frontdesk:consultation", public_id=moved.public_id)
    return _slot_page(
        request,
        case=consultation.case,
        physician=consultation.physician.physician_profile,
        kind=consultation.consultation_type,
        mode_display=consultation.get_mode_display(),
        consultation=consultation,
        error=error,
        status=status,
    )


# --- One consultation -----------------------------------------------------------------------


def _consultation_page(
    request: HttpRequest,
    consultation: Consultation,
    *,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    audit_read(request, action=Action.VIEW, record=consultation, patient_id=consultation.patient_id)
    return render(
        request,
        "frontdesk/consultation.html",
        {
            "consultation": consultation,
            "case": consultation.case,
            "intake": consultation.case.intake,
            "open_request": consultation.change_requests.open().first(),
            "history": consultation.case.events.filter(kind__in=SCHEDULING_EVENTS).select_related(
                "actor"
            ),
            "cancel_form": cancel_form or CancelForm(),
            "now": timezone.now(),
            "check_in_open": scheduling.check_in_open(consultation),
            "late_notice_hours": scheduling.LATE_NOTICE_HOURS,
        },
        status=status,
    )


@require_safe
@front_desk_area
def consultation_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _consultation_page(request, _consultation(public_id))


MOVE_DONE = {
    "cancel": "Cancelled; the patient has been told and the case is back on the list to book.",
    "check_in": "Checked in.",
    "complete": "Marked as completed.",
    "no_show": "Recorded as a no-show; the case is back on the list to book.",
}


@require_POST
@front_desk_area
def consultation_move(request: HttpRequest, public_id: UUID, action: str) -> HttpResponse:
    """Check in, completed, no-show, or cancel (with a reason)."""
    if action not in scheduling.CONSULTATION_MOVES:
        raise Http404("No such change.")
    consultation = _consultation(public_id)
    reason = ""
    if action == "cancel":
        form = CancelForm(request.POST)
        if not form.is_valid():
            return _consultation_page(request, consultation, cancel_form=form)
        reason = form.cleaned_data["reason"]
    try:
        scheduling.consultation_move(
            consultation=consultation, action=action, by=signed_in_user(request), reason=reason
        )
    except ClinicError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, MOVE_DONE[action])
    return redirect("frontdesk:consultation", public_id=consultation.public_id)


@require_POST
@front_desk_area
def change_request_handled(request: HttpRequest, public_id: UUID) -> HttpResponse:
    change = get_object_or_404(
        ConsultationChangeRequest.objects.select_related("consultation"), public_id=public_id
    )
    try:
        scheduling.change_request_close(change=change, by=signed_in_user(request))
    except ClinicError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "The patient's request is marked as handled.")
    return redirect("frontdesk:consultation", public_id=change.consultation.public_id)


# --- The day view -----------------------------------------------------------------------------


@require_safe
@front_desk_area
def day_view(request: HttpRequest) -> HttpResponse:
    """Every physician's consultations on one day, side by side; printable. Four
    queries whatever the number of physicians and consultations."""
    form = DayForm(request.GET or None)
    shown = form.day()
    start, end = scheduling.local_day_range(shown)
    physicians = (
        PhysicianProfile.objects.filter(user__is_active=True)
        .select_related("user")
        .prefetch_related(
            Prefetch(
                "working_hours",
                queryset=WorkingHours.objects.filter(weekday=shown.weekday()).order_by("starts"),
                to_attr="windows",
            ),
            Prefetch(
                "time_off",
                queryset=TimeOff.objects.filter(starts_at__lt=end, ends_at__gt=start),
                to_attr="away",
            ),
        )
        .order_by("display_name")
    )
    consultations = list(
        Consultation.objects.filter(starts_at__gte=start, starts_at__lt=end)
        .select_related("case__intake", "patient", "consultation_type")
        .order_by("starts_at")
    )
    audit_reads(request, action=Action.LIST, records=[seen(c, c.patient_id) for c in consultations])
    columns = []
    for profile in physicians:
        own = [c for c in consultations if c.physician_id == profile.user_id]
        if own or profile.windows:
            columns.append({"physician": profile, "consultations": own})
    return render(
        request,
        "frontdesk/day.html",
        {
            "day": shown,
            "today": timezone.localdate(),
            "previous": shown - timedelta(days=1),
            "next": shown + timedelta(days=1),
            "columns": columns,
            "form": DayForm(initial={"date": shown}),
        },
    )


# --- Incomplete intakes -----------------------------------------------------------------------


@require_safe
@front_desk_area
def incomplete(request: HttpRequest) -> HttpResponse:
    """Drafts started more than ``INCOMPLETE_INTAKE_DAYS`` ago and not submitted."""
    drafts = Intake.objects.incomplete(started_before=_incomplete_cutoff())
    page = Paginator(drafts, INCOMPLETE_PAGE_SIZE).get_page(request.GET.get("page"))
    audit_reads(
        request, action=Action.LIST, records=[seen(d, d.patient_id) for d in page.object_list]
    )
    return render(
        request,
        "frontdesk/incomplete.html",
        {
            "page": page,
            "days": settings.INCOMPLETE_INTAKE_DAYS,
            "step_count": STEP_COUNT,
        },
    )


@require_POST
@front_desk_area
def incomplete_remind(request: HttpRequest, public_id: UUID) -> HttpResponse:
    intake = get_object_or_404(Intake.objects.select_related("patient"), public_id=public_id)
    try:
        services.intake_reminder_send(intake=intake, by=signed_in_user(request))
    except ClinicError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"A reminder is on its way to {intake.patient.email}.")
    return redirect("frontdesk:incomplete")
