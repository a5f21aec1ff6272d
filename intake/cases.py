"""The physician's work on a case: claiming it, handing it on, asking the patient,
and deciding. One function per transition; ``TRANSITIONS`` is the whole table.

Every function locks the case row, re-checks the state and who holds the case, then
writes the change and its ``CaseEvent`` in one transaction, so two physicians acting
on one case at the same moment cannot both succeed: the second is told who has it.
The patient is e-mailed (on commit, without health details) after every decision.
"""

import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from clinic.errors import ClinicError
from clinic.models import User
from clinic.policy import may_act_on_case, require_physician
from clinic.roles import Role, role_of
from clinic.services import email_queue, patient_language
from intake.models import (
    Case,
    CaseEvent,
    CaseFlag,
    ImagingStudy,
    InformationRequest,
    ReviewDecision,
)
from intake.routing import review_due, urgent_case_notify
from treatments.models import BodyRegion, Contraindication, Priority, TreatmentOption

S = Case.State


@dataclass(frozen=True)
class Transition:
    verb: str  # completes "You cannot ... case RM-...: it is <state>."
    sources: frozenset[str]
    target: str


TRANSITIONS: dict[str, Transition] = {
    "claim": Transition("claim", frozenset({S.SUBMITTED}), S.UNDER_REVIEW),
    "release": Transition("release", frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.SUBMITTED),
    "reassign": Transition("reassign", frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.SUBMITTED),
    "ask": Transition(
        "ask about",
        frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.INFO_REQUESTED}),
        S.INFO_REQUESTED,
    ),
    "request_imaging": Transition(
        "request imaging for", frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.IMAGING_REQUESTED
    ),
    # The patient's last open answer brings the case back to the same physician.
    "answer": Transition(
        "answer a question on", frozenset({S.INFO_REQUESTED, S.IMAGING_REQUESTED}), S.UNDER_REVIEW
    ),
    "candidate": Transition(
        "mark as a candidate", frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.CONSULT_REQUESTED
    ),
    "not_candidate": Transition(
        "mark as not a candidate", frozenset({S.SUBMITTED, S.UNDER_REVIEW}), S.NOT_CANDIDATE
    ),
}


def _check(case: Case, action: str) -> None:
    transition = TRANSITIONS[action]
    if case.state not in transition.sources:
        raise ClinicError(
            f"You cannot {transition.verb} case {case.reference}: it is "
            f"{case.get_state_display().lower()}."
        )


def physician_name(user: User) -> str:
    profile = getattr(user, "physician_profile", None)
    return profile.display_name if profile else user.full_name


def _lock(case: Case) -> Case:
    # No select_related here: a row that waited for another transaction's lock is
    # re-read by PostgreSQL, but an outer-joined row is not, so a joined assignee
    # would be the stale one. The assignee is read (if needed) once the lock is held.
    return Case.objects.select_for_update().get(pk=case.pk)


def _may_act(case: Case, physician: User) -> None:
    """Physicians act only on their own cases and on the unassigned pool."""
    require_physician(physician)
    if not may_act_on_case(physician, case):
        assert case.assigned_to is not None  # noqa: S101
        taken = "taken by" if case.state != S.SUBMITTED else "in the queue of"
        raise ClinicError(
            f"Case {case.reference} is already {taken} {physician_name(case.assigned_to)}."
        )


def _move(
    case: Case,
    *,
    action: str,
    actor: User | None,
    kind: CaseEvent.Kind,
    note: str = "",
    assigned_to: User | None,
) -> None:
    """Writes the action's target state (from ``TRANSITIONS``) and the assignment,
    with its event row."""
    from_state = case.state
    case.state = TRANSITIONS[action].target
    case.assigned_to = assigned_to
    case.save(update_fields=["state", "assigned_to", "answer_received_at", "updated_at"])
    CaseEvent.objects.create(
        case=case, kind=kind, actor=actor, from_state=from_state, to_state=case.state, note=note
    )


