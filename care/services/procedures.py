"""Booking the procedure a shared plan calls for.

The booking itself is the scheduling module's: the same slot checks, the physician's
profile row locked so bookings of one physician queue up, and the exclusion
constraint as the final guard ("just taken"). What this adds: the procedure is the
plan's ("injection procedure" with the plan's physician), and for a self-pay patient
the Good Faith Estimate falls due with the booking (45 CFR 149.610(b)); it is issued
at once, with the procedure's date, when everything it needs is there, and is
otherwise left on the front desk's list with its deadline.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from care.models import EstimateDue, TreatmentPlan
from care.services.estimates import estimate_due_open, estimate_issue, needs_estimate
from clinic.errors import ClinicError
from clinic.models import PhysicianProfile, User
from clinic.policy import require_front_desk
from intake import scheduling
from intake.models import Case, CaseEvent, Consultation, ConsultationType, ReviewDecision

PROCEDURE_TYPE = scheduling.DECISION_TYPES[ReviewDecision.ConsultationType.PROCEDURE]


def procedure_type() -> ConsultationType:
    return ConsultationType.objects.get(slug=PROCEDURE_TYPE)


def booked_procedure(case: Case) -> Consultation | None:
    return (
        case.consultations.filter(
            state=Consultation.State.BOOKED, consultation_type__slug=PROCEDURE_TYPE
        )
        .order_by("starts_at")
        .first()
    )


def procedure_plan(case: Case) -> TreatmentPlan:
    """The shared plan a procedure is booked from, or a readable refusal."""
    plan = case.treatment_plans.shared().select_related("physician").order_by("-version").first()
    if plan is None:
        raise ClinicError(f"Case {case.reference} has no shared treatment plan to book from.")
    return plan


def procedure_book(*, case: Case, starts_at: datetime, booked_by: User) -> Consultation:
    """Books the plan's procedure with the plan's physician at ``starts_at``. Raises
    ``SlotTaken`` when someone booked the time first."""
    from intake.notifications import consultation_notify

    require_front_desk(booked_by, doing="books procedures")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        plan = procedure_plan(locked)
        if booked_procedure(locked) is not None:
            raise ClinicError(
                f"Case {locked.reference} already has a procedure booked; move that one instead."
            )
        kind = procedure_type()
        physician = (
            PhysicianProfile.objects.select_for_update()
            .select_related("user")
            .get(user_id=plan.physician_id)
        )
        ends_at = starts_at + timedelta(minutes=kind.duration_minutes)
        # The scheduling module's own check: working hours, time off, other bookings.
        window = scheduling._check_slot(physician, starts_at, ends_at)
        try:
            with transaction.atomic():
                consultation = Consultation.objects.create(
                    case=locked,
                    patient_id=locked.patient_id,
                    physician_id=physician.user_id,
                    consultation_type=kind,
                    mode="in_person",
                    starts_at=starts_at,
                    ends_at=ends_at,
                    location=window.location,
                    booked_by=booked_by,
                )
        except IntegrityError as error:
            raise scheduling.SlotTaken("That time was just taken; please pick another.") from error
        scheduling._event(
            locked,
            kind=CaseEvent.Kind.BOOKED,
            actor=booked_by,
            note=f"{kind.name} with {physician.display_name}, "
            f"{scheduling._when(starts_at)} (plan version {plan.version}).",
            to=Case.State.BOOKED,
        )
        consultation_notify(consultation, "booked")
        _estimate_for_date(locked, starts_at=starts_at, by=booked_by)
    case.state = locked.state
    return consultation


def _estimate_for_date(case: Case, *, starts_at: datetime, by: User) -> None:
    """For a self-pay patient, the estimate falls due with the procedure's date and is
    issued at once when everything it needs is there (else it waits on the front
    desk's list, with its deadline). Called inside the booking's transaction."""
    if not needs_estimate(case):
        return
    estimate_due_open(
        case=case,
        reason=EstimateDue.Reason.SCHEDULED,
        at=timezone.now(),
        service_on=timezone.localdate(starts_at),
        by=by,
    )
    try:
        with transaction.atomic():
            estimate_issue(case=case, by=by)
    except ClinicError:
        pass  # left on the front desk's list, with its deadline


def booking_reschedule(
    *, consultation: Consultation, starts_at: datetime, by: User
) -> Consultation:
    """Moves a booked consultation with the scheduling module's checks and notice.
    When it is a procedure, its Good Faith Estimate, which names the procedure's date
    (45 CFR 149.610(c)(1)(ii)), falls due again with the new date and is re-issued
    (the earlier one is kept, as every issued estimate is)."""
    with transaction.atomic():
        moved = scheduling.consultation_reschedule(
            consultation=consultation, starts_at=starts_at, by=by
        )
        if moved.consultation_type.slug == PROCEDURE_TYPE:
            case = Case.objects.select_for_update().select_related("intake").get(pk=moved.case_id)
            _estimate_for_date(case, starts_at=moved.starts_at, by=by)
    return moved
