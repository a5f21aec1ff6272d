"""Prints the current two-factor code of a demo staff account, for trying the app
without an authenticator app. Demo accounts only, and only with DEBUG on."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import TOTP

from clinic.management.commands.seed_demo import DEMO_ACCOUNTS, demo_authenticator
from clinic.roles import Role


class Command(BaseCommand):
    help = "Prints the current two-factor code of a demo staff account (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="A demo staff account, e.g. dr.lee@clinic.example")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("DEBUG is off: demo codes are for trying the app only.")
        email = options["email"].strip().lower()
        staff = {a.email for a in DEMO_ACCOUNTS if a.role != Role.PATIENT}
        if email not in staff:
            raise CommandError(f"Not a demo staff account. Try one of: {', '.join(sorted(staff))}")
        device = demo_authenticator(email)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