@contextmanager
def _acting_on(case: Case, physician: User, action: str) -> Iterator[Case]:
    """Lock, re-check, write: yields the locked case once the physician may take the
    action in its current state; the caller's ``case`` is updated after commit."""
    with transaction.atomic():
        locked = _lock(case)
        _may_act(locked, physician)
        _check(locked, action)
        yield locked
    _sync(case, locked)


def _decide(
    locked: Case,
    physician: User,
    *,
    action: str,
    kind: CaseEvent.Kind,
    note: str,
    subject: StrOrPromise,
) -> None:
    """A physician's decision: the case is theirs, no longer 'answered', in its new
    state, and the patient is e-mailed to log in."""
    locked.answer_received_at = None
    _move(locked, action=action, actor=physician, kind=kind, note=note, assigned_to=physician)
    _notify_patient(locked, subject)


def _sync(case: Case, locked: Case) -> None:
    for field in ("state", "assigned_to_id", "priority", "answer_received_at", "updated_at"):
        setattr(case, field, getattr(locked, field))
    if locked.assigned_to_id is None:
        case.assigned_to = None


def case_claim(*, case: Case, physician: User) -> None:
    """The physician starts the review: the case is theirs, 'under review'."""
    with _acting_on(case, physician, "claim") as locked:
        note = "From the unassigned pool." if locked.assigned_to_id is None else ""
        _move(
            locked,
            action="claim",
            actor=physician,
            kind=CaseEvent.Kind.CLAIMED,
            note=note,
            assigned_to=physician,
        )


def case_claim_next(*, physician: User) -> Case | None:
    """Claims the most urgent unclaimed case (priority, then the longest waiting) in
    the physician's queue or the pool. Rows another physician is claiming right now
    are skipped, so two clicks at once take two different cases."""
    require_physician(physician)
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=S.SUBMITTED)
            .filter(Q(assigned_to__isnull=True) | Q(assigned_to=physician))
            .order_by("priority", "waiting_since", "pk")
            .first()
        )
        if locked is None:
            return None
        note = (
            "Next case, from the unassigned pool."
            if locked.assigned_to_id is None
            else "Next case."
        )
        _move(
            locked,
            action="claim",
            actor=physician,
            kind=CaseEvent.Kind.CLAIMED,
            note=note,
            assigned_to=physician,
        )
    return locked


def case_release(*, case: Case, physician: User) -> None:
    """The physician gives the case back to the unassigned pool."""
    with _acting_on(case, physician, "release") as locked:
        if locked.assigned_to_id != physician.pk:
            raise ClinicError(f"Case {locked.reference} is not yours to release.")
        _move(
            locked,
            action="release",
            actor=physician,
            kind=CaseEvent.Kind.RELEASED,
            note="Released to the unassigned pool.",
            assigned_to=None,
        )


def case_reassign(*, case: Case, physician: User, to: User, reason: str) -> None:
    """Hands the case to another physician's queue (unclaimed), with the reason."""
    reason = reason.strip()
    if not reason:
        raise ClinicError("Say why you are reassigning the case.")
    if to.pk == physician.pk:
        raise ClinicError("Choose another physician.")
    if not to.is_active or role_of(to) != Role.PHYSICIAN:
        raise ClinicError("Cases can only go to an active physician.")
    with _acting_on(case, physician, "reassign") as locked:
        _move(
            locked,
            action="reassign",
            actor=physician,
            kind=CaseEvent.Kind.REASSIGNED,
            note=f"Reassigned by {physician_name(physician)} to {physician_name(to)}: {reason}",
            assigned_to=to,
        )
        if locked.priority == Priority.URGENT:
            urgent_case_notify(locked, to)


def case_request_information(*, case: Case, physician: User, question: str) -> InformationRequest:
    """Asks the patient a question, shown on their intake page; the case waits for
    them and comes back to this physician when they answer."""
    question = question.strip()
    if not question:
        raise ClinicError("Write the question for the patient.")
    with _acting_on(case, physician, "ask") as locked:
        request = InformationRequest.objects.create(
            case=locked, asked_by=physician, question=question
        )
        _decide(
            locked,
            physician,
            action="ask",
            kind=CaseEvent.Kind.INFO_REQUESTED,
            note=question,
            subject=_("Your physician has a question for you"),
        )
    return request


