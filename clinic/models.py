"""The clinic as an organisation: its user accounts, physician profiles, and the
outbox of e-mails it sends."""

import uuid
from typing import Any, ClassVar

import pghistory
import pgtrigger
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# The product's languages (settings.LANGUAGES names the same two).
LANGUAGE_CHOICES = [("en", "English"), ("es", "Español")]


def history(model_name: str, **options: Any) -> Any:
    """django-pghistory's tracking, as used for every clinical model: a snapshot of
    the row after every insert and update, and the last one before a delete, in
    ``<Model>History``, reached as ``record.history``."""
    return pghistory.track(
        pghistory.InsertEvent(),
        pghistory.UpdateEvent(),
        pghistory.DeleteEvent(),
        model_name=f"{model_name}History",
        obj_field=pghistory.ObjForeignKey(related_name="history"),
        **options,
    )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        # E-mail addresses are matched without regard to case at login.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


# Account changes (role, activation, name) are kept; the password hash is not.
@history("User", exclude=["password", "last_login"])
class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. The role comes from the user's group (see clinic.roles)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField("e-mail address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May log in to the admin site (clinic admins)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # The language a patient reads the product in, and receives e-mails and texts in
    # (settings.LANGUAGES); blank until chosen: the browser's preference applies.
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, blank=True, default="")

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ignoring_case"),
            models.CheckConstraint(
                condition=models.Q(language__in=["", *dict(LANGUAGE_CHOICES)]),
                name="user_language_known",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class PhysicianProfile(models.Model):
    class Credential(models.TextChoices):
        DO = "DO", "DO (osteopathic physician)"
        MD = "MD", "MD"

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="physician_profile")
    display_name = models.CharField(max_length=120, help_text='As patients see it, e.g. "Dr Lee".')
    credential = models.CharField(max_length=4, choices=Credential.choices, default=Credential.DO)
    npi_number = models.CharField(
        "NPI number",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{10}$", "An NPI number has 10 digits.")],
    )
    licence_number = models.CharField(max_length=40, blank=True)
    body_regions = models.ManyToManyField(
        "treatments.BodyRegion", related_name="physicians", blank=True
    )
    accepting_new_cases = models.BooleanField(default=True)
    max_open_cases = models.PositiveSmallIntegerField(default=40)
    # Round-robin among equally loaded physicians: the one routed to longest ago goes first.
    last_routed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["display_name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_open_cases__gt=0), name="physician_max_open_cases_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name}, {self.credential}"


class OutboundEmail(models.Model):
    """One e-mail the clinic sends, written in the same transaction as the change
    that caused it and delivered by a Celery task that only carries this row's id.

    The body is erased once delivered: the outbox keeps who was written to, about
    what and when, not the text (which may hold a one-time link)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # An iCalendar attachment (a consultation's invitation or cancellation).
    calendar = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "outbound e-mail"
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbound_email_unsent",
                condition=models.Q(sent_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class WorkingHours(models.Model):
    """A weekly window in which a physician sees patients, in the clinic's time zone
    (``TIME_ZONE``): e.g. Tuesdays 09:00 to 13:00 at the main clinic."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    physician = models.ForeignKey(
        PhysicianProfile, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()
    location = models.CharField(max_length=120, default="Main clinic")

    class Meta:
        verbose_name_plural = "working hours"
        ordering = ["physician", "weekday", "starts"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts__lt=models.F("ends")), name="working_hours_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class TimeOff(models.Model):
    """A physician is away: a holiday (whole days) or a single block (a meeting)."""

    physician = models.ForeignKey(
        PhysicianProfile, on_delete=models.CASCADE, related_name="time_off"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        verbose_name_plural = "time off"
        ordering = ["physician", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")), name="time_off_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.physician}: {self.starts_at:%Y-%m-%d %H:%M} to {self.ends_at:%Y-%m-%d %H:%M}"


class AuditEvent(models.Model):
    """One read of a patient's data: who saw which record, how, when (UTC), from
    where, in which request. Written by ``clinic.audit``; changes to clinical rows
    are kept by django-pghistory's triggers instead.

    Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE, so not even the
    application's own database user can rewrite what was seen."""

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        LIST = "list", "Listed"
        PRINT = "print", "Printed"
        DOWNLOAD = "download", "Downloaded"
        EXPORT = "export", "Exported"

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(max_length=20, blank=True)
    patient = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    record_type = models.CharField(max_length=40)
    record_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = "audit event"
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient", "-at"], name="audit_patient_at"),
            models.Index(fields=["actor", "-at"], name="audit_actor_at"),
            models.Index(fields=["-at"], name="audit_at"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.record_type}"
