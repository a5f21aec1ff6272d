"""Pre-procedure instructions: the physician drafts them from the templates of the
plan's options, edits or drops them for this patient, and approves them; the
patient sees only approved ones, dated from the procedure's day, acknowledges
them, and gets one reminder e-mail before the first date that matters.

The software never tells a patient to stop a medicine on its own: a template is
copied as a draft, and nothing unapproved is ever shown or e-mailed. An edit clears
the approval of that instruction. Dates are computed from the procedure's current
time whenever they are shown, so moving the procedure moves them (the patient is
told of the move by the booking's own e-mail, and the reminder is per time).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from care.models import (
    CareEvent,
    InstructionAcknowledgement,
    InstructionReminder,
    InstructionTemplate,
    ProcedureInstruction,
)
from care.services.estimates import care_document_notify
from care.services.procedures import PROCEDURE_TYPE, procedure_plan
from clinic.errors import ClinicError
from clinic.models import User
from clinic.policy import may_plan_care, require_physician
from intake.models import Case, Consultation


def _procedure(consultation: Consultation, physician: User) -> tuple[Consultation, Case]:
    require_physician(physician)
    locked = (
        Consultation.objects.select_for_update()
        .select_related("consultation_type")
        .get(pk=consultation.pk)
    )
    case = Case.objects.get(pk=locked.case_id)
    if locked.consultation_type.slug != PROCEDURE_TYPE:
        raise ClinicError("Instructions are for a booked injection procedure.")
    if not may_plan_care(physician, case):
        raise ClinicError(f"Only the physician of case {case.reference} writes its instructions.")
    if locked.state != Consultation.State.BOOKED:
        raise ClinicError(f"This procedure is {locked.get_state_display().lower()}.")
    return locked, case


def instructions_draft(*, procedure: Consultation, physician: User) -> list[ProcedureInstruction]:
    """Copies the active templates of the plan's options that the procedure does not
    have yet (one copy per distinct text), as drafts for the physician to review."""
    with transaction.atomic():
        locked, case = _procedure(procedure, physician)
        plan = procedure_plan(case)
        have = set(locked.instructions.values_list("text", flat=True))
        made = []
        for template in InstructionTemplate.objects.filter(
            option__in=plan.options.all(), is_active=True
        ).order_by("days_from_procedure", "display_order", "pk"):
            if template.text in have:
                continue
            have.add(template.text)
            made.append(
                ProcedureInstruction(
                    procedure=locked,
                    template=template,
                    text=template.text,
                    days_from_procedure=template.days_from_procedure,
                    source=template.source,
                )
            )
        ProcedureInstruction.objects.bulk_create(made)
    return made


def instruction_edit(
    *, instruction: ProcedureInstruction, physician: User, text: str, days_from_procedure: int
) -> ProcedureInstruction:
    """Rewrites one instruction for this patient; it needs approving again."""
    text = text.strip()
    if not text:
        raise ClinicError("Write the instruction, or drop it.")
    if not -90 <= days_from_procedure <= 30:
        raise ClinicError("The timing is between 90 days before and 30 days after.")
    with transaction.atomic():
        _procedure(instruction.procedure, physician)
        locked = ProcedureInstruction.objects.select_for_update().get(pk=instruction.pk)
        locked.text, locked.days_from_procedure = text, days_from_procedure
        locked.approved_at = locked.approved_by = None
        locked.save(update_fields=["text", "days_from_procedure", "approved_at", "approved_by"])
    return locked


def instruction_drop(*, instruction: ProcedureInstruction, physician: User) -> None:
    with transaction.atomic():
        _procedure(instruction.procedure, physician)
        ProcedureInstruction.objects.filter(pk=instruction.pk).delete()


def instructions_approve(*, procedure: Consultation, physician: User) -> int:
    """The physician approves every instruction of the procedure as it stands."""
    with transaction.atomic():
        locked, case = _procedure(procedure, physician)
        count = locked.instructions.filter(approved_at__isnull=True).update(
            approved_at=timezone.now(), approved_by=physician
        )
        if not locked.instructions.exists():
            raise ClinicError("There are no instructions to approve.")
        CareEvent.objects.create(
            case=case,
            kind=CareEvent.Kind.INSTRUCTIONS_APPROVED,
            actor=physician,
            note=f"{count} instruction(s) approved for the procedure.",
        )
    return count


@dataclass(frozen=True)
class DatedInstruction:
    day: date
    days_from_procedure: int
    text: str

    @property
    def sentence(self) -> str:
        """ "From Tuesday 3 March, ..." (before or after; "From now until your
        procedure, ..." once a day before it has passed), "On Tuesday 10 March, the
        day of your procedure, ..." (the day)."""
        # The physician's text is shown as written, in the language they wrote it.
        when = f"{date_format(self.day, 'l')} {date_format(self.day, 'PATIENT_DAY_MONTH_FORMAT')}"
        if self.days_from_procedure == 0:
            return gettext("On %(day)s, the day of your procedure, %(text)s") % {
                "day": when,
                "text": self.text,
            }
        if self.days_from_procedure < 0 and self.day < timezone.localdate():
            # Booked at shorter notice than the instruction asks: its first day is gone.
            return gettext("From now until your procedure, %(text)s") % {"text": self.text}
        return gettext("From %(day)s, %(text)s") % {"day": when, "text": self.text}


def approved_for_patient(procedure: Consultation) -> list[DatedInstruction]:
    """What the patient sees: approved instructions only, dated from the procedure's
    local day."""
    day = timezone.localtime(procedure.starts_at).date()
    return [
        DatedInstruction(day + timedelta(days=i.days_from_procedure), i.days_from_procedure, i.text)
        for i in _approved(procedure)
    ]


def _approved(procedure: Consultation) -> QuerySet[ProcedureInstruction]:
    return procedure.instructions.filter(approved_at__isnull=False).order_by(
        "days_from_procedure", "pk"
    )


def instructions_acknowledge(
    *, procedure: Consultation, patient: User, ip_address: str | None
) -> InstructionAcknowledgement:
    if procedure.patient_id != patient.pk:
        raise ClinicError(gettext("These instructions are not yours."))
    if not _approved(procedure).exists():
        raise ClinicError(gettext("There are no instructions to confirm yet."))
    with transaction.atomic():
        receipt = InstructionAcknowledgement.objects.create(
            procedure=procedure,
            patient=patient,
            starts_at=procedure.starts_at,
            at=timezone.now(),
            ip_address=ip_address,
        )
        CareEvent.objects.create(
            case_id=procedure.case_id,
            kind=CareEvent.Kind.INSTRUCTIONS_ACKNOWLEDGED,
            actor=patient,
        )
    return receipt


def instruction_reminders_send(*, now: datetime | None = None) -> int:
    """E-mails each patient once, the day before the first date of their approved
    instructions (or at once, if that day has come and the procedure has not). The
    e-mail only says instructions are waiting. Safe to run often and in parallel: the
    unique reminder row decides who sends."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    procedures = (
        Consultation.objects.filter(
            state=Consultation.State.BOOKED,
            consultation_type__slug=PROCEDURE_TYPE,
            starts_at__gt=now,
            instructions__approved_at__isnull=False,
        )
        .distinct()
        .select_related("patient", "case")
    )
    for procedure in procedures:
        dated = approved_for_patient(procedure)
        if not dated or min(d.day for d in dated) - timedelta(days=1) > today:
            continue
        try:
            with transaction.atomic():
                InstructionReminder.objects.create(
                    procedure=procedure, starts_at=procedure.starts_at
                )
                link = settings.SITE_URL + reverse(
                    "care:patient_care", args=[procedure.case.public_id]
                )
                care_document_notify(patient=procedure.patient, link=link)
        except IntegrityError:
            continue  # sent already, by an earlier or a parallel run
        sent += 1
    return sent
