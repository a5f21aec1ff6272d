"""Use cases of the patient intake: start a draft, save each step, upload imaging,
submit (which creates the case), and answer a physician's request for information.

Every write locks the intake row first, so two tabs or a double click cannot
interleave, and refuses to touch an intake that was already submitted."""

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinic.errors import ClinicError
from clinic.models import User
from clinic.policy import require_front_desk
from clinic.services import email_queue, patient_language
from intake.models import (
    ABOUT_YOU_FIELDS,
    STEP_COUNT,
    Case,
    CaseEvent,
    CaseFlag,
    Complaint,
    ConsentDocument,
    ImagingFile,
    ImagingStudy,
    Instrument,
    Intake,
    PriorTreatment,
    QuestionnaireResponse,
    RedFlagAnswer,
    ScreeningAnswer,
)
from intake.routing import case_priority, review_due
from intake.scoring import instrument_score
from intake.tasks import route_case
from treatments.models import Contraindication, RedFlag, TreatmentOption

# Copied into a new intake from the patient's last one: who they are and what does
# not change between complaints. Pain, imaging, goals and consent are asked afresh.
PREFILLED_FIELDS = (
    *ABOUT_YOU_FIELDS,
    "current_medicines",
    "allergies",
    "other_conditions",
    "payment",
    "insurance_carrier",
    "insurance_member_id",
    "preferred_days",
    "preferred_times",
)
GOALS_FIELDS = (
    "goals",
    "preferred_days",
    "preferred_times",
    "payment",
    "insurance_carrier",
    "insurance_member_id",
)
HEALTH_FIELDS = ("current_medicines", "allergies", "other_conditions")
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: read over the phone
ADULT_AGE = 18
PENDING_VALUE_MAX = 4000


def _locked_draft(intake: Intake) -> Intake:
    locked = Intake.objects.select_for_update().get(pk=intake.pk)
    if not locked.is_draft:
        raise ClinicError("This intake has been submitted and can no longer be changed.")
    return locked


def _step_done(intake: Intake, step: int) -> None:
    intake.completed_steps = sorted({*intake.completed_steps, step})
    intake.pending_answers = {k: v for k, v in intake.pending_answers.items() if k != str(step)}


def intake_start(*, patient: User) -> Intake:
    """Gives the patient a draft to fill: their open draft if there is one (a patient
    has one draft at a time), else a new one prefilled from their last intake."""
    with transaction.atomic():
        # Lock the patient so two 'Start' clicks cannot create two drafts.
        User.objects.select_for_update().get(pk=patient.pk)
        draft = Intake.objects.filter(patient=patient, status=Intake.Status.DRAFT).first()
        if draft is not None:
            return draft
        last = Intake.objects.filter(patient=patient).order_by("-created_at").first()
        intake = Intake(patient=patient)
        if last is not None:
            for field in PREFILLED_FIELDS:
                setattr(intake, field, getattr(last, field))
        else:
            intake.legal_name = patient.full_name
        intake.save()
    return intake


# The front desk may nudge a patient about an unfinished intake at most this often.
INTAKE_REMINDER_GAP = timedelta(hours=24)


def intake_reminder_send(*, intake: Intake, by: User, now: datetime | None = None) -> Intake:
    """E-mails the patient (through the outbox and Celery, on commit) that their
    intake is waiting, with a link to log in and no health details. Only for a
    draft, by the front desk, and not twice within ``INTAKE_REMINDER_GAP``."""
    require_front_desk(by, doing="sends intake reminders")
    now = now or timezone.now()
    with transaction.atomic():
        locked = Intake.objects.select_for_update().select_related("patient").get(pk=intake.pk)
        if not locked.is_draft:
            raise ClinicError(
                f"{locked.patient.full_name} has submitted this intake; no reminder is needed."
            )
        if locked.reminded_at is not None and now - locked.reminded_at < INTAKE_REMINDER_GAP:
            raise ClinicError(
                f"A reminder went to {locked.patient.full_name} on "
                f"{timezone.localtime(locked.reminded_at):%d %b at %H:%M}; "
                "wait a day before sending another."
            )
        locked.reminded_at = now
        locked.reminder_count += 1
        locked.save(update_fields=["reminded_at", "reminder_count", "updated_at"])
        with translation.override(patient_language(locked.patient)):
            email_queue(
                to=locked.patient.email,
                subject=_("Your intake for %(clinic)s is waiting for you")
                % {"clinic": settings.CLINIC_NAME},
                template="emails/intake_reminder.txt",
                context={
                    "name": locked.patient.full_name,
                    "steps_done": len(locked.completed_steps),
                    "step_count": STEP_COUNT,
                    "link": settings.SITE_URL + reverse("intake:home"),
                },
            )
    return locked