def case_request_imaging(
    *,
    case: Case,
    physician: User,
    modality: str,
    region: BodyRegion,
    message_to_patient: str,
    internal_note: str = "",
) -> ReviewDecision:
    """The physician needs a scan before deciding: the patient is told which one on
    their intake page and can answer there (e.g. when and where it is booked)."""
    if modality not in ImagingStudy.Modality.values:
        raise ClinicError("Choose which kind of scan is needed.")
    with _acting_on(case, physician, "request_imaging") as locked:
        study = f"{ImagingStudy.Modality(modality).label} of the {region.name.lower()}"
        decision = ReviewDecision.objects.create(
            case=locked,
            physician=physician,
            outcome=ReviewDecision.Outcome.NEEDS_IMAGING,
            imaging_modality=modality,
            imaging_region=region,
            message_to_patient=message_to_patient.strip(),
            internal_note=internal_note.strip(),
        )
        question = f"Your physician needs a {study} before deciding."
        if message_to_patient.strip():
            question += "\n" + message_to_patient.strip()
        question += (
            "\nPlease tell us when and where you have it done, or that you already have one."
        )
        InformationRequest.objects.create(
            case=locked, asked_by=physician, question=question, kind=InformationRequest.Kind.IMAGING
        )
        _decide(
            locked,
            physician,
            action="request_imaging",
            kind=CaseEvent.Kind.IMAGING_REQUESTED,
            note=f"Needs {study}.",
            subject=_("Your physician needs imaging before deciding"),
        )
    return decision


