"""The login forms' side of the lockout (django-axes): one key per account whatever
the spelling, and overlong addresses refused before they reach the count."""

from contextlib import suppress
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

# The longest address an account can have (User.email), and the longest username
# django-axes can store (AccessAttempt.username).
EMAIL_MAX_LENGTH = 254
ATTEMPT_USERNAME_MAX_LENGTH = AccessAttempt._meta.get_field("username").max_length or 255


def login_key(address: str) -> str:
    """An address as the login lookup compares it: without surrounding spaces (the
    form strips them) and without regard to case (``email__iexact``)."""
    return address.strip().lower()


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the key failures are counted under, the same for
    ``BEN@clinic.example`` and `` ben@clinic.example``, and short enough to store."""
    source: Any = credentials if credentials else getattr(request, "POST", {})
    username = source.get("username") if source else None
    if username is None:
        return None
    return login_key(str(username))[:ATTEMPT_USERNAME_MAX_LENGTH]


def overlong_login_count(request: HttpRequest | None, username: str) -> None:
    """Counts a login refused for its overlong address as a failed attempt, the way
    ``authenticate`` would: a paused account or address stays paused (the lockout
    page answers), and otherwise the failure is recorded."""
    if request is None:
        return
    credentials = {"username": username[:ATTEMPT_USERNAME_MAX_LENGTH]}
    # Raises when the address or account is already paused, and marks the request so
    # that the failure below does not restart the pause.
    with suppress(PermissionDenied):
        AxesStandaloneBackend().authenticate(request, **credentials)
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