def intake_keep_pending(*, intake: Intake, step: int, answers: Mapping[str, list[str]]) -> None:
    """Keeps what the patient typed on a step that does not validate yet, so leaving
    the step (back, save and exit, logging out) loses nothing."""
    with transaction.atomic():
        locked = _locked_draft(intake)
        # PostgreSQL's JSON cannot hold NUL characters, and nothing a patient types
        # needs them or thousands of characters per field.
        kept = {
            name: [value.replace("\x00", "")[:PENDING_VALUE_MAX] for value in values]
            for name, values in answers.items()
        }
        locked.pending_answers = {**locked.pending_answers, str(step): kept}
        locked.save(update_fields=["pending_answers", "updated_at"])
    intake.pending_answers = locked.pending_answers


def intake_about_save(*, intake: Intake, data: Mapping[str, Any]) -> None:
    with transaction.atomic():
        locked = _locked_draft(intake)
        for field in ABOUT_YOU_FIELDS:
            setattr(locked, field, data[field])
        _step_done(locked, 1)
        locked.save()


@dataclass(frozen=True)
class ComplaintAnswer:
    body_region_id: int
    side: str
    condition_id: int | None
    started_on: date
    onset: str
    pain_now: int
    pain_worst_week: int


def intake_complaints_save(*, intake: Intake, complaints: Sequence[ComplaintAnswer]) -> None:
    if not complaints:
        raise ClinicError("Tell us about at least one painful area.")
    with transaction.atomic():
        locked = _locked_draft(intake)
        locked.complaints.all().delete()
        Complaint.objects.bulk_create(
            Complaint(intake=locked, **complaint.__dict__) for complaint in complaints
        )
        _step_done(locked, 2)
        locked.save()


def intake_function_save(*, intake: Intake, answers: Mapping[int, Mapping[int, int]]) -> None:
    """Stores and scores the function questionnaires. ``answers`` maps an instrument's
    id to its item positions and the chosen values; every intake instrument is needed."""
    instruments = list(Instrument.objects.filter(in_intake=True, is_active=True))
    if {instrument.pk for instrument in instruments} != set(answers):
        raise ClinicError("Please answer every questionnaire on this page.")
    with transaction.atomic():
        locked = _locked_draft(intake)
        for instrument in instruments:
            given = answers[instrument.pk]
            try:
                score = instrument_score(instrument=instrument, answers=given)
            except ValueError:
                raise ClinicError(f"Please answer every question of “{instrument.name}”.") from None
            QuestionnaireResponse.objects.update_or_create(
                intake=locked,
                instrument=instrument,
                defaults={"answers": {str(k): v for k, v in given.items()}, "score": score},
            )
        _step_done(locked, 3)
        locked.save()


@dataclass(frozen=True)
class PriorTreatmentAnswer:
    kind: str
    tried: bool
    last_on: date | None = None
    details: str = ""
    outcome: str = ""


def intake_prior_treatments_save(
    *, intake: Intake, treatments: Sequence[PriorTreatmentAnswer]
) -> None:
    if sorted(t.kind for t in treatments) != sorted(PriorTreatment.Kind.values):
        raise ClinicError("Please answer for every kind of treatment on the list.")
    with transaction.atomic():
        locked = _locked_draft(intake)
        locked.prior_treatments.all().delete()
        PriorTreatment.objects.bulk_create(
            PriorTreatment(
                intake=locked,
                kind=t.kind,
                tried=t.tried,
                last_on=t.last_on if t.tried else None,
                details=t.details if t.tried else "",
                outcome=t.outcome if t.tried else "",
            )
            for t in treatments
        )
        _step_done(locked, 4)
        locked.save()


