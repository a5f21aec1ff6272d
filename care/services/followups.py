"""Follow-up outcomes: the questionnaires a patient answers after a procedure.

- ``followups_plan`` runs inside ``procedure_record``'s transaction: it copies the
  baseline from the intake, plans one follow-up per active time point of the
  clinic's schedule, and closes the unanswered follow-ups of an earlier series on
  the same target (patient, body region and side): a repeat procedure starts again.
- ``followups_run`` is the periodic task's work: it opens follow-ups whose window
  has opened (the invitation), sends at most two reminders, and marks missed those
  whose window closed unanswered. Every message is a ``FollowUpContact`` row under a
  unique constraint and every transition a conditional update, so a run repeated or
  overlapping another sends each message once.
- ``followup_answer`` scores the answers with the intake's scoring code and flags
  for the physician any complication, or pain 2 or more points worse than baseline.

E-mails and texts carry no health details: only that a questionnaire is waiting,
and a link to it (which needs the patient's login; see ``care.views_followups``).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrPromise

from care.models import (
    CareEvent,
    FollowUp,
    FollowUpCall,
    FollowUpContact,
    FollowUpPreference,
    FollowUpResponse,
    FollowUpSeries,
    FollowUpTimepoint,
    ProcedureRecord,
)
from clinic.errors import ClinicError
from clinic.models import User
from clinic.policy import may_plan_care, require_front_desk
from clinic.services import email_queue, patient_language
from intake.models import Case, Instrument
from intake.scoring import instrument_score

PAIN = "pain-nrs"
PERCENT_NORMAL = "percent-of-normal"
DAILY_ACTIVITIES = "daily-activities"
INSTRUMENTS = (PAIN, PERCENT_NORMAL, DAILY_ACTIVITIES)
# A rise of this much on the 0-10 pain rating is a change patients notice (Farrar et
# al., Pain 2001;94:149-158), here in the wrong direction: the physician looks again.
PAIN_WORSE_BY = 2

COMPLICATIONS = {
    "redness_swelling": _("Redness, heat or swelling of the treated area that got worse"),
    "fever": _("A fever"),
    "new_pain": _("A new pain, or a pain much worse than before"),
    "saw_doctor": _("A visit to a doctor, urgent care or a hospital because of the treatment"),
}


def _event(case_id: int, kind: str, actor: User | None = None, note: str = "") -> None:
    CareEvent.objects.create(case_id=case_id, kind=kind, actor=actor, note=note)


# --- Planning -------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    pain: int | None
    percent_normal: Decimal | None
    function: Decimal | None


def intake_baseline(case: Case, *, body_region_id: int, side: str) -> Baseline:
    """The intake's answers: the pain "now" of the treated area (the complaint on the
    same region and side, else the main complaint) and the two function scores."""
    complaints = list(case.intake.complaints.all())
    match = next(
        (c for c in complaints if c.body_region_id == body_region_id and c.side == side),
        None,
    ) or next((c for c in complaints if c.pk == case.main_complaint_id), None)
    scores = dict(
        case.intake.responses.filter(instrument__slug__in=INSTRUMENTS).values_list(
            "instrument__slug", "score"
        )
    )
    return Baseline(
        pain=match.pain_now if match else None,
        percent_normal=scores.get(PERCENT_NORMAL),
        function=scores.get(DAILY_ACTIVITIES),
    )


def window(timepoint: FollowUpTimepoint, treated_on: date) -> tuple[date, date, date]:
    """(opens, due, closes) of a time point after a procedure on ``treated_on``."""
    due = treated_on + timedelta(days=timepoint.days_after)
    return (
        due - timedelta(days=timepoint.opens_days_before),
        due,
        due + timedelta(days=timepoint.closes_days_after),
    )


def _close(followups: list[FollowUp], *, reason: str, now: datetime) -> int:
    closed = 0
    for followup in followups:
        closed += FollowUp.objects.filter(pk=followup.pk, state__in=FollowUp.UNANSWERED).update(
            state=FollowUp.State.CLOSED, closed_at=now, closed_reason=reason
        )
    return closed


def followups_plan(*, record: ProcedureRecord) -> FollowUpSeries:
    """Plans the follow-ups of a recorded procedure (called inside the recording's
    transaction). An earlier running series on the same target is closed first, its
    unanswered follow-ups marked "not asked" with the reason; answered ones stay. A
    patient who opted out gets the series recorded and its follow-ups closed."""
    now = timezone.now()
    case = Case.objects.select_related("intake").get(pk=record.case_id)
    treated_on = timezone.localdate(record.performed_at)
    for earlier in FollowUpSeries.objects.select_for_update().filter(
        patient_id=case.patient_id,
        body_region_id=record.body_region_id,
        side=record.side,
        closed_at__isnull=True,
    ):
        reason = f"A new procedure on {treated_on:%B %-d, %Y} started a new series."
        count = _close(list(earlier.followups.all()), reason=reason, now=now)
        earlier.closed_at, earlier.closed_reason = now, reason
        earlier.save(update_fields=["closed_at", "closed_reason"])
        _event(
            earlier.case_id, CareEvent.Kind.FOLLOWUPS_CLOSED, note=f"{count} not asked: {reason}"
        )
    baseline = intake_baseline(case, body_region_id=record.body_region_id, side=record.side)
    series = FollowUpSeries.objects.create(
        record=record,
        case=case,
        patient_id=case.patient_id,
        body_region_id=record.body_region_id,
        side=record.side,
        treated_on=treated_on,
        baseline_pain=baseline.pain,
        baseline_percent_normal=baseline.percent_normal,
        baseline_function=baseline.function,
    )
    planned = []
    for timepoint in FollowUpTimepoint.objects.filter(is_active=True).order_by("days_after"):
        opens, due, closes = window(timepoint, treated_on)
        planned.append(
            FollowUp(
                series=series,
                timepoint=timepoint,
                label=timepoint.name,
                due_on=due,
                opens_on=opens,
                closes_on=closes,
            )
        )
    FollowUp.objects.bulk_create(planned)
    _event(
        case.pk,
        CareEvent.Kind.FOLLOWUPS_PLANNED,
        actor=record.physician,
        note=", ".join(f"{f.label} ({f.due_on:%Y-%m-%d})" for f in planned),
    )
    if _opted_out(case.patient_id):
        count = _close(planned, reason="The patient opted out of follow-ups.", now=now)
        _event(case.pk, CareEvent.Kind.FOLLOWUPS_CLOSED, note=f"{count} not asked: opted out.")
    return series


# --- Preferences ------------------------------------------------------------------------


def _opted_out(patient_id: int) -> bool:
    return FollowUpPreference.objects.filter(
        patient_id=patient_id, opted_out_at__isnull=False
    ).exists()


def preference_of(patient: User) -> FollowUpPreference:
    return FollowUpPreference.objects.filter(patient=patient).first() or FollowUpPreference(
        patient=patient
    )


def followup_preferences_save(
    *, patient: User, texts_agreed: bool, opted_out: bool
) -> FollowUpPreference:
    """Records the patient's choices. Opting out closes every unanswered follow-up
    (recorded, with the reason); opting back in applies to new procedures."""
    now = timezone.now()
    with transaction.atomic():
        preference, _ = FollowUpPreference.objects.select_for_update().get_or_create(
            patient=patient
        )
        was_out = preference.opted_out_at is not None
        preference.texts_agreed = texts_agreed
        preference.opted_out_at = (preference.opted_out_at or now) if opted_out else None
        preference.save()
        if opted_out and not was_out:
            pending = list(
                FollowUp.objects.filter(
                    series__patient=patient, state__in=FollowUp.UNANSWERED
                ).select_related("series")
            )
            _close(pending, reason="The patient opted out of follow-ups.", now=now)
            for case_id in sorted({f.series.case_id for f in pending}):
                _event(case_id, CareEvent.Kind.FOLLOWUPS_CLOSED, actor=patient, note="Opted out.")
    return preference


# --- The periodic task ------------------------------------------------------------------


def followup_link(followup: FollowUp) -> str:
    return settings.SITE_URL + reverse("care:followup", args=[followup.public_id])


SUBJECTS: dict[str, StrPromise] = {
    FollowUpContact.Kind.INVITATION: _("A short questionnaire from %(clinic)s is waiting for you"),
    FollowUpContact.Kind.REMINDER_1: _("Reminder: a short questionnaire from %(clinic)s"),
    FollowUpContact.Kind.REMINDER_2: _("Last reminder: a short questionnaire from %(clinic)s"),
}


def _contact(followup: FollowUp, kind: str) -> bool:
    """Sends one message of ``kind`` for the follow-up, once: the unique row decides
    (a parallel run inserting the same row waits, then fails, and sends nothing)."""
    patient = followup.series.patient
    preference = preference_of(patient)
    phone = str(followup.series.case.intake.phone or "")
    text = bool(phone) and preference.texts_agreed
    try:
        # In the patient's language, whatever the language of the task that sends it.
        with transaction.atomic(), translation.override(patient_language(patient)):
            FollowUpContact.objects.create(followup=followup, kind=kind, texted=text)
            link = followup_link(followup)
            email_queue(
                to=patient.email,
                subject=SUBJECTS[kind] % {"clinic": settings.CLINIC_NAME},
                template="emails/followup.txt",
                context={"name": patient.full_name, "link": link, "closes_on": followup.closes_on},
            )
            if text:
                from intake.notifications import sms_send

                message = gettext(
                    "%(clinic)s: a short questionnaire is waiting for you. Please log in: %(link)s"
                ) % {"clinic": settings.CLINIC_NAME, "link": link}
                transaction.on_commit(partial(sms_send, to=phone, text=message), robust=True)
    except IntegrityError:
        return False
    return True


def followups_open_due(*, now: datetime) -> int:
    """Opens the planned follow-ups whose window has opened and invites the patient."""
    today = timezone.localdate(now)
    opened = 0
    due = FollowUp.objects.filter(
        state=FollowUp.State.PLANNED, opens_on__lte=today, closes_on__gte=today
    ).select_related("series__patient", "series__case__intake")
    for followup in due:
        with transaction.atomic():
            # The conditional update is the lock: of two runs, one changes the row.
            if not FollowUp.objects.filter(pk=followup.pk, state=FollowUp.State.PLANNED).update(
                state=FollowUp.State.OPEN, opened_at=now
            ):
                continue
            followup.opened_at = now
            _event(followup.series.case_id, CareEvent.Kind.FOLLOWUP_OPENED, note=followup.label)
            _contact(followup, FollowUpContact.Kind.INVITATION)
        opened += 1
    return opened


def followup_reminders_send(*, now: datetime) -> int:
    """At most two reminders to a patient who has not answered an open follow-up,
    ``FOLLOWUP_REMINDER_DAYS`` after it opened; each once."""
    kinds = (FollowUpContact.Kind.REMINDER_1, FollowUpContact.Kind.REMINDER_2)
    sent = 0
    for kind, days in zip(kinds, settings.FOLLOWUP_REMINDER_DAYS[:2], strict=False):
        for followup in (
            FollowUp.objects.filter(
                state=FollowUp.State.OPEN, opened_at__lte=now - timedelta(days=days)
            )
            .exclude(contacts__kind=kind)
            .select_related("series__patient", "series__case__intake")
        ):
            sent += _contact(followup, kind)
    return sent


def followups_close_missed(*, now: datetime) -> int:
    """A follow-up whose window closed unanswered is missed (never dropped)."""
    today = timezone.localdate(now)
    missed = 0
    for followup in FollowUp.objects.filter(
        state__in=FollowUp.UNANSWERED, closes_on__lt=today
    ).select_related("series"):
        with transaction.atomic():
            if FollowUp.objects.filter(pk=followup.pk, state__in=FollowUp.UNANSWERED).update(
                state=FollowUp.State.MISSED, closed_at=now
            ):
                _event(followup.series.case_id, CareEvent.Kind.FOLLOWUP_MISSED, note=followup.label)
                missed += 1
    return missed


def followups_run(*, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    return {
        "missed": followups_close_missed(now=now),
        "opened": followups_open_due(now=now),
        "reminded": followup_reminders_send(now=now),
    }


# --- Answering ------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpAnswers:
    """What the patient chose: per instrument slug, item position to option value;
    the global change (-3..3); each complication question yes (True) or no."""

    instruments: dict[str, dict[int, int]]
    global_change: int
    redness_swelling: bool
    fever: bool
    new_pain: bool
    saw_doctor: bool


def followup_instruments() -> list[Instrument]:
    found = {
        i.slug: i
        for i in Instrument.objects.filter(slug__in=INSTRUMENTS).prefetch_related(
            "items", "options"
        )
    }
    missing = [slug for slug in INSTRUMENTS if slug not in found]
    if missing:
        raise ClinicError(f"The follow-up questionnaire is missing {', '.join(missing)}.")
    return [found[slug] for slug in INSTRUMENTS]


def attention_reasons(
    *, answers: FollowUpAnswers, pain: int, baseline_pain: int | None
) -> list[str]:
    # Written for the physician, who reads English whatever the patient reads.
    with translation.override("en"):
        reasons = [
            str(COMPLICATIONS[name])
            for name in COMPLICATIONS
            if getattr(answers, name)  # the complication questions answered "yes"
        ]
    if baseline_pain is not None and pain - baseline_pain >= PAIN_WORSE_BY:
        reasons.append(f"Pain {pain}/10, {pain - baseline_pain} worse than before treatment")
    return reasons


def followup_answer(
    *, followup: FollowUp, patient: User, answers: FollowUpAnswers
) -> FollowUpResponse:
    """Saves the patient's answers once, scored on the server. Any complication, or
    pain at least 2 points worse than baseline, puts the follow-up in front of the
    case's physician (the review queue's "follow-up needs attention")."""
    if not -3 <= answers.global_change <= 3:
        raise ClinicError(
            gettext("Choose how the treated area is compared with before the treatment.")
        )
    instruments = followup_instruments()
    scores: dict[str, Decimal] = {}
    for instrument in instruments:
        given = answers.instruments.get(instrument.slug, {})
        try:
            scores[instrument.slug] = instrument_score(instrument=instrument, answers=given)
        except ValueError as error:
            raise ClinicError(
                gettext("Please answer every question of “%(questionnaire)s”.")
                % {"questionnaire": instrument.shown_name}
            ) from error
    now = timezone.now()
    with transaction.atomic():
        locked = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("series")
            .get(pk=followup.pk)
        )
        if locked.series.patient_id != patient.pk:
            raise ClinicError(gettext("This questionnaire is not yours."))
        if locked.state == FollowUp.State.ANSWERED:
            raise ClinicError(gettext("You have already answered this questionnaire. Thank you."))
        if locked.state != FollowUp.State.OPEN:
            raise ClinicError(gettext("This questionnaire is not open for answers."))
        pain = int(scores[PAIN])
        reasons = attention_reasons(
            answers=answers, pain=pain, baseline_pain=locked.series.baseline_pain
        )
        response = FollowUpResponse.objects.create(
            followup=locked,
            answers={
                slug: {str(k): v for k, v in sorted(given.items())}
                for slug, given in answers.instruments.items()
                if slug in INSTRUMENTS
            },
            pain=pain,
            percent_normal=scores[PERCENT_NORMAL],
            function_score=scores[DAILY_ACTIVITIES],
            global_change=answers.global_change,
            redness_swelling=answers.redness_swelling,
            fever=answers.fever,
            new_pain=answers.new_pain,
            saw_doctor=answers.saw_doctor,
            needs_attention=bool(reasons),
            attention_reason="; ".join(reasons)[:300],
            submitted_at=now,
        )
        locked.state, locked.answered_at = FollowUp.State.ANSWERED, now
        locked.save(update_fields=["state", "answered_at"])
        _event(locked.series.case_id, CareEvent.Kind.FOLLOWUP_ANSWERED, actor=patient)
        if reasons:
            _event(locked.series.case_id, CareEvent.Kind.FOLLOWUP_ATTENTION, note=locked.label)
    return response


def followup_attention_review(*, followup: FollowUp, physician: User) -> FollowUp:
    """The case's physician has looked at a follow-up that needed attention."""
    with transaction.atomic():
        locked = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("series__case", "response")
            .get(pk=followup.pk)
        )
        case = locked.series.case
        if not may_plan_care(physician, case):
            raise ClinicError(
                f"Only the physician of case {case.reference} reviews its follow-ups."
            )
        response = getattr(locked, "response", None)
        if response is None or not response.needs_attention:
            raise ClinicError("This follow-up needs no review.")
        if locked.attention_reviewed_at is not None:
            raise ClinicError("This follow-up was reviewed already.")
        locked.attention_reviewed_at, locked.attention_reviewed_by = timezone.now(), physician
        locked.save(update_fields=["attention_reviewed_at", "attention_reviewed_by"])
        _event(case.pk, CareEvent.Kind.FOLLOWUP_REVIEWED, actor=physician, note=locked.label)
    return locked


def followup_call_record(*, followup: FollowUp, by: User, result: str, note: str) -> FollowUpCall:
    """The front desk records a call to a patient on the call list."""
    require_front_desk(by, doing="records follow-up calls")
    if result not in FollowUpCall.Result.values:
        raise ClinicError("Choose what happened on the call.")
    with transaction.atomic():
        locked = FollowUp.objects.select_for_update().get(pk=followup.pk)
        if locked.state != FollowUp.State.OPEN:
            raise ClinicError("This follow-up is no longer open; it needs no call.")
        call = FollowUpCall.objects.create(
            followup=locked, by=by, result=result, note=note.strip()[:300]
        )
        _event(
            FollowUpSeries.objects.values_list("case_id", flat=True).get(pk=locked.series_id),
            CareEvent.Kind.FOLLOWUP_CALLED,
            actor=by,
            note=f"{locked.label}: {call.get_result_display()}",
        )
    return call
