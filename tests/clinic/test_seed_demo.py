from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from clinic import two_factor
from clinic.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from clinic.models import PhysicianProfile, User
from clinic.roles import Role, role_of
from intake.models import Case, Consultation, Intake
from treatments.models import Priority


def test_seed_demo_creates_one_account_per_role_and_prints_the_logins(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert DEMO_PASSWORD in output
    for account in DEMO_ACCOUNTS:
        assert account.email in output
        user = User.objects.get(email=account.email)
        assert user.check_password(DEMO_PASSWORD)
        assert role_of(user) == account.role
    regions = {
        profile.display_name: set(profile.body_regions.values_list("slug", flat=True))
        for profile in PhysicianProfile.objects.all()
    }
    assert len(regions) == 2
    first, second = regions.values()
    assert first and second and first.isdisjoint(second)
    roles = [account.role for account in DEMO_ACCOUNTS]
    assert roles.count(Role.PATIENT) == 9 and roles.count(Role.PHYSICIAN) == 2


def test_seed_demo_twice_changes_nothing(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    before = list(User.objects.order_by("pk").values("pk", "email", "password"))
    call_command("seed_demo")
    assert list(User.objects.order_by("pk").values("pk", "email", "password")) == before
    # With Henry's and the three treated patients of care.demo_followups (an intake,
    # a case and a procedure each).
    assert Intake.objects.count() == 9 + 3
    assert Case.objects.count() == 8 + 3
    assert Consultation.objects.count() == 5 + 3  # Omar's, Grace's two, Henry's two, 3 procedures


def test_seed_demo_gives_maria_a_submitted_case_and_tom_a_draft(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    case = Case.objects.get(patient__email="maria@clinic.example")
    assert case.state == Case.State.SUBMITTED
    assert case.assigned_to is not None and case.assigned_to.email == "dr.lee@clinic.example"
    assert [flag.contraindication.slug for flag in case.flags.all()] == ["anticoagulant"]
    draft = Intake.objects.get(patient__email="tom@clinic.example")
    assert (draft.status, draft.next_step) == (Intake.Status.DRAFT, 2)


def test_seed_demo_refuses_to_run_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_fills_both_queues_and_the_pool_with_each_priority(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    placed = {
        case.patient.email.split("@")[0]: (
            case.assigned_to.email if case.assigned_to else None,
            Priority(case.priority).label,
        )
        for case in Case.objects.select_related("patient", "assigned_to")
    }
    assert placed == {
        "maria": ("dr.lee@clinic.example", "Routine"),
        "rosa": ("dr.patel@clinic.example", "Urgent"),
        "ana": ("dr.patel@clinic.example", "High"),
        "ben": (None, "Routine"),
        "lucy": ("dr.patel@clinic.example", "Routine"),
        "omar": ("dr.lee@clinic.example", "Routine"),
        "grace": ("dr.lee@clinic.example", "Routine"),
        "henry": ("dr.lee@clinic.example", "Routine"),
        # Treated, with follow-ups (care.demo_followups).
        "helen": ("dr.lee@clinic.example", "Routine"),
        "victor": ("dr.lee@clinic.example", "Routine"),
        "nora": ("dr.lee@clinic.example", "Routine"),
    }


def test_seed_demo_has_a_case_to_book_a_booking_and_an_incomplete_intake(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    assert [case.patient.email for case in Case.objects.to_schedule()] == ["lucy@clinic.example"]
    booked = Consultation.objects.select_related("patient", "physician").get(
        patient__email="omar@clinic.example"
    )
    assert (booked.patient.email, booked.physician.email, booked.state) == (
        "omar@clinic.example",
        "dr.lee@clinic.example",
        Consultation.State.BOOKED,
    )
    assert booked.starts_at > timezone.now()
    cutoff = timezone.now() - timedelta(days=settings.INCOMPLETE_INTAKE_DAYS)
    assert [i.patient.email for i in Intake.objects.incomplete(started_before=cutoff)] == [
        "tom@clinic.example"
    ]


def test_seed_demo_gives_both_physicians_working_hours_once(db, settings):
    from clinic.models import WorkingHours

    settings.DEBUG = True
    call_command("seed_demo")
    call_command("seed_demo")
    per_physician = {
        email: WorkingHours.objects.filter(physician__user__email=email).count()
        for email in ("dr.lee@clinic.example", "dr.patel@clinic.example")
    }
    assert per_physician == {"dr.lee@clinic.example": 3, "dr.patel@clinic.example": 3}


def test_demo_staff_can_pass_the_second_factor_with_demo_code(db, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    assert "python manage.py demo_code" in capsys.readouterr().out
    call_command("demo_code", "dr.lee@clinic.example")
    code = capsys.readouterr().out.strip()
    lee = User.objects.get(email="dr.lee@clinic.example")
    assert two_factor.has_authenticator(lee)
    assert two_factor.second_factor_verify(user=lee, token=code) is not None


@pytest.mark.parametrize(("debug", "email"), [(False, "dr.lee@clinic.example"), (True, "x@y.z")])
def test_demo_code_is_for_demo_staff_accounts_in_debug_only(db, settings, debug, email):
    settings.DEBUG = True
    call_command("seed_demo")
    settings.DEBUG = debug
    with pytest.raises(CommandError):
        call_command("demo_code", email)


def test_the_readme_gives_the_demo_physicians_working_hours_as_seeded(db, settings):
    """The README's demo description names each physician's days and hours as the
    seed makes them (issue 17: it said Dr Patel worked Friday mornings only, Tuesday
    and Thursday too, while the slots showed those days all day)."""
    settings.DEBUG = True
    call_command("seed_demo")
    readme = " ".join((Path(__file__).resolve().parents[2] / "README.md").read_text().split())
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    for profile in PhysicianProfile.objects.order_by("display_name"):
        by_hours: dict[str, list[str]] = {}
        for window in profile.working_hours.order_by("weekday", "starts"):
            hours = f"{window.starts:%H:%M}–{window.ends:%H:%M}"
            by_hours.setdefault(hours, []).append(days[window.weekday])
        parts = [
            (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0])
            + f" {hours}"
            for hours, names in by_hours.items()
        ]
        short_name = f"Dr {profile.display_name.split()[-1]}"  # as the README calls them
        assert f"{short_name} {', '.join(parts)}" in readme


def test_seed_demo_tells_grace_s_story_after_the_consultation(db, settings):
    from care.models import GoodFaithEstimate
    from care.services import instructions, plans, procedures

    settings.DEBUG = True
    call_command("seed_demo")
    case = Case.objects.get(patient__email="grace@clinic.example")
    assert case.consultations.filter(state=Consultation.State.COMPLETED).count() == 1
    plan = plans.current_plan(case)
    assert plan is not None and plan.sessions == 2
    latest = GoodFaithEstimate.objects.filter(case=case).latest()
    assert latest.service_date is not None  # re-issued with the procedure's date
    assert GoodFaithEstimate.objects.filter(case=case, acknowledgement__isnull=False).exists()
    procedure = procedures.booked_procedure(case)
    assert procedure is not None and procedure.starts_at > timezone.now()
    assert len(instructions.approved_for_patient(procedure)) == 3


def test_seed_demo_records_henry_s_donor_tissue_procedure_with_its_lot(db, settings):
    from care import selectors
    from care.demo import DEMO_LOT
    from care.models import GoodFaithEstimate

    settings.DEBUG = True
    call_command("seed_demo")
    case = Case.objects.get(patient__email="henry@clinic.example")
    assert case.state == Case.State.TREATED
    (record,) = selectors.lot_recipients(DEMO_LOT)
    assert record.case == case and record.kind == "donor_tissue"
    assert timezone.localdate(record.performed_at) == timezone.localdate()
    latest = GoodFaithEstimate.objects.filter(case=case).latest()
    assert latest.service_date == timezone.localdate()
    assert hasattr(latest, "acknowledgement")
    call_command("seed_demo")  # idempotent
    assert len(selectors.lot_recipients(DEMO_LOT)) == 1