def screening_questions() -> list[Contraindication]:
    """The health-history questions: one per active rule of the contraindication catalog."""
    return list(Contraindication.objects.filter(is_active=True).order_by("display_order", "name"))


def red_flag_questions() -> list[RedFlag]:
    """The symptom questions that can make a case urgent: one per active red flag."""
    return list(RedFlag.objects.filter(is_active=True).order_by("display_order", "name"))


def intake_health_save(
    *,
    intake: Intake,
    answers: Mapping[int, str],
    red_flags: Mapping[int, str],
    data: Mapping[str, str],
) -> None:
    """Stores the screening answers (contraindication id to yes/no/unsure), the
    red-flag answers (red flag id to yes/no/unsure) and the medicines, allergies
    and other conditions the patient listed."""
    if set(answers) != {rule.pk for rule in screening_questions()} or set(red_flags) != {
        flag.pk for flag in red_flag_questions()
    }:
        raise ClinicError("Please answer every health question.")
    if any(
        answer not in ScreeningAnswer.Answer.values
        for answer in [*answers.values(), *red_flags.values()]
    ):
        raise ClinicError("Answer each health question with yes, no or not sure.")
    with transaction.atomic():
        locked = _locked_draft(intake)
        locked.screening_answers.all().delete()
        ScreeningAnswer.objects.bulk_create(
            ScreeningAnswer(intake=locked, contraindication_id=rule_id, answer=answer)
            for rule_id, answer in answers.items()
        )
        locked.red_flag_answers.all().delete()
        RedFlagAnswer.objects.bulk_create(
            RedFlagAnswer(intake=locked, red_flag_id=flag_id, answer=answer)
            for flag_id, answer in red_flags.items()
        )
        for field in HEALTH_FIELDS:
            setattr(locked, field, data[field])
        _step_done(locked, 5)
        locked.save()


@dataclass(frozen=True)
class ImagingStudyAnswer:
    modality: str
    body_region_id: int
    done_on: date
    facility: str = ""


def intake_imaging_save(
    *, intake: Intake, status: str, studies: Sequence[ImagingStudyAnswer]
) -> None:
    if status not in Intake.ImagingStatus.values:
        raise ClinicError("Tell us whether you have had imaging.")
    if status == Intake.ImagingStatus.YES and not studies:
        raise ClinicError("Tell us about at least one scan: which kind, and when.")
    with transaction.atomic():
        locked = _locked_draft(intake)
        locked.imaging_status = status
        locked.imaging_studies.all().delete()
        if status == Intake.ImagingStatus.YES:
            ImagingStudy.objects.bulk_create(
                ImagingStudy(intake=locked, **s.__dict__) for s in studies
            )
        _step_done(locked, 6)
        locked.save()


