"""Demo accounts for trying the app. Idempotent: existing accounts are left as they are."""

import contextlib
import hashlib
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import two_factor
from clinic.models import User
from clinic.roles import Role
from clinic.services import physician_profile_set, user_create

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105 - printed for demo logins on purpose


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: Role
    regions: list[str] = field(default_factory=list)
    display_name: str = ""


DEMO_ACCOUNTS = [
    DemoAccount("admin@clinic.example", "Alex Admin", Role.CLINIC_ADMIN),
    DemoAccount(
        "dr.lee@clinic.example", "Jordan Lee", Role.PHYSICIAN, ["knee", "hip"], "Dr Jordan Lee"
    ),
    DemoAccount(
        "dr.patel@clinic.example",
        "Priya Patel",
        Role.PHYSICIAN,
        ["spine", "shoulder", "elbow", "wrist-hand", "ankle-foot", "other"],
        "Dr Priya Patel",
    ),
    DemoAccount("frontdesk@clinic.example", "Sam Front", Role.FRONT_DESK),
    DemoAccount("maria@clinic.example", "Maria Garcia", Role.PATIENT),
    DemoAccount("tom@clinic.example", "Tom Becker", Role.PATIENT),
    DemoAccount("rosa@clinic.example", "Rosa Rivera", Role.PATIENT),
    DemoAccount("ana@clinic.example", "Ana Costa", Role.PATIENT),
    DemoAccount("ben@clinic.example", "Ben Okafor", Role.PATIENT),
    DemoAccount("lucy@clinic.example", "Lucy Chen", Role.PATIENT),
    DemoAccount("omar@clinic.example", "Omar Haddad", Role.PATIENT),
    DemoAccount("grace@clinic.example", "Grace Kim", Role.PATIENT),
    DemoAccount("henry@clinic.example", "Henry Brooks", Role.PATIENT),
]
# A draft started this many days ago shows on the front desk's incomplete list.
DEMO_DRAFT_AGE_DAYS = 5


def demo_authenticator(email: str) -> TOTPDevice:
    """The demo staff member's authenticator: its key is derived from the e-mail
    address, so it stays the same across runs (and is as public as the password)."""
    user = User.objects.get(email__iexact=email)
    key = hashlib.sha1(f"clinic-intake-demo:{email}".encode()).hexdigest()  # noqa: S324
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, name=two_factor.APP_DEVICE_NAME, defaults={"key": key, "confirmed": True}
    )
    return device


def demo_code_command() -> str:
    """``demo_code`` as a command that works when pasted in the checkout: with the
    Python that runs this command (the virtualenv's), not a bare ``python``."""
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(Path(settings.BASE_DIR))
    return f"{python} manage.py demo_code"