def information_request_answer(*, request: InformationRequest, patient: User, answer: str) -> None:
    """The patient answers; once nothing is left open the case goes back to the
    physician who asked, marked as answered and waiting for them again."""
    answer = answer.strip()
    if not answer:
        raise ClinicError("Please write your answer.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=request.case_id)
        if case.patient_id != patient.pk:
            raise ClinicError("This request is not yours to answer.")
        locked = InformationRequest.objects.select_for_update().get(pk=request.pk)
        if locked.answered_at is not None:
            raise ClinicError("You have already answered this question.")
        now = timezone.now()
        locked.answer, locked.answered_at = answer, now
        locked.save(update_fields=["answer", "answered_at"])
        still_open = case.information_requests.filter(answered_at__isnull=True).exists()
        if case.state in TRANSITIONS["answer"].sources and not still_open:
            case.answer_received_at = now
            case.waiting_since, case.review_due_at = now, review_due(now)
            case.save(update_fields=["waiting_since", "review_due_at"])
            _move(
                case,
                action="answer",
                actor=patient,
                kind=CaseEvent.Kind.INFO_PROVIDED,
                assigned_to=case.assigned_to,
            )
        else:
            CaseEvent.objects.create(
                case=case,
                kind=CaseEvent.Kind.INFO_PROVIDED,
                actor=patient,
                from_state=case.state,
                to_state=case.state,
            )
    request.answer, request.answered_at = locked.answer, locked.answered_at


@dataclass(frozen=True)
class CandidateDecision:
    options: Sequence[TreatmentOption]
    consultation_type: str
    consultation_mode: str
    urgency: str
    message_to_patient: str = ""
    internal_note: str = ""
    override_reason: str = ""


def hard_stops_against(case: Case, options: Sequence[TreatmentOption]) -> list[CaseFlag]:
    """The case's hard-stop flags that apply to any of the chosen options."""
    chosen = {option.pk for option in options}
    flags = case.flags.filter(severity=Contraindication.Severity.HARD_STOP).prefetch_related(
        "options"
    )
    return [flag for flag in flags if chosen & {o.pk for o in flag.options.all()}]


def _visible(text: str) -> str:
    """The text without surrounding whitespace; empty when nothing in it shows (only
    whitespace and invisible format characters such as zero-width spaces)."""
    stripped = text.strip()
    if all(char.isspace() or unicodedata.category(char) == "Cf" for char in stripped):
        return ""
    return stripped


def case_mark_candidate(
    *, case: Case, physician: User, decision: CandidateDecision
) -> ReviewDecision:
    """The patient is a candidate for the chosen options: the case goes on the front
    desk's 'to schedule' list with the consultation the physician asks for. An option
    a hard-stop flag applies to needs an explicit override with a reason."""
    if not decision.options:
        raise ClinicError("Choose at least one treatment option to discuss.")
    if any(not option.is_offered for option in decision.options):
        raise ClinicError("One of the chosen options is no longer offered.")
    for value, choices, what in (
        (decision.consultation_type, ReviewDecision.ConsultationType, "the consultation type"),
        (decision.consultation_mode, ReviewDecision.ConsultationMode, "in person or video"),
        (decision.urgency, ReviewDecision.Urgency, "how soon to book"),
    ):
        if value not in choices.values:
            raise ClinicError(f"Choose {what}.")
    with _acting_on(case, physician, "candidate") as locked:
        stops = hard_stops_against(locked, decision.options)
        override_reason = _visible(decision.override_reason)
        if stops and not override_reason:
            rules = ", ".join(flag.rule for flag in stops)
            raise ClinicError(
                f"Hard stop ({rules}) applies to an option you chose: give your reason to "
                "override it, or choose other options."
            )
        record = ReviewDecision.objects.create(
            case=locked,
            physician=physician,
            outcome=ReviewDecision.Outcome.CANDIDATE,
            consultation_type=decision.consultation_type,
            consultation_mode=decision.consultation_mode,
            urgency=decision.urgency,
            message_to_patient=decision.message_to_patient.strip(),
            internal_note=decision.internal_note.strip(),
            override_reason=override_reason if stops else "",
        )
        record.options.set(decision.options)
        note = "Candidate for " + ", ".join(o.short_name for o in decision.options)
        note += (
            f"; {record.get_consultation_type_display().lower()}, "
            f"{record.get_consultation_mode_display().lower()}, "
            f"{record.get_urgency_display().lower()}."
        )
        if stops:
            note += f" Hard stop overridden: {record.override_reason}"
        _decide(
            locked,
            physician,
            action="candidate",
            kind=CaseEvent.Kind.CANDIDATE,
            note=note,
            subject=_("Your physician has reviewed your intake"),
        )
    return record


def case_mark_not_candidate(
    *, case: Case, physician: User, reason: str, message_to_patient: str, internal_note: str = ""
) -> ReviewDecision:
    """Closes the case: the clinic will not treat it, and the patient is told why."""
    reason, message_to_patient = reason.strip(), message_to_patient.strip()
    if not reason:
        raise ClinicError("Give the reason (kept in the case's record).")
    if not message_to_patient:
        raise ClinicError("Write a message for the patient.")
    with _acting_on(case, physician, "not_candidate") as locked:
        record = ReviewDecision.objects.create(
            case=locked,
            physician=physician,
            outcome=ReviewDecision.Outcome.NOT_CANDIDATE,
            reason=reason,
            message_to_patient=message_to_patient,
            internal_note=internal_note.strip(),
        )
        _decide(
            locked,
            physician,
            action="not_candidate",
            kind=CaseEvent.Kind.NOT_CANDIDATE,
            note=reason,
            subject=_("Your physician has reviewed your intake"),
        )
    return record


def _notify_patient(case: Case, subject: StrOrPromise) -> None:
    """Tells the patient to log in, in their language; the e-mail itself carries no
    health details."""
    link = settings.SITE_URL + reverse("intake:detail", kwargs={"public_id": case.intake.public_id})
    with translation.override(patient_language(case.patient)):
        email_queue(
            to=case.patient.email,
            subject=_("%(subject)s (reference %(reference)s)")
            % {"subject": subject, "reference": case.reference},
            template="emails/case_update.txt",
            context={"case": case, "link": link, "name": case.patient.full_name},
        )
