from typing import Any

from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.template.loader import render_to_string

from clinic.services import email_queue


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That e-mail address and password do not match. Try again, or reset your password."
        ),
    }


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form (which never says whether an account exists), with the
    e-mail written to the outbox and delivered by the Celery worker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "E-mail address"

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        email_queue(to=to_email, subject=subject, template=email_template_name, context=context)
