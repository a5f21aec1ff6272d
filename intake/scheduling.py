"""Consultations: free slots, booking, and the changes a booking goes through.

Times are computed in the clinic's time zone (``TIME_ZONE``) from each physician's
weekly working hours, so a 09:00 window is 09:00 on the wall clock on both sides of a
daylight-saving change, and stored in UTC.

Booking follows lock, re-check, write: the physician's profile row is locked (so two
bookings for one physician queue up), the slot is checked again against working
hours, time off and active consultations, then written. On PostgreSQL the exclusion
constraint (migration 0005) is the final guard; its violation becomes "That time was
just taken". The lock also matters for the constraint itself: two inserts checking
it at the same moment can deadlock each other (see the control test); with it, the
second booking checks only after the first committed, so it is refused by the
re-check, never by the database (a race test shows it).

Whatever a page offered, booking and moving accept only times inside the booking
window: at least ``BOOKING_MINIMUM_NOTICE_MINUTES`` from now and within
``BOOKING_HORIZON_DAYS``; check-in is on the consultation's day only.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import dateformat, timezone

from clinic.errors import ClinicError
from clinic.models import PhysicianProfile, TimeOff, User, WorkingHours
from clinic.policy import require_front_desk
from intake.models import (
    WEEKDAYS,
    Case,
    CaseEvent,
    Consultation,
    ConsultationChangeRequest,
    ConsultationType,
    ReviewDecision,
)

# Slots start on this grid (minutes past the window's start).
SLOT_STEP_MINUTES = 15
# A patient's cancellation with less notice than this is marked late.
LATE_NOTICE_HOURS = 24
LATE_NOTICE = timedelta(hours=LATE_NOTICE_HOURS)
# Decision consultation types and the bookable type each one means.
DECISION_TYPES = {
    ReviewDecision.ConsultationType.NEW: "new-consultation",
    ReviewDecision.ConsultationType.PROCEDURE: "injection-procedure",
}


class SlotTaken(ClinicError):
    """Someone booked the time first."""


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    ends_at: datetime
    location: str

    @cached_property
    def local_start(self) -> datetime:
        return timezone.localtime(self.starts_at)

    @property
    def value(self) -> str:
        """What the booking form posts: the instant in ISO 8601."""
        return self.starts_at.isoformat()

    @property
    def time_label(self) -> str:
        return f"{self.local_start:%H:%M}"


def _zone() -> ZoneInfo:
    zone = timezone.get_current_timezone()
    assert isinstance(zone, ZoneInfo)  # noqa: S101 (USE_TZ with a named zone)
    return zone


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on a day; a time skipped by a spring change moves forward."""
    moment = datetime.combine(day, at, tzinfo=zone)
    round_trip = moment.astimezone(ZoneInfo("UTC")).astimezone(zone)
    return round_trip if round_trip.replace(tzinfo=None) != moment.replace(tzinfo=None) else moment


def local_day_range(start_day: date, days: int = 1) -> tuple[datetime, datetime]:
    """From midnight of ``start_day`` to midnight ``days`` later, in the clinic's zone
    (a day across a daylight-saving change is 23 or 25 hours long)."""
    zone = _zone()
    return _local(start_day, time.min, zone), _local(
        start_day + timedelta(days=days), time.min, zone
    )


def booking_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The earliest and the latest start the clinic books: ``BOOKING_MINIMUM_NOTICE_MINUTES``
    from now, and midnight after the last of the ``BOOKING_HORIZON_DAYS`` (today is the
    first), in the clinic's time zone."""
    now = now or timezone.now()
    earliest = now + timedelta(minutes=settings.BOOKING_MINIMUM_NOTICE_MINUTES)
    _, latest = local_day_range(timezone.localdate(now), settings.BOOKING_HORIZON_DAYS)
    return earliest, latest