class Command(BaseCommand):
    help = "Creates demo accounts (one per role) and prints their logins. Safe to run twice."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off (demo passwords are public: never on a real clinic).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError(
                "DEBUG is off: demo accounts have public passwords. "
                "Pass --allow-production to create them anyway."
            )
        rows = []
        # The demo's e-mails (confirmations, routing, booking) are kept, not printed:
        # printed, they would bury the logins below under a few hundred lines.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            mail.outbox = []
            with transaction.atomic():
                for account in DEMO_ACCOUNTS:
                    user = User.objects.filter(email__iexact=account.email).first()
                    created = user is None
                    if user is None:
                        user = user_create(
                            email=account.email,
                            full_name=account.full_name,
                            role=account.role,
                            password=DEMO_PASSWORD,
                        )
                        if account.role == Role.PHYSICIAN:
                            physician_profile_set(
                                user=user,
                                display_name=account.display_name,
                                region_slugs=account.regions,
                            )
                    rows.append((account, created))

                self._working_hours()
                demo_intakes = self._demo_intakes()
            sent = len(mail.outbox)

        self.stdout.write("The demo clinic:")
        for line in demo_intakes:
            self.stdout.write(f"  {line}")
        if sent:
            self.stdout.write(f"  ({sent} demo e-mails were sent while seeding; not shown)")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD})"))
        for account, created in rows:
            regions = f" takes {', '.join(account.regions)}" if account.regions else ""
            state = "created" if created else "already there, left unchanged"
            self.stdout.write(f"  {account.role.label:<13} {account.email:<24}{regions} ({state})")
        self.stdout.write(
            "Staff also give a code from an authenticator app. For the demo accounts, add\n"
            "the key below to one, or print the current code with\n"
            f"  {demo_code_command()} dr.lee@clinic.example"
        )
        for account in DEMO_ACCOUNTS:
            if account.role != Role.PATIENT:
                key = two_factor.authenticator_secret(demo_authenticator(account.email))
                self.stdout.write(f"  {account.email:<24} key {key}")

    def _working_hours(self) -> None:
        """Dr Lee: Monday, Wednesday, Friday 08:30-16:30; Dr Patel: Tuesday and
        Thursday 09:00-17:00, Friday mornings. Added once per physician."""
        from datetime import time

        from clinic.models import PhysicianProfile, WorkingHours

        weeks = {
            "dr.lee@clinic.example": [(0, 8, 30, 16, 30), (2, 8, 30, 16, 30), (4, 8, 30, 16, 30)],
            "dr.patel@clinic.example": [(1, 9, 0, 17, 0), (3, 9, 0, 17, 0), (4, 9, 0, 13, 0)],
        }
        for email, windows in weeks.items():
            profile = PhysicianProfile.objects.get(user__email=email)
            if profile.working_hours.exists():
                continue
            WorkingHours.objects.bulk_create(
                WorkingHours(
                    physician=profile,
                    weekday=day,
                    starts=time(h1, m1),
                    ends=time(h2, m2),
                    location="Main clinic, room 2" if "lee" in email else "Main clinic, room 4",
                )
                for day, h1, m1, h2, m2 in windows
            )

    def _demo_intakes(self) -> list[str]:
        """Submitted cases routed as a real submission would be (Maria's knee to Dr
        Lee with a blood-thinner caution, Rosa's urgent back to Dr Patel, Ana's
        shoulder with a hard stop, Ben's hip released to the unassigned pool); Lucy's
        elbow waiting for the front desk to book, Omar's knee booked; and Tom's draft
        stopped after step 1 days ago. Added once: a patient with any intake is left
        alone."""
        from intake import demo
        from intake.cases import case_claim, case_release
        from intake.models import Case, Intake
        from intake.routing import case_route

        lines = []
        submitted = [
            ("maria", demo.MARIA_KNEE, "Maria's knee"),
            ("rosa", demo.ROSA_BACK, "Rosa's back (red flag: urgent)"),
            ("ana", demo.ANA_SHOULDER, "Ana's shoulder (hard stop: high)"),
            ("ben", demo.BEN_HIP, "Ben's hip"),
            ("lucy", demo.LUCY_ELBOW, "Lucy's elbow (consultation to book)"),
            ("omar", demo.OMAR_KNEE, "Omar's knee (consultation booked)"),
        ]
        front_desk = User.objects.get(email="frontdesk@clinic.example")
        for name, story, label in submitted:
            patient = User.objects.get(email=f"{name}@clinic.example")
            if Intake.objects.filter(patient=patient).exists():
                continue
            case = demo.demo_submitted_case(patient, story)
            # Routing runs on commit; the demo needs it now to place Ben's case.
            case = case_route(case_id=case.pk)
            if name == "ben" and case.assigned_to is not None:
                physician = case.assigned_to
                case_claim(case=case, physician=physician)
                case_release(case=case, physician=physician)
            if name in {"lucy", "omar"} and case.assigned_to is not None:
                case = demo.demo_candidate(case, note="Demo: routine PRP discussion.")
            booked = None
            if name == "omar" and case.state == Case.State.CONSULT_REQUESTED:
                booked = demo.demo_booking(case, booked_by=front_desk)
            case = Case.objects.select_related("assigned_to").get(pk=case.pk)
            where = case.assigned_to.full_name if case.assigned_to else "the unassigned pool"
            lines.append(f"{label} intake was submitted as case {case.reference} ({where}).")
            if booked is not None:
                lines.append(
                    f"  booked for {timezone.localtime(booked.starts_at):%a %d %b %H:%M}; "
                    "see the front desk's day view."
                )
        grace = User.objects.get(email="grace@clinic.example")
        if not Intake.objects.filter(patient=grace).exists():
            from care.demo import demo_care_story

            case = demo_care_story(grace, front_desk=front_desk)
            lines.append(
                f"Grace's knee (case {case.reference}): consultation held, PRP plan shared, "
                "Good Faith Estimate issued and acknowledged, procedure booked with approved "
                "instructions."
            )
        # Before Henry's: their procedures pass through "now" on the way to their days.
        from care.demo_followups import seed_followups

        lines += seed_followups(front_desk=front_desk, password=DEMO_PASSWORD)
        henry = User.objects.get(email="henry@clinic.example")
        if not Intake.objects.filter(patient=henry).exists():
            from care.demo import DEMO_LOT, demo_treated_story

            case = demo_treated_story(henry, front_desk=front_desk)
            lines.append(
                f"Henry's knee (case {case.reference}): donor-tissue procedure done this "
                f"morning and recorded with lot {DEMO_LOT}; search that lot on the tissue "
                "recall list (Dr Lee or the clinic admin)."
            )
        tom = User.objects.get(email="tom@clinic.example")
        if not Intake.objects.filter(patient=tom).exists():
            draft = demo.demo_draft(tom)
            # Started days ago, so it is on the front desk's incomplete list.
            Intake.objects.filter(pk=draft.pk).update(
                created_at=timezone.now() - timedelta(days=DEMO_DRAFT_AGE_DAYS)
            )
            lines.append(
                f"Tom has a draft intake, started {DEMO_DRAFT_AGE_DAYS} days ago, "
                "to continue at step 2."
            )
        return lines
