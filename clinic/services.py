"""Use cases of the clinic as an organisation: accounts and outgoing e-mail."""

import logging
import smtplib

from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from clinic.errors import ClinicError
from clinic.models import OutboundEmail, PhysicianProfile, User
from clinic.roles import GROUP_NAMES, Role
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
    if User.objects.filter(email__iexact=email).exists():
        raise ClinicError("An account with that e-mail address already exists.")
    with transaction.atomic():
        user = User.objects.create_user(
            email,
            password,
            full_name=full_name.strip(),
            is_staff=role == Role.CLINIC_ADMIN,
        )
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
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
    *, to: str, subject: str, template: str, context: dict[str, object]
) -> OutboundEmail:
    """Writes an e-mail to the outbox in the caller's transaction and hands its id
    to the Celery worker once that transaction commits (never before, so a rolled
    back change sends nothing)."""
    from clinic.tasks import send_email

    body = render_to_string(template, context)
    with transaction.atomic():
        email = OutboundEmail.objects.create(to=to, subject=subject, body=body)
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
            send_mail(email.subject, email.body, None, [email.to])
        except TRANSIENT_EMAIL_ERRORS as error:
            failure = error
            email.last_error = type(error).__name__
            email.save(update_fields=["attempts", "last_error"])
        else:
            email.sent_at = timezone.now()
            email.body = ""
            email.last_error = ""
            email.save(update_fields=["attempts", "sent_at", "body", "last_error"])
            return True
    logger.warning("E-mail %s not sent (attempt %s): %s", email_id, email.attempts, failure)
    raise failure
