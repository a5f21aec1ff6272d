from typing import Any

import django_filters
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from clinic.login import EMAIL_MAX_LENGTH, overlong_login_count
from clinic.models import LANGUAGE_CHOICES, AuditEvent, User
from clinic.services import email_queue, patient_language


class DateInput(forms.DateInput):
    """A browser date picker, with the ISO date it expects."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PatientSignupForm(forms.Form):
    full_name = forms.CharField(
        label=_("Your full name"), max_length=150, widget=forms.TextInput({"autocomplete": "name"})
    )
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput({"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput({"autocomplete": "new-password"}),
        help_text=_("At least 10 characters; not a common password."),
    )
    password2 = forms.CharField(
        label=_("The same password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput({"autocomplete": "new-password"}),
    )

    def clean_full_name(self) -> str:
        full_name: str = self.cleaned_data["full_name"].strip()
        if not full_name:
            raise ValidationError(_("Please enter your name."))
        return full_name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords are not the same."))
        elif password1:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class BoundedLoginMixin(AuthenticationForm):
    """An address longer than any account's is refused before authenticating (Django
    sets the field's max_length after building it, so no validator checked it, and
    django-axes failed to store it), and the refusal counts as a failed login."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(
            MaxLengthValidator(
                EMAIL_MAX_LENGTH,
                message=_("An e-mail address has at most %(limit)s characters.")
                % {"limit": EMAIL_MAX_LENGTH},
            )
        )

    def clean(self) -> dict[str, Any]:
        if self.has_error("username", "max_length"):
            overlong_login_count(self.request, str(self.data.get("username", "")))
        return super().clean()


class LoginForm(BoundedLoginMixin, AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mail address")

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "That e-mail address and password do not match. Try again, or reset your password."
        ),
    }


class AdminLoginForm(BoundedLoginMixin, AdminAuthenticationForm):
    """The admin site's login form, bounded the same way."""


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form (which never says whether an account exists), with the
    e-mail written to the outbox and delivered by the Celery worker."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mail address")

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # In the account's language (the reset page's language for one never chosen).
        user = context.get("user")
        language = user.language if isinstance(user, User) and user.language else None
        with translation.override(language or translation.get_language() or patient_language(None)):
            subject = "".join(render_to_string(subject_template_name, context).splitlines())
            email_queue(to=to_email, subject=subject, template=email_template_name, context=context)


class LanguageForm(forms.Form):
    """The language switch (templates/base.html)."""

    language = forms.ChoiceField(choices=LANGUAGE_CHOICES)


class OneTimeCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            {"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text="The 6 digits your authenticator app shows now, or one of your recovery codes.",
    )


class AuditFilter(django_filters.FilterSet):
    """The admins' audit search: by patient, by the person who looked, by date."""

    patient = django_filters.CharFilter(
        label="Patient (name or e-mail)",
        method="filter_person",
        field_name="patient",
        max_length=EMAIL_MAX_LENGTH,
    )
    actor = django_filters.CharFilter(
        label="Seen by (name or e-mail)",
        method="filter_person",
        field_name="actor",
        max_length=EMAIL_MAX_LENGTH,
    )
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, empty_label="Any")
    since = django_filters.DateFilter(
        label="From", field_name="at", lookup_expr="date__gte", widget=DateInput
    )
    until = django_filters.DateFilter(
        label="To", field_name="at", lookup_expr="date__lte", widget=DateInput
    )

    class Meta:
        model = AuditEvent
        fields = ["patient", "actor", "action", "since", "until"]

    def filter_person(
        self, queryset: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(**{f"{name}__email__icontains": value})
            | Q(**{f"{name}__full_name__icontains": value})
        )