def _notice_text(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("s" if hours != 1 else "")
    return f"{minutes} minutes"


def _time_off(physician: PhysicianProfile, start: datetime, end: datetime) -> QuerySet[TimeOff]:
    return TimeOff.objects.filter(physician=physician, starts_at__lt=end, ends_at__gt=start)


def _busy(
    physician: PhysicianProfile, start: datetime, end: datetime, ignore: Consultation | None
) -> list[tuple[datetime, datetime]]:
    """Time off and active consultations of the physician that touch [start, end)."""
    blocks = list(_time_off(physician, start, end).values_list("starts_at", "ends_at"))
    consultations = (
        Consultation.objects.active().overlapping(start, end).filter(physician_id=physician.user_id)
    )
    if ignore is not None:
        consultations = consultations.exclude(pk=ignore.pk)
    blocks += list(consultations.values_list("starts_at", "ends_at"))
    return blocks


def free_slots(
    *,
    physician: PhysicianProfile,
    consultation_type: ConsultationType,
    start_day: date,
    days: int = 14,
    now: datetime | None = None,
    ignore: Consultation | None = None,
) -> list[Slot]:
    """Every start time on the slot grid where the consultation fits inside one of
    the physician's working windows, clear of time off and other consultations (but
    ``ignore``, the one being moved), and inside the booking window (the minimum
    notice from ``now``, the horizon). Three queries whatever the range."""
    earliest, latest = booking_window(now)
    zone = _zone()
    length = timedelta(minutes=consultation_type.duration_minutes)
    step = timedelta(minutes=SLOT_STEP_MINUTES)
    windows: dict[int, list[WorkingHours]] = {}
    for window in WorkingHours.objects.filter(physician=physician):
        windows.setdefault(window.weekday, []).append(window)
    range_start, range_end = local_day_range(start_day, days)
    busy = _busy(physician, range_start, range_end, ignore)
    slots: list[Slot] = []
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        for window in sorted(windows.get(day.weekday(), []), key=lambda w: w.starts):
            opens, closes = _local(day, window.starts, zone), _local(day, window.ends, zone)
            # Each start is checked against this window's blocks only, not against
            # every block of the fortnight.
            near = [(b0, b1) for b0, b1 in busy if b0 < closes and opens < b1]
            start = opens
            while start + length <= closes:
                end = start + length
                bookable = earliest <= start < latest
                if bookable and not any(b0 < end and start < b1 for b0, b1 in near):
                    slots.append(Slot(start, end, window.location))
                start += step
    return slots


def suggested_slots(
    slots: Iterable[Slot], *, days: list[str], times: list[str], limit: int = 6
) -> tuple[list[Slot], bool]:
    """A short choice to offer first: the earliest slots on the patient's preferred
    weekdays and times of day, at most one per two hours of a day so the choice spans
    several days. Falls back to the earliest slots when none is preferred (or the
    patient gave no preference); the flag says which it is."""
    weekday_codes = [code for code, _ in WEEKDAYS] + ["sat", "sun"]

    def part_of_day(moment: datetime) -> str:
        if moment.hour < 12:
            return "morning"
        return "afternoon" if moment.hour < 17 else "evening"

    def preferred(slot: Slot) -> bool:
        local = slot.local_start
        day_ok = not days or weekday_codes[local.weekday()] in days
        time_ok = not times or part_of_day(local) in times
        return day_ok and time_ok

    def spread(candidates: list[Slot]) -> list[Slot]:
        chosen: list[Slot] = []
        blocks: set[tuple[date, int]] = set()
        for slot in candidates:
            block = (slot.local_start.date(), slot.local_start.hour // 2)
            if block not in blocks:
                blocks.add(block)
                chosen.append(slot)
            if len(chosen) == limit:
                break
        return chosen

    ordered = sorted(slots, key=lambda s: s.starts_at)
    matching = [s for s in ordered if preferred(s)] if (days or times) else []
    if matching:
        return spread(matching), True
    return spread(ordered), False


def _window_for(
    physician: PhysicianProfile, starts_at: datetime, ends_at: datetime
) -> WorkingHours | None:
    local_start, local_end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    if local_start.date() != local_end.date():
        return None  # a window never crosses midnight
    for window in WorkingHours.objects.filter(physician=physician, weekday=local_start.weekday()):
        if window.starts <= local_start.time() and (local_end.time() <= window.ends):
            return window
    return None


def _check_slot(
    physician: PhysicianProfile,
    starts_at: datetime,
    ends_at: datetime,
    *,
    ignore: Consultation | None = None,
) -> WorkingHours:
    if not physician.user.is_active:
        raise ClinicError(f"{physician.display_name} is not taking appointments.")
    now = timezone.now()
    if starts_at < now:
        raise ClinicError("That time is in the past; choose a later one.")
    earliest, latest = booking_window(now)
    if starts_at < earliest:
        notice = _notice_text(settings.BOOKING_MINIMUM_NOTICE_MINUTES)
        raise ClinicError(
            f"That time is too soon: consultations are booked at least {notice} ahead. "
            "Choose a later one."
        )
    if starts_at >= latest:
        last_day = dateformat.format(timezone.localtime(latest) - timedelta(days=1), "l j F Y")
        raise ClinicError(
            f"That time is too far ahead: the clinic books up to {last_day} "
            f"({settings.BOOKING_HORIZON_DAYS} days ahead). Choose an earlier one."
        )
    window = _window_for(physician, starts_at, ends_at)
    if window is None:
        raise ClinicError(f"That time is outside {physician.display_name}'s working hours.")
    if _time_off(physician, starts_at, ends_at).exists():
        raise ClinicError(f"{physician.display_name} is away at that time.")
    clashes = (
        Consultation.objects.active()
        .overlapping(starts_at, ends_at)
        .filter(physician_id=physician.user_id)
    )
    if ignore is not None:
        clashes = clashes.exclude(pk=ignore.pk)
    if clashes.exists():
        raise SlotTaken("That time was just taken; please pick another.")
    return window


def _event(
    case: Case, *, kind: CaseEvent.Kind, actor: User, note: str, to: str | None = None
) -> None:
    from_state = case.state
    if to is not None and to != case.state:
        case.state = to
        case.save(update_fields=["state", "updated_at"])
    CaseEvent.objects.create(
        case=case, kind=kind, actor=actor, from_state=from_state, to_state=case.state, note=note
    )


def _when(moment: datetime) -> str:
    return dateformat.format(timezone.localtime(moment), "D j M Y H:i")


@dataclass(frozen=True)
class BookingRequest:
    """What a physician asked the front desk to book: their decision, the
    consultation type it means, and the physician (whose queue the case is in)."""

    decision: ReviewDecision
    consultation_type: ConsultationType
    physician_id: int


def booking_request(case: Case) -> BookingRequest:
    """The consultation the physician asked for on ``case`` (their latest candidate
    decision). Raises ``ClinicError`` when the case is not waiting for a booking."""
    if case.state != Case.State.CONSULT_REQUESTED:
        raise ClinicError(
            f"Case {case.reference} is not waiting for a booking "
            f"(it is {case.get_state_display().lower()})."
        )
    decision = (
        case.decisions.filter(outcome=ReviewDecision.Outcome.CANDIDATE)
        .order_by("-decided_at")
        .first()
    )
    physician_id = case.assigned_to_id
    if decision is None or physician_id is None:
        raise ClinicError(f"Case {case.reference} has no physician's request to book.")
    slug = DECISION_TYPES[ReviewDecision.ConsultationType(decision.consultation_type)]
    return BookingRequest(decision, ConsultationType.objects.get(slug=slug), physician_id)


def consultation_book(
    *,
    case: Case,
    starts_at: datetime,
    booked_by: User,
    consultation_type: ConsultationType | None = None,
) -> Consultation:
    """Books the consultation the physician asked for on ``case`` at ``starts_at``
    with that physician: inside their working hours, clear of time off and other
    consultations, and inside the booking window (``booking_window``: the minimum
    notice, the horizon), whatever the page offered. Raises ``SlotTaken`` when
    someone booked it first, ``ClinicError`` for any other refusal."""
    from intake.notifications import consultation_notify

    require_front_desk(booked_by, doing="books consultations")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        request = booking_request(locked)
        decision, kind = request.decision, consultation_type or request.consultation_type
        physician = (
            PhysicianProfile.objects.select_for_update()
            .select_related("user")
            .get(user_id=request.physician_id)
        )
        ends_at = starts_at + timedelta(minutes=kind.duration_minutes)
        window = _check_slot(physician, starts_at, ends_at)
        try:
            with transaction.atomic():
                consultation = Consultation.objects.create(
                    case=locked,
                    patient_id=locked.patient_id,
                    physician_id=physician.user_id,
                    consultation_type=kind,
                    mode=decision.consultation_mode,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    location=window.location
                    if decision.consultation_mode == "in_person"
                    else "Video call",
                    booked_by=booked_by,
                )
        except IntegrityError as error:
            raise SlotTaken("That time was just taken; please pick another.") from error
        _event(
            locked,
            kind=CaseEvent.Kind.BOOKED,
            actor=booked_by,
            note=f"{kind.name} with {physician.display_name}, {_when(starts_at)}.",
            to=Case.State.BOOKED,
        )
        consultation_notify(consultation, "booked")
    case.state = locked.state
    return consultation


def consultation_reschedule(
    *, consultation: Consultation, starts_at: datetime, by: User
) -> Consultation:
    """Moves a booked consultation to a new time (same physician and length), with
    the same checks as booking."""
    from intake.notifications import consultation_notify

    require_front_desk(by, doing="moves consultations")
    with transaction.atomic():
        locked = (
            Consultation.objects.select_for_update()
            .select_related("case", "consultation_type")
            .get(pk=consultation.pk)
        )
        if locked.state != Consultation.State.BOOKED:
            raise ClinicError(
                "Only a booked consultation can be moved; "
                f"this one is {locked.get_state_display().lower()}."
            )
        physician = (
            PhysicianProfile.objects.select_for_update()
            .select_related("user")
            .get(user_id=locked.physician_id)
        )
        ends_at = starts_at + (locked.ends_at - locked.starts_at)
        _check_slot(physician, starts_at, ends_at, ignore=locked)
        before = locked.starts_at
        locked.starts_at, locked.ends_at = starts_at, ends_at
        locked.sequence += 1
        try:
            with transaction.atomic():
                locked.save(update_fields=["starts_at", "ends_at", "sequence", "updated_at"])
        except IntegrityError as error:
            raise SlotTaken("That time was just taken; please pick another.") from error
        _event(
            locked.case,
            kind=CaseEvent.Kind.RESCHEDULED,
            actor=by,
            note=f"Moved from {_when(before)} to {_when(starts_at)}.",
        )
        _requests_resolve(locked, by=by, resolution=f"Moved to {_when(starts_at)}.")
        consultation_notify(locked, "rescheduled")
    return locked


# State changes after booking, with the states each may come from.
CONSULTATION_MOVES: dict[str, tuple[frozenset[str], str, CaseEvent.Kind]] = {
    "cancel": (
        frozenset({Consultation.State.BOOKED}),
        Consultation.State.CANCELLED,
        CaseEvent.Kind.CANCELLED,
    ),
    "check_in": (
        frozenset({Consultation.State.BOOKED}),
        Consultation.State.CHECKED_IN,
        CaseEvent.Kind.CHECKED_IN,
    ),
    "complete": (
        frozenset({Consultation.State.CHECKED_IN}),
        Consultation.State.COMPLETED,
        CaseEvent.Kind.COMPLETED,
    ),
    "no_show": (
        frozenset({Consultation.State.BOOKED}),
        Consultation.State.NO_SHOW,
        CaseEvent.Kind.NO_SHOW,
    ),
}
# After these the case is back on the 'to schedule' list (the front desk offers a new time).
BACK_TO_BOOKING = frozenset({"cancel", "no_show"})


def check_in_open(consultation: Consultation, now: datetime | None = None) -> bool:
    """A patient checks in on the day of their consultation (in the clinic's time
    zone), not before and not on a later day."""
    now = now or timezone.now()
    return timezone.localdate(consultation.starts_at) == timezone.localdate(now)


def consultation_move(
    *, consultation: Consultation, action: str, by: User, reason: str = ""
) -> Consultation:
    """Cancel (with a reason), check in (on the day only), complete, or record a
    no-show. After a cancellation or a no-show the case is back on the 'to schedule'
    list; any open request of the patient's for this consultation is settled by the
    change."""
    from intake.notifications import consultation_notify

    require_front_desk(by, doing="changes consultations")
    sources, target, kind = CONSULTATION_MOVES[action]
    reason = reason.strip()
    if action == "cancel" and not reason:
        raise ClinicError("Give the reason for cancelling.")
    with transaction.atomic():
        locked = (
            Consultation.objects.select_for_update().select_related("case").get(pk=consultation.pk)
        )
        if locked.state not in sources:
            raise ClinicError(
                f"This consultation is {locked.get_state_display().lower()}; "
                "that change is not possible."
            )
        if action == "check_in" and not check_in_open(locked):
            day = dateformat.format(timezone.localtime(locked.starts_at), "l j F")
            raise ClinicError(
                f"Check-in is on the day of the consultation ({day}), not before or after."
            )
        locked.state = target
        if action == "cancel":
            locked.cancel_reason = reason
            locked.sequence += 1
        locked.save(update_fields=["state", "cancel_reason", "sequence", "updated_at"])
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        _event(
            case,
            kind=kind,
            actor=by,
            note=reason or f"{_when(locked.starts_at)}.",
            to=Case.State.CONSULT_REQUESTED if action in BACK_TO_BOOKING else None,
        )
        _requests_resolve(locked, by=by, resolution=locked.get_state_display() + ".")
        if action == "cancel":
            consultation_notify(locked, "cancelled")
    return locked


def _requests_resolve(consultation: Consultation, *, by: User, resolution: str) -> None:
    consultation.change_requests.open().update(
        resolved_at=timezone.now(), resolved_by=by, resolution=resolution
    )


def consultation_change_request(
    *,
    consultation: Consultation,
    patient: User,
    kind: str,
    message: str = "",
    now: datetime | None = None,
) -> ConsultationChangeRequest:
    """The patient asks the front desk to move or cancel their booked consultation.
    One open request per consultation; a cancellation inside ``LATE_NOTICE`` is
    marked late. The consultation itself stays booked until the front desk acts."""
    now = now or timezone.now()
    kind = ConsultationChangeRequest.Kind(kind)
    with transaction.atomic():
        locked = (
            Consultation.objects.select_for_update().select_related("case").get(pk=consultation.pk)
        )
        if locked.patient_id != patient.pk:
            raise ClinicError("This is not one of your consultations.")
        if locked.state != Consultation.State.BOOKED or locked.starts_at <= now:
            raise ClinicError(
                "This consultation can no longer be changed online; please call the clinic."
            )
        if locked.change_requests.open().exists():
            raise ClinicError(
                "You have already asked for a change to this consultation; "
                "the front desk will contact you."
            )
        notice = locked.starts_at - now
        late = kind == ConsultationChangeRequest.Kind.CANCEL and notice < LATE_NOTICE
        change = ConsultationChangeRequest.objects.create(
            consultation=locked, kind=kind, message=message.strip(), late=late
        )
        _event(
            Case.objects.select_for_update().get(pk=locked.case_id),
            kind=CaseEvent.Kind.CHANGE_REQUESTED,
            actor=patient,
            note=(
                f"Asked to {kind.label.lower()} the consultation of {_when(locked.starts_at)}"
                + (f" (late: less than {LATE_NOTICE_HOURS} hours' notice)." if late else ".")
            ),
        )
    return change


def change_request_close(*, change: ConsultationChangeRequest, by: User) -> None:
    """The front desk marks a patient's request handled without moving the
    consultation (e.g. the patient withdrew it on the phone)."""
    require_front_desk(by, doing="handles patients' requests")
    with transaction.atomic():
        locked = ConsultationChangeRequest.objects.select_for_update().get(pk=change.pk)
        if locked.resolved_at is not None:
            return
        locked.resolved_at, locked.resolved_by = timezone.now(), by
        locked.resolution = "Marked handled by the front desk."
        locked.save(update_fields=["resolved_at", "resolved_by", "resolution"])


def reminders_send(*, now: datetime | None = None) -> int:
    """Sends each due reminder once (see ``ConsultationReminder``). A reminder is due
    from ``hours`` before the start until the next, shorter reminder is due, so a
    consultation booked at short notice gets only the reminder that fits."""
    from django.conf import settings

    from intake.models import ConsultationReminder
    from intake.notifications import consultation_notify

    now = now or timezone.now()
    hours = sorted(set(settings.REMINDER_HOURS), reverse=True)
    sent = 0
    for index, before in enumerate(hours):
        shorter = hours[index + 1] if index + 1 < len(hours) else 0
        due = Consultation.objects.filter(
            state=Consultation.State.BOOKED,
            starts_at__gt=now + timedelta(hours=shorter),
            starts_at__lte=now + timedelta(hours=before),
        ).select_related(
            "patient", "physician__physician_profile", "case__intake", "consultation_type"
        )
        for consultation in due:
            try:
                with transaction.atomic():
                    ConsultationReminder.objects.create(
                        consultation=consultation,
                        hours_before=before,
                        starts_at=consultation.starts_at,
                    )
                    consultation_notify(consultation, "reminder")
            except IntegrityError:
                continue  # sent already, by an earlier or a parallel run
            sent += 1
    return sent
