"""Two-factor sign-in for staff: a time-based code from an authenticator app
(django-otp's TOTP device), with single-use recovery codes for a lost phone.

Every code is checked through ``django_otp.verify_token``, which locks the device's
row first (``SELECT ... FOR UPDATE``): a code sent in several requests at once is
accepted by exactly one of them."""

import math
import secrets

import django_otp
import segno
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import User
from clinic.roles import Role, role_of

RECOVERY_CODE_COUNT = 10
TOTP_DIGITS = 6
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def second_factor_required(user: User) -> bool:
    """Everyone who can open another person's health data: every role but patients,
    and anyone who may use the admin site."""
    role = role_of(user)
    return user.is_staff or user.is_superuser or (role is not None and role != Role.PATIENT)


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def authenticator_pending(user: User) -> TOTPDevice:
    """The not yet confirmed authenticator the setup page shows (one per person)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    return device


def authenticator_qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// link as an inline SVG QR code, for the phone's camera."""
    svg: str = segno.make(device.config_url, error="m").svg_inline(scale=4, title="QR code")
    return svg


def authenticator_secret(device: TOTPDevice) -> str:
    """The same secret in base32, grouped by four, for typing in by hand."""
    secret = device.config_url.split("secret=", 1)[1].split("&", 1)[0]
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def authenticator_confirm(*, user: User, token: str) -> list[str] | None:
    """Confirms the pending authenticator with its first code. Returns the new
    recovery codes (to show once), or None when the code is wrong.

    Setup opened in two tabs at once can leave two pending authenticators, each
    shown with its own QR code: the code is tried against each, and the one the
    phone scanned is kept; the others (and any earlier confirmed one) go. The
    person's pending devices stay locked from the check to the confirmation, so two
    tabs confirming at once cannot each delete the other's device: the second finds
    its device gone and is refused."""
    token = _clean(token)
    with transaction.atomic():
        pending = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False)
        device = next(
            (
                d
                for d in pending.order_by("pk")
                if django_otp.verify_token(user, d.persistent_id, token) is not None
            ),
            None,
        )
        if device is None:
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        return recovery_codes_renew(user=user)


def recovery_codes_renew(*, user: User) -> list[str]:
    """Replaces every recovery code with ten new ones; the old ones stop working."""
    codes = [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        device, _ = StaticDevice.objects.get_or_create(
            user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        StaticToken.objects.bulk_create(
            StaticToken(device=device, token=code.replace("-", "")) for code in codes
        )
    return codes


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def _devices_for(user: User, token: str) -> list[Device]:
    """The devices a code is meant for: six digits come from the app, anything else
    is a recovery code. A recovery code therefore never counts as a wrong app code
    (which would slow the next app code down), and the other way round."""
    app_code = token.isdigit() and len(token) == TOTP_DIGITS
    model = TOTPDevice if app_code else StaticDevice
    return list(model.objects.filter(user=user, confirmed=True))


def second_factor_verify(*, user: User, token: str) -> Device | None:
    """The device that accepts this code (an app code or a recovery code), or None.
    Each device is tried under its row lock, so a code works once."""
    token = _clean(token)
    if not token:
        return None
    for device in _devices_for(user, token):
        verified: Device | None = django_otp.verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified
    return None


def wait_seconds(user: User, token: str, *, setting_up: bool = False) -> int:
    """After wrong codes django-otp refuses every code for a while (1 s, then
    doubling): how long is left, so the page can say so instead of "wrong code"."""
    now = timezone.now()
    waits = [
        (details["locked_until"] - now).total_seconds()
        for device in (
            TOTPDevice.objects.filter(user=user, confirmed=False)
            if setting_up
            else _devices_for(user, _clean(token))
        )
        for allowed, details in [device.verify_is_allowed()]
        if not allowed and details and "locked_until" in details
    ]
    return max(0, math.ceil(max(waits, default=0)))


def _clean(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()[:16]


def second_factor_reset(*, user: User) -> None:
    """For a lost phone with no recovery codes left (a clinic admin does it): the
    person sets up a new authenticator at their next login."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
