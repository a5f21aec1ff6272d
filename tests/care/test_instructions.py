"""Pre-procedure instructions: drafted from the templates, edited and approved by
the physician, shown to the patient only once approved, dated from the procedure,
and one reminder before the first date."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from care.models import InstructionReminder, ProcedureInstruction
from care.services import instructions, procedures
from clinic.errors import ClinicError
from clinic.models import OutboundEmail
from intake import scheduling
from intake.scheduling import free_slots
from tests.care.helpers import billing_provider, shared_plan
from tests.factories import case_to_book, working_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def procedure(physician, patient, front_desk):
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    case = case_to_book(physician, patient=patient)
    shared_plan(case, physician, "bone-marrow-stem-cells", harvest_source="bone_marrow")
    starts_at = free_slots(
        physician=physician.physician_profile,
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=20),
        days=5,
    )[0].starts_at
    return procedures.procedure_book(case=case, starts_at=starts_at, booked_by=front_desk)


def test_the_templates_of_the_plans_options_become_drafts(procedure, physician) -> None:
    made = instructions.instructions_draft(procedure=procedure, physician=physician)
    offsets = sorted(i.days_from_procedure for i in made)
    assert offsets == [-42, -7, -7, 0]  # steroids, NSAIDs, blood thinners, a driver
    assert all(i.approved_at is None and i.source for i in made)
    again = instructions.instructions_draft(procedure=procedure, physician=physician)
    assert again == [] and procedure.instructions.count() == 4


def test_the_patient_sees_nothing_until_the_physician_approves(procedure, physician) -> None:
    instructions.instructions_draft(procedure=procedure, physician=physician)
    assert instructions.approved_for_patient(procedure) == []
    nsaid = procedure.instructions.get(text__startswith="do not take ibuprofen")
    instructions.instruction_edit(
        instruction=nsaid,
        physician=physician,
        text="do not take ibuprofen or naproxen; paracetamol is fine.",
        days_from_procedure=-5,
    )
    steroid = procedure.instructions.get(days_from_procedure=-42)
    instructions.instruction_drop(instruction=steroid, physician=physician)
    assert instructions.instructions_approve(procedure=procedure, physician=physician) == 3
    dated = instructions.approved_for_patient(procedure)
    day = timezone.localtime(procedure.starts_at).date()
    assert [d.day for d in dated] == [day - timedelta(days=7), day - timedelta(days=5), day]
    nsaid_line = dated[1].sentence
    assert nsaid_line.startswith("From ") and "paracetamol is fine" in nsaid_line
    assert dated[2].sentence.startswith("On ") and "the day of your procedure" in dated[2].sentence
    # An edit after approval takes that instruction away from the patient until approved.
    instructions.instruction_edit(
        instruction=nsaid, physician=physician, text="no ibuprofen.", days_from_procedure=-5
    )
    assert len(instructions.approved_for_patient(procedure)) == 2


def test_moving_the_procedure_moves_the_dates(
    procedure, physician, front_desk, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    instructions.instructions_draft(procedure=procedure, physician=physician)
    instructions.instructions_approve(procedure=procedure, physician=physician)
    first = instructions.approved_for_patient(procedure)[0].day
    later = free_slots(
        physician=physician.physician_profile,
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=30),
        days=5,
    )[0].starts_at
    with django_capture_on_commit_callbacks(execute=True):
        moved = scheduling.consultation_reschedule(
            consultation=procedure, starts_at=later, by=front_desk
        )
    shift = timezone.localtime(later).date() - timezone.localtime(procedure.starts_at).date()
    assert instructions.approved_for_patient(moved)[0].day == first + shift
    # The patient is told, and that the instructions' dates moved with it.
    (told,) = [m for m in mailoutbox if "has moved" in m.subject]
    assert "dates in your instructions" in told.body


def test_only_the_cases_physician_writes_them(procedure, other_physician, front_desk) -> None:
    with pytest.raises(ClinicError, match="Only the physician"):
        instructions.instructions_draft(procedure=procedure, physician=other_physician)
    with pytest.raises(ClinicError, match="Only physicians"):
        instructions.instructions_draft(procedure=procedure, physician=front_desk)


def test_the_patient_acknowledges_approved_instructions(
    procedure, physician, patient, other_patient
) -> None:
    with pytest.raises(ClinicError, match="no instructions"):
        instructions.instructions_acknowledge(procedure=procedure, patient=patient, ip_address=None)
    instructions.instructions_draft(procedure=procedure, physician=physician)
    instructions.instructions_approve(procedure=procedure, physician=physician)
    with pytest.raises(ClinicError, match="not yours"):
        instructions.instructions_acknowledge(
            procedure=procedure, patient=other_patient, ip_address=None
        )
    receipt = instructions.instructions_acknowledge(
        procedure=procedure, patient=patient, ip_address="203.0.113.8"
    )
    assert receipt.starts_at == procedure.starts_at and receipt.ip_address == "203.0.113.8"


def test_one_reminder_before_the_first_date_however_often_the_task_runs(
    procedure, physician, patient, django_capture_on_commit_callbacks
) -> None:
    instructions.instructions_draft(procedure=procedure, physician=physician)
    first_day = min(
        (timezone.localtime(procedure.starts_at) + timedelta(days=i.days_from_procedure)).date()
        for i in ProcedureInstruction.objects.filter(procedure=procedure)
    )

    def noon(days_before_first: int) -> datetime:
        day = first_day - timedelta(days=days_before_first)
        return datetime(day.year, day.month, day.day, 12, tzinfo=timezone.get_current_timezone())

    # Not approved: nothing, even on the day.
    assert instructions.instruction_reminders_send(now=noon(0)) == 0
    instructions.instructions_approve(procedure=procedure, physician=physician)
    assert instructions.instruction_reminders_send(now=noon(3)) == 0  # too early
    before = OutboundEmail.objects.filter(to=patient.email).count()
    with django_capture_on_commit_callbacks(execute=True):
        assert instructions.instruction_reminders_send(now=noon(1)) == 1
        assert instructions.instruction_reminders_send(now=noon(1)) == 0
        assert instructions.instruction_reminders_send(now=noon(0)) == 0
    assert InstructionReminder.objects.count() == 1
    mail = OutboundEmail.objects.filter(to=patient.email).order_by("-pk")[0]
    assert OutboundEmail.objects.filter(to=patient.email).count() == before + 1
    for health in ("ibuprofen", "marrow", "steroid", "procedure", "injection"):
        assert health not in (mail.subject + mail.body).lower()


def test_the_beat_task_runs_the_reminders() -> None:
    from django.conf import settings

    from care.tasks import send_instruction_reminders

    entry = settings.CELERY_BEAT_SCHEDULE["instruction-reminders"]
    assert entry["task"] == send_instruction_reminders.name
    assert send_instruction_reminders.delay().get() == 0


def test_an_instruction_whose_first_day_has_passed_reads_from_now(procedure, physician) -> None:
    """Booked 20 days ahead, "no steroid injection within 6 weeks" would start 22 days
    ago: the patient reads it from now on, not from a day already gone."""
    instructions.instructions_draft(procedure=procedure, physician=physician)
    instructions.instructions_approve(procedure=procedure, physician=physician)
    steroid, nsaid, *_ = instructions.approved_for_patient(procedure)
    assert steroid.day < timezone.localdate() < nsaid.day
    assert steroid.sentence.startswith("From now until your procedure, ")
    assert nsaid.sentence.startswith("From ") and "From now" not in nsaid.sentence
