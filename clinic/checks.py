"""System checks of our own, run by ``manage.py check`` (``--deploy`` for these)."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Backends that write each whole message (body and links) to the process's output,
# which in production is the log.
MESSAGE_PRINTING_EMAIL_BACKENDS = {"django.core.mail.backends.console.EmailBackend"}


@register(Tags.security, deploy=True)
def email_is_not_printed(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """With DEBUG off, no e-mail may end up in the log: a password-reset link there is
    a way into the account, and the messages carry names and consultation times."""
    if settings.DEBUG or settings.EMAIL_BACKEND not in MESSAGE_PRINTING_EMAIL_BACKENDS:
        return []
    return [
        Error(
            "EMAIL_BACKEND is the console backend: every e-mail, password-reset links "
            "included, would be written to the log.",
            hint="Set EMAIL_HOST to the SMTP server, or EMAIL_BACKEND to a backend that sends.",
            id="clinic.E001",
        )
    ]
