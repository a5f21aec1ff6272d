"""Use cases of the clinic as an organisation: accounts and outgoing e-mail."""

import logging
import smtplib

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from clinic.errors import ClinicError
from clinic.models import OutboundEmail, PhysicianProfile, User
from clinic.roles import GROUP_NAMES, Role
from clinic.tokens import email_verification_tokens
from treatments.models import BodyRegion

logger = logging.getLogger(__name__)

# Errors worth another delivery attempt; anything else is a bug to see at once.
TRANSIENT_EMAIL_ERRORS: tuple[type[Exception], ...] = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    smtplib.SMTPResponseException,
    ConnectionError,
    TimeoutError,
)


def user_create(*, email: str, full_name: str, role: Role, password: str | None = None) -> User:
    """Creates an account in exactly one role. Clinic admins may use the admin site."""
    email = email.strip().lower()
    taken = ClinicError(_("An account already uses this e-mail address."))
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email,
                password,
                full_name=full_name.strip(),
                is_staff=role == Role.CLINIC_ADMIN,
            )
            user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
    except IntegrityError:
        # Two sign-ups with one address at the same moment: the unique index decides.
        raise taken from None
    return user


def user_language_set(*, user: User, language: str) -> User:
    """Stores the language a patient reads the product and their e-mails in (the
    change history of accounts keeps the change)."""
    if language not in dict(settings.LANGUAGES):
        raise ClinicError("This language is not offered.")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return user


def patient_language(user: User | None) -> str:
    """The language to write to this person in: their stored choice, else English."""
    return (user.language if user is not None else "") or settings.LANGUAGE_CODE


def patient_account_create(
    *, email: str, full_name: str, password: str, language: str = ""
) -> User:
    """A patient signs themselves up: the account is created in the patient role, in
    the language they signed up in, and an e-mail with a confirmation link is queued
    for when the transaction commits. The password must already have passed the
    validators (the form checks them)."""
    if language and language not in dict(settings.LANGUAGES):
        language = ""
    with transaction.atomic():
        user = user_create(email=email, full_name=full_name, role=Role.PATIENT, password=password)
        if language:
            user_language_set(user=user, language=language)
        email_verification_send(user=user)
    return user


def email_verification_send(*, user: User) -> OutboundEmail:
    """Queues an e-mail whose link confirms that the person owns the address."""
    path = reverse(
        "verify_email",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": email_verification_tokens.make_token(user),
        },
    )
    with translation.override(patient_language(user)):
        return email_queue(
            to=user.email,
            subject=_("Confirm your e-mail address for %(clinic)s")
            % {"clinic": settings.CLINIC_NAME},
            template="emails/verify_email.txt",
            context={"user": user, "link": f"{settings.SITE_URL}{path}"},
        )


def email_verification_address(*, uidb64: str, token: str) -> str | None:
    """The address a confirmation link is for, while the link still works (so its
    page can say which address it confirms); None for a used or forged link."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not email_verification_tokens.check_token(user, token):
        return None
    return user.email


def email_verify(*, uidb64: str, token: str) -> User:
    """Marks the address confirmed. The link works once: confirming changes the token."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        raise ClinicError(_("This confirmation link no longer works.")) from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or not email_verification_tokens.check_token(user, token):
            raise ClinicError(_("This confirmation link no longer works."))
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def physician_profile_set(
    *,
    user: User,
    display_name: str,
    region_slugs: list[str],
    accepting_new_cases: bool = True,
    max_open_cases: int = 40,
    npi_number: str = "",
) -> PhysicianProfile:
    """Creates or updates a physician's profile and the body regions they take."""
    regions = list(BodyRegion.objects.filter(slug__in=region_slugs))
    missing = set(region_slugs) - {region.slug for region in regions}
    if missing:
        raise ClinicError(f"Unknown body region: {', '.join(sorted(missing))}.")
    with transaction.atomic():
        profile, _ = PhysicianProfile.objects.update_or_create(
            user=user,
            defaults={
                "display_name": display_name,
                "accepting_new_cases": accepting_new_cases,
                "max_open_cases": max_open_cases,
                "npi_number": npi_number,
            },
        )
        profile.body_regions.set(regions)
    return profile


def email_queue(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, object],
    calendar: str = "",
) -> OutboundEmail:
    """Writes an e-mail to the outbox in the caller's transaction and hands its id
    to the Celery worker once that transaction commits (never before, so a rolled
    back change sends nothing)."""
    from clinic.tasks import send_email

    body = render_to_string(template, {"CLINIC_NAME": settings.CLINIC_NAME, **context})
    # Subjects are composed (a clinic's name from the settings, a reference): a long
    # one is shortened rather than failing the change that sends it.
    longest = OutboundEmail._meta.get_field("subject").max_length or len(subject)
    if len(subject) > longest:
        subject = subject[: longest - 1].rstrip() + "…"
    with transaction.atomic():
        email = OutboundEmail.objects.create(to=to, subject=subject, body=body, calendar=calendar)
        email_id = email.pk
        transaction.on_commit(lambda: send_email.delay(email_id))
    return email


def email_deliver(*, email_id: int) -> bool:
    """Sends one outbox e-mail. Safe to call twice or in parallel: the row is locked
    and an e-mail already sent is skipped. Returns whether this call sent it."""
    # The row lock is held while sending, so a second worker waits and then skips.
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None or email.sent_at is not None:
            return False
        email.attempts += 1
        try:
            message = EmailMessage(email.subject, email.body, None, [email.to])
            if email.calendar:
                method = "CANCEL" if "METHOD:CANCEL" in email.calendar else "REQUEST"
                message.attach(
                    "consultation.ics", email.calendar, f"text/calendar; method={method}"
                )
            message.send()
        except TRANSIENT_EMAIL_ERRORS as error:
            failure = error
            email.last_error = type(error).__name__
            email.save(update_fields=["attempts", "last_error"])
        else:
            email.sent_at = timezone.now()
            email.body = email.calendar = ""
            email.last_error = ""
            email.save(update_fields=["attempts", "sent_at", "body", "calendar", "last_error"])
            return True
    logger.warning("E-mail %s not sent (attempt %s): %s", email_id, email.attempts, failure)
    raise failure