def imaging_file_add(
    *, intake: Intake, upload: UploadedFile, content_type: str, max_files: int
) -> ImagingFile:
    """Stores an upload whose content the form has already checked (``content_type``
    is what the content is, not what the browser claimed)."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        locked = _locked_draft(intake)
        if locked.imaging_files.count() >= max_files:
            raise ClinicError(
                f"You can upload at most {max_files} files; remove one to add another."
            )
        record = ImagingFile(
            intake=locked,
            original_name=(upload.name or "upload")[-200:],
            content_type=content_type,
            size=upload.size or 0,
            sha256=digest.hexdigest(),
        )
        record.file.save("upload", upload, save=False)
        try:
            record.save()
        except Exception:
            record.file.delete(save=False)
            raise
    return record


def imaging_file_remove(*, intake: Intake, file_id: str) -> None:
    with transaction.atomic():
        locked = _locked_draft(intake)
        record = locked.imaging_files.filter(public_id=file_id).first()
        if record is None:
            raise ClinicError("That file is no longer attached to this intake.")
        stored = record.file
        record.delete()
        transaction.on_commit(lambda: stored.delete(save=False))


def intake_goals_save(
    *, intake: Intake, data: Mapping[str, Any], interested: Iterable[TreatmentOption]
) -> None:
    with transaction.atomic():
        locked = _locked_draft(intake)
        for field in GOALS_FIELDS:
            setattr(locked, field, data[field])
        locked.interested_options.set(interested)
        _step_done(locked, 7)
        locked.save()


def missing_steps(intake: Intake) -> list[int]:
    """Steps before the review that are not complete. The screening questions count
    as missing if the catalog gained a rule the patient has not answered."""
    done = set(intake.completed_steps)
    missing = [n for n in range(1, STEP_COUNT) if n not in done]
    if 5 in done:
        answered = set(intake.screening_answers.values_list("contraindication_id", flat=True))
        flagged = set(intake.red_flag_answers.values_list("red_flag_id", flat=True))
        if not (
            {rule.pk for rule in screening_questions()} <= answered
            and {flag.pk for flag in red_flag_questions()} <= flagged
        ):
            missing.append(5)
    return sorted(missing)


def current_consent(*, language: str = "") -> ConsentDocument:
    """The consent text patients sign now, in ``language`` (default: the active one)
    when the clinic has published that language's text of the current version, else
    the English: a translation of an older version is never offered in its place."""
    language = (language or translation.get_language() or "en").split("-")[0]
    current = {
        consent.language: consent for consent in ConsentDocument.objects.filter(is_current=True)
    }
    english = current.get("en")
    if english is None:
        raise ClinicError(
            _("The clinic has not published its consent text yet; please try again later.")
        )
    translated = current.get(language)
    if translated is not None and translated.version == english.version:
        return translated
    return english


def needs_guardian(intake: Intake, *, on: date | None = None) -> bool:
    """A patient under 18 (on the day of signing, in the clinic's time zone) signs
    with a parent or guardian."""
    age = intake.age_on(on or timezone.localdate())
    return age is not None and age < ADULT_AGE


def _normalised_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def _new_reference() -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"RM-{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class Signature:
    name: str
    ip_address: str | None
    consent_version: str
    acknowledged_risks: bool
    acknowledged_cost: bool
    acknowledged_regulatory: bool
    guardian_name: str = ""
    guardian_relationship: str = ""
    guardian_signature_name: str = ""
    consent_language: str = "en"  # the language of the consent text shown


def intake_submit(*, intake: Intake, signature: Signature) -> Case:
    """Signs and submits the intake, creating its case in state 'submitted' with an
    event row, a flag for every screening answer that matched a contraindication,
    and (on commit) the confirmation e-mail with the case's reference.

    Idempotent: a second submit of the same intake (a double click, a refresh, a
    retried POST, a second tab) returns the case the first one created."""
    with transaction.atomic():
        locked = Intake.objects.select_for_update().get(pk=intake.pk)
        if not locked.is_draft:
            return Case.objects.get(intake=locked)
        if not locked.patient.email_verified_at:
            raise ClinicError(_("Please confirm your e-mail address first; we sent you a link."))
        missing = missing_steps(locked)
        if missing:
            steps = ", ".join(str(n) for n in missing)
            raise ClinicError(
                _("Please complete step %(steps)s before you sign.") % {"steps": steps}
            )
        consent = current_consent(language=signature.consent_language)
        if (
            signature.consent_version != consent.version
            or signature.consent_language != consent.language
        ):
            raise ClinicError(
                _("The consent text has just been updated. Please read it again and sign.")
            )
        if not (
            signature.acknowledged_risks
            and signature.acknowledged_cost
            and signature.acknowledged_regulatory
        ):
            raise ClinicError(_("Please tick each acknowledgement."))
        if _normalised_name(signature.name) != _normalised_name(locked.legal_name):
            raise ClinicError(
                _("Type your full legal name exactly as in step 1 (%(name)s).")
                % {"name": locked.legal_name}
            )
        now = timezone.now()
        minor = needs_guardian(locked, on=timezone.localdate(now))
        if minor:
            if not (signature.guardian_name.strip() and signature.guardian_relationship.strip()):
                raise ClinicError(
                    _("A parent or guardian must give their name and relationship to you.")
                )
            if _normalised_name(signature.guardian_signature_name) != _normalised_name(
                signature.guardian_name
            ):
                raise ClinicError(
                    _("The guardian's signature must be their full name as typed above.")
                )

        locked.acknowledged_risks = locked.acknowledged_cost = locked.acknowledged_regulatory = True
        locked.consent = consent
        locked.consent_sha256 = consent.sha256
        locked.consent_language = consent.language
        locked.signature_name = signature.name.strip()
        locked.signed_at = now
        locked.signed_ip = signature.ip_address
        if minor:
            locked.guardian_name = signature.guardian_name.strip()
            locked.guardian_relationship = signature.guardian_relationship.strip()
            locked.guardian_signature_name = signature.guardian_signature_name.strip()
        locked.status = Intake.Status.SUBMITTED
        locked.submitted_at = now
        locked.completed_steps = list(range(1, STEP_COUNT + 1))
        locked.pending_answers = {}
        locked.save()

        case = _case_create(intake=locked, now=now)
        CaseEvent.objects.create(
            case=case, kind=CaseEvent.Kind.SUBMITTED, actor=locked.patient, to_state=case.state
        )
        _flags_raise(case=case, intake=locked)
        finding = case_priority(case)
        case.priority, case.priority_reason = finding.priority, finding.reason
        case.save(update_fields=["priority", "priority_reason"])
        case_id = case.pk
        transaction.on_commit(lambda: route_case.delay(case_id))
        with translation.override(patient_language(locked.patient)):
            email_queue(
                to=locked.patient.email,
                subject=_("We received your intake (reference %(reference)s)")
                % {"reference": case.reference},
                template="emails/intake_submitted.txt",
                context={
                    "intake": locked,
                    "case": case,
                    "link": settings.SITE_URL
                    + reverse("intake:detail", kwargs={"public_id": locked.public_id}),
                },
            )
    return case


def _case_create(*, intake: Intake, now: datetime) -> Case:
    # The main complaint is the most painful one; routing goes by its body region.
    main = intake.complaints.order_by("-pain_worst_week", "-pain_now", "pk").first()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Case.objects.create(
                    intake=intake,
                    patient=intake.patient,
                    reference=_new_reference(),
                    main_complaint=main,
                    body_region_id=main.body_region_id if main else None,
                    waiting_since=now,
                    review_due_at=review_due(now),
                )
        except IntegrityError:
            if Case.objects.filter(intake=intake).exists():
                raise
            # A reference collision (one in ~650 billion): draw another.
    raise ClinicError("Could not create a case reference; please try again.")


def _flags_raise(*, case: Case, intake: Intake) -> None:
    """A 'yes' or a 'not sure' raises the rule with its own severity: a hard stop the
    patient is not sure about (pregnancy, an infection) stays a hard stop until the
    physician confirms, and choosing an option it applies to needs a recorded reason
    (``intake.cases.case_mark_candidate``). The software never tells the patient to
    stop or change a medicine: flags are for the physician only."""
    matched = intake.screening_answers.exclude(answer=ScreeningAnswer.Answer.NO).select_related(
        "contraindication"
    )
    for answer in matched:
        rule = answer.contraindication
        flag = CaseFlag.objects.create(
            case=case,
            contraindication=rule,
            rule=rule.name,
            severity=rule.severity,
            patient_answer=answer.answer,
        )
        flag.options.set(rule.options.all())


def consent_publish(
    *, version: str, title: str, body: str, language: str = "en"
) -> ConsentDocument:
    """Publishes a new consent text in one language and makes it the one patients
    reading that language sign from now on (a translation is offered only while its
    version is the English text's: see ``current_consent``). Intakes signed earlier
    keep pointing at the text (and hash) they were shown."""
    with transaction.atomic():
        if ConsentDocument.objects.filter(version=version, language=language).exists():
            raise ClinicError(
                f"Consent version {version} ({language}) already exists; choose a new version."
            )
        ConsentDocument.objects.filter(is_current=True, language=language).update(is_current=False)
        return ConsentDocument.objects.create(
            version=version,
            language=language,
            title=title,
            body=body,
            sha256=ConsentDocument.digest(body),
            is_current=True,
        )
