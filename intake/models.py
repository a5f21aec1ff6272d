"""A patient's pre-consult intake, the case it becomes on submission, and the
questionnaires (instruments) it uses.

An ``Intake`` is the patient's draft: every step is saved here as the patient goes,
so a draft can be resumed on another device. Submitting it creates exactly one
``Case`` (the one-to-one below is the final guard against a double submit), which
the review queue works from. Fields of a draft are blank-able in the database
because a draft is incomplete by nature; the step forms say what each step needs
and ``intake_submit`` checks the whole before a case exists.
"""

import hashlib
import uuid
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from clinic.i18n import in_language
from clinic.models import LANGUAGE_CHOICES, User, history
from treatments.models import (
    BodyRegion,
    Condition,
    Contraindication,
    Priority,
    RedFlag,
    TreatmentOption,
)

# Plausible human ranges, in the units we store (metric). The forms say the same in
# the unit the patient chose; the database keeps anything outside from being saved.
HEIGHT_CM_RANGE = (Decimal("50"), Decimal("250"))
WEIGHT_KG_RANGE = (Decimal("20"), Decimal("350"))
PAIN_SCALE_MAX = 10
STEP_COUNT = 8
# When a patient can come in (step 7); the front desk books by these.
WEEKDAYS = [
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
]
TIMES_OF_DAY = [
    ("morning", _("Morning (8–12)")),
    ("afternoon", _("Afternoon (12–5)")),
    ("evening", _("Early evening (5–7)")),
]
# Step 1's fields: the form edits them, the service saves them, a new intake copies them.
ABOUT_YOU_FIELDS = (
    "legal_name",
    "date_of_birth",
    "sex",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
    "unit_system",
    "height_cm",
    "weight_kg",
)


def private_storage() -> Storage:
    """The storage of uploaded imaging: the ``STORAGES["private"]`` setting."""
    return storages["private"]


class Instrument(models.Model):
    """A questionnaire as data: its items, one shared answer scale and a scoring rule.

    A clinic can load a licensed instrument (KOOS JR, ODI, QuickDASH) once it holds
    the licence; the ones we ship are written for this product and need none."""

    class Scoring(models.TextChoices):
        SINGLE = "single", "The value of the single answer"
        SUM = "sum", "Sum of the answers"
        INVERTED_PERCENT = (
            "inverted_percent",
            "100 minus the answers' share of the worst possible total (0–100, higher is better)",
        )

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    name_es = models.CharField("name in Spanish", max_length=120, blank=True)
    version = models.CharField(max_length=20, default="1")
    instructions = models.TextField(blank=True)
    instructions_es = models.TextField("instructions in Spanish", blank=True)
    licence_note = models.CharField(max_length=300)
    scoring = models.CharField(max_length=20, choices=Scoring.choices)
    score_label = models.CharField(
        max_length=120, help_text="How the score reads, e.g. '0–100, higher is better'."
    )
    score_label_es = models.CharField("score label in Spanish", max_length=120, blank=True)
    higher_is_better = models.BooleanField()
    in_intake = models.BooleanField(
        default=True, help_text="Asked in the pre-consult intake's function step."
    )
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> str:
        return in_language(self, "name")

    @property
    def shown_instructions(self) -> str:
        return in_language(self, "instructions")

    @property
    def shown_score_label(self) -> str:
        return in_language(self, "score_label")


class InstrumentItem(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    text_es = models.CharField("text in Spanish", max_length=300, blank=True)

    class Meta:
        ordering = ["instrument", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "position"], name="instrument_item_position_unique"
            )
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def shown_text(self) -> str:
        return in_language(self, "text")


class AnswerOption(models.Model):
    """One step of an instrument's answer scale, shared by all its items."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=120)
    label_es = models.CharField("label in Spanish", max_length=120, blank=True)
    value = models.SmallIntegerField()

    class Meta:
        ordering = ["instrument", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "position"], name="answer_option_position_unique"
            ),
            models.UniqueConstraint(
                fields=["instrument", "value"], name="answer_option_value_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def shown_label(self) -> str:
        return in_language(self, "label")


class ConsentDocument(models.Model):
    """The consent text a patient signs. Versions are kept, one text per language for
    each version; a signature records the document (so its version and language) and
    the SHA-256 of the exact text shown."""

    version = models.CharField(max_length=20)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, default="en")
    title = models.CharField(max_length=200)
    body = models.TextField(help_text="Plain text; blank lines separate paragraphs.")
    sha256 = models.CharField(max_length=64, editable=False)
    is_current = models.BooleanField(default=False)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"], name="consent_version_language_unique"
            ),
            models.UniqueConstraint(
                fields=["language"],
                condition=Q(is_current=True),
                name="one_current_consent_per_language",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (version {self.version}, {self.language})"

    @staticmethod
    def digest(body: str) -> str:
        return hashlib.sha256(body.encode()).hexdigest()

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


class IntakeQuerySet(models.QuerySet["Intake"]):
    def of_patient(self, patient: User) -> "IntakeQuerySet":
        return self.filter(patient=patient).select_related("case").order_by("-created_at")

    def incomplete(self, *, started_before: datetime) -> "IntakeQuerySet":
        """Drafts started before the cut-off and still not submitted, oldest first."""
        return (
            self.filter(status=Intake.Status.DRAFT, created_at__lt=started_before)
            .select_related("patient")
            .order_by("created_at", "pk")
        )


@history("Intake")
class Intake(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        INTERSEX = "intersex", _("Intersex")
        UNDISCLOSED = "undisclosed", _("Prefer not to say")

    class UnitSystem(models.TextChoices):
        METRIC = "metric", _("Metric (cm, kg)")
        IMPERIAL = "imperial", _("Imperial (ft and in, lb)")

    class ImagingStatus(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        UNSURE = "unsure", _("I'm not sure")

    class Payment(models.TextChoices):
        SELF_PAY = "self_pay", _("I expect to pay myself")
        INSURANCE = "insurance", _("I'd like the clinic to check my insurance")
        UNSURE = "unsure", _("Not sure yet")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="intakes"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    completed_steps = models.JSONField(default=list, blank=True)
    # What the patient typed on a step that did not validate yet, kept so that going
    # back (or logging out) never loses it. Keyed by step number; no files.
    pending_answers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The front desk's "finish your intake" reminders for a draft left unsubmitted.
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)

    # 1. About you
    legal_name = models.CharField(max_length=150, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=20, choices=Sex.choices, blank=True)
    phone = PhoneNumberField(blank=True)
    address_line1 = models.CharField("Address", max_length=200, blank=True)
    address_line2 = models.CharField("Address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("State or region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    emergency_contact_name = models.CharField(max_length=150, blank=True)
    emergency_contact_relationship = models.CharField(max_length=80, blank=True)
    emergency_contact_phone = PhoneNumberField(blank=True)
    unit_system = models.CharField(
        max_length=10, choices=UnitSystem.choices, default=UnitSystem.METRIC
    )
    height_cm = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)

    # 5. Health history (the screening answers are rows of ScreeningAnswer)
    current_medicines = models.TextField(blank=True)
    allergies = models.TextField(blank=True)
    other_conditions = models.TextField(blank=True)

    # 6. Imaging (studies and uploads are rows of their own)
    imaging_status = models.CharField(max_length=10, choices=ImagingStatus.choices, blank=True)

    # 7. Goals and preferences
    goals = models.TextField(blank=True)
    interested_options = models.ManyToManyField(TreatmentOption, blank=True, related_name="+")
    preferred_days = models.JSONField(default=list, blank=True)
    preferred_times = models.JSONField(default=list, blank=True)
    payment = models.CharField(max_length=20, choices=Payment.choices, blank=True)
    insurance_carrier = models.CharField(max_length=120, blank=True)
    insurance_member_id = models.CharField(max_length=60, blank=True)

    # 8. Consent and signature, recorded when the patient submits
    acknowledged_risks = models.BooleanField(default=False)
    acknowledged_cost = models.BooleanField(default=False)
    acknowledged_regulatory = models.BooleanField(default=False)
    consent = models.ForeignKey(
        ConsentDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consent_sha256 = models.CharField(max_length=64, blank=True)
    # The language of the consent text the patient read and signed.
    consent_language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, blank=True)
    signature_name = models.CharField(max_length=150, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)
    guardian_name = models.CharField(max_length=150, blank=True)
    guardian_relationship = models.CharField(max_length=80, blank=True)
    guardian_signature_name = models.CharField(max_length=150, blank=True)

    objects = IntakeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(height_cm__isnull=True) | Q(height_cm__range=HEIGHT_CM_RANGE),
                name="intake_height_plausible",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__range=WEIGHT_KG_RANGE),
                name="intake_weight_plausible",
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(submitted_at__isnull=False) & Q(signed_at__isnull=False)),
                name="intake_submitted_is_signed",
            ),
        ]

    def __str__(self) -> str:
        return f"Intake {self.public_id} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def bmi(self) -> Decimal | None:
        if not self.height_cm or not self.weight_kg:
            return None
        metres = self.height_cm / 100
        return (self.weight_kg / (metres * metres)).quantize(Decimal("0.1"))

    def age_on(self, day: date) -> int | None:
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def preferred_days_display(self) -> str:
        labels = dict(WEEKDAYS)
        return ", ".join(str(labels.get(day, day)) for day in self.preferred_days)

    @property
    def preferred_times_display(self) -> str:
        labels = dict(TIMES_OF_DAY)
        return ", ".join(str(labels.get(time, time)).lower() for time in self.preferred_times)

    @property
    def next_step(self) -> int:
        """The first step not yet completed: where 'Continue' takes the patient."""
        done = set(self.completed_steps)
        return next((n for n in range(1, STEP_COUNT + 1) if n not in done), STEP_COUNT)


def side_and_region(side: str, body_region: BodyRegion) -> str:
    """ "Left knee", "Rodilla (lado izquierdo)": the side and the region in the
    active language (Spanish puts the side after the region, and its gender would
    follow the region's, so it says "lado")."""
    region = body_region.shown_name.lower()
    if side == Complaint.Side.LEFT:
        text = _("left %(region)s")
    elif side == Complaint.Side.RIGHT:
        text = _("right %(region)s")
    elif side == Complaint.Side.BOTH:
        text = _("both %(region)s")
    else:
        return region.capitalize()
    return str(text % {"region": region}).capitalize()


@history("Complaint")
class Complaint(models.Model):
    class Side(models.TextChoices):
        LEFT = "left", _("Left")
        RIGHT = "right", _("Right")
        BOTH = "both", _("Both")
        NOT_APPLICABLE = "na", _("Not applicable (e.g. the spine)")

    class Onset(models.TextChoices):
        INJURY = "injury", _("After an injury")
        GRADUAL = "gradual", _("Gradually, no single injury")

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="complaints")
    body_region = models.ForeignKey(BodyRegion, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=10, choices=Side.choices)
    condition = models.ForeignKey(
        Condition,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: not sure.",
    )
    started_on = models.DateField()
    onset = models.CharField(max_length=10, choices=Onset.choices)
    pain_now = models.PositiveSmallIntegerField()
    pain_worst_week = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["intake", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(pain_now__lte=PAIN_SCALE_MAX), name="complaint_pain_now_0_10"
            ),
            models.CheckConstraint(
                condition=Q(pain_worst_week__lte=PAIN_SCALE_MAX), name="complaint_pain_worst_0_10"
            ),
        ]

    def __str__(self) -> str:
        return side_and_region(self.side, self.body_region)


@history("QuestionnaireResponse")
class QuestionnaireResponse(models.Model):
    """A patient's answers to one instrument, scored on the server when saved."""

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="responses")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="responses")
    answers = models.JSONField(help_text="Item position (as text) to the chosen option's value.")
    score = models.DecimalField(max_digits=6, decimal_places=1)
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument__display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["intake", "instrument"], name="one_response_per_instrument"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument}: {self.score}"


@history("PriorTreatment")
class PriorTreatment(models.Model):
    class Kind(models.TextChoices):
        PHYSICAL_THERAPY = "physical_therapy", _("Physical therapy")
        MEDICINES = "medicines", _("Pain or anti-inflammatory medicines")
        STEROID_INJECTION = "steroid_injection", _("Steroid (cortisone) injections")
        DEXTROSE = "dextrose", _("Dextrose prolotherapy")
        PRP = "prp", _("PRP (platelet-rich plasma)")
        STEM_CELLS = "stem_cells", _("Stem cell injections")
        SURGERY = "surgery", _("Surgery")

    class Outcome(models.TextChoices):
        HELPED_A_LOT = "a_lot", _("Helped a lot")
        HELPED_SOME = "some", _("Helped somewhat")
        NO_CHANGE = "none", _("Did not help")
        WORSE = "worse", _("Made it worse")
        TOO_EARLY = "too_early", _("Too early to tell")

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="prior_treatments")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    tried = models.BooleanField()
    last_on = models.DateField("When (the last time)", null=True, blank=True)
    details = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["intake", "kind"], name="one_prior_treatment_per_kind"),
            models.CheckConstraint(
                condition=Q(tried=True) | Q(outcome=""), name="prior_outcome_only_if_tried"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


@history("ScreeningAnswer")
class ScreeningAnswer(models.Model):
    class Answer(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        UNSURE = "unsure", _("I'm not sure")

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="screening_answers")
    contraindication = models.ForeignKey(
        Contraindication, on_delete=models.PROTECT, related_name="+"
    )
    answer = models.CharField(max_length=10, choices=Answer.choices)

    class Meta:
        ordering = ["contraindication__display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["intake", "contraindication"], name="one_answer_per_screening_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contraindication.slug}: {self.answer}"


@history("RedFlagAnswer")
class RedFlagAnswer(models.Model):
    """The patient's answer to a red-flag symptom question (step 5)."""

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="red_flag_answers")
    red_flag = models.ForeignKey(RedFlag, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=10, choices=ScreeningAnswer.Answer.choices)

    class Meta:
        ordering = ["red_flag__display_order"]
        constraints = [
            models.UniqueConstraint(
                fields=["intake", "red_flag"], name="one_answer_per_red_flag_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.red_flag.slug}: {self.answer}"


@history("ImagingStudy")
class ImagingStudy(models.Model):
    class Modality(models.TextChoices):
        XRAY = "xray", _("X-ray")
        MRI = "mri", _("MRI")
        ULTRASOUND = "ultrasound", _("Ultrasound")
        CT = "ct", _("CT scan")

    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="imaging_studies")
    modality = models.CharField(max_length=20, choices=Modality.choices)
    body_region = models.ForeignKey(BodyRegion, on_delete=models.PROTECT, related_name="+")
    done_on = models.DateField("When (roughly)")
    facility = models.CharField("Where", max_length=200, blank=True)

    class Meta:
        ordering = ["intake", "-done_on"]
        verbose_name_plural = "imaging studies"

    def __str__(self) -> str:
        return f"{self.get_modality_display()} of the {self.body_region.name.lower()}"


def imaging_upload_path(instance: "ImagingFile", filename: str) -> str:
    # The stored name never contains what the patient's computer called the file.
    return f"imaging/{instance.intake.public_id}/{instance.public_id}{instance.extension}"


@history("ImagingFile")
class ImagingFile(models.Model):
    class Kind(models.TextChoices):
        PDF = "application/pdf", "PDF"
        JPEG = "image/jpeg", "JPEG image"
        PNG = "image/png", "PNG image"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    intake = models.ForeignKey(Intake, on_delete=models.CASCADE, related_name="imaging_files")
    file = models.FileField(storage=private_storage, upload_to=imaging_upload_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40, choices=Kind.choices)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["intake", "uploaded_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def extension(self) -> str:
        return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[
            self.content_type
        ]


# Intake columns a queue row never shows.
QUEUE_ROW_SKIPS = (
    "phone",
    "emergency_contact_phone",
    "completed_steps",
    "pending_answers",
    "current_medicines",
    "allergies",
    "other_conditions",
    "goals",
    "preferred_days",
    "preferred_times",
)


class CaseQuerySet(models.QuerySet["Case"]):
    def with_intake(self) -> "CaseQuerySet":
        return self.select_related("intake", "patient")

    def open(self) -> "CaseQuerySet":
        """Cases a physician still owns: not yet decided, or waiting on the patient."""
        return self.filter(state__in=Case.OPEN_STATES)

    def open_for(self, physician: User) -> "CaseQuerySet":
        return self.open().filter(assigned_to=physician)

    def to_schedule(self) -> "CaseQuerySet":
        """The front desk's list: consultations physicians asked for, oldest first,
        with the decision that asked and any earlier consultation that was cancelled
        or missed (no clinical answers are loaded)."""
        return (
            self.filter(state=Case.State.CONSULT_REQUESTED)
            .select_related("intake", "patient", "assigned_to__physician_profile")
            .prefetch_related(
                models.Prefetch(
                    "decisions",
                    queryset=ReviewDecision.objects.filter(
                        outcome=ReviewDecision.Outcome.CANDIDATE
                    ).order_by("-decided_at"),
                    to_attr="candidate_decisions",
                ),
                models.Prefetch(
                    "consultations",
                    queryset=Consultation.objects.exclude(state=Consultation.State.BOOKED).order_by(
                        "-starts_at"
                    ),
                    to_attr="earlier_consultations",
                ),
            )
            .order_by("updated_at", "pk")
        )

    def for_queue(self) -> "CaseQuerySet":
        """What a queue row shows, in a fixed number of queries: the patient and
        the main complaint (``mark_flags`` adds the flags of the rows on a page)."""
        return (
            self.select_related(
                "intake",
                "assigned_to__physician_profile",
                "main_complaint__body_region",
                "main_complaint__condition",
            )
            # A row shows the intake's name and age: its phone numbers (parsed on
            # load), JSON and free text stay in the database.
            .defer(*(f"intake__{name}" for name in QUEUE_ROW_SKIPS))
        )


def mark_flags(cases: list["Case"]) -> list["Case"]:
    """Sets ``has_hard_stop`` and ``has_caution`` on each case, in one query that
    reads only these cases' flags (by the case index). An EXISTS per row in the
    queue's query made PostgreSQL scan every flag of every case instead."""
    raised = set(
        CaseFlag.objects.filter(case__in=cases).values_list("case_id", "severity").distinct()
    )
    for case in cases:
        case.has_hard_stop = (case.pk, Contraindication.Severity.HARD_STOP) in raised
        case.has_caution = (case.pk, Contraindication.Severity.CAUTION) in raised
    return cases


@history("Case")
class Case(models.Model):
    """A submitted intake, as the clinic works it. Every change of ``state`` or of
    ``assigned_to`` is a transition in ``intake.cases`` and writes a ``CaseEvent``.

    ``assigned_to`` is whose queue the case is in (empty: the shared pool). A case
    is *claimed* once its physician has started the review (state 'under review')."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        UNDER_REVIEW = "under_review", "Under review"
        INFO_REQUESTED = "info_requested", "More information requested"
        IMAGING_REQUESTED = "imaging_requested", "Imaging requested"
        CONSULT_REQUESTED = "consult_requested", "Consultation to book"
        BOOKED = "booked", "Consultation booked"
        NOT_CANDIDATE = "not_candidate", "Not a candidate"
        TREATED = "treated", "Treated"

    # What the patient reads: plain words, from their side of the desk.
    PATIENT_STATUS = {
        State.SUBMITTED: _("Received"),
        State.UNDER_REVIEW: _("Under review"),
        State.INFO_REQUESTED: _("More information needed"),
        State.IMAGING_REQUESTED: _("Imaging needed"),
        State.CONSULT_REQUESTED: _("Consultation to be booked"),
        State.BOOKED: _("Booked"),
        State.NOT_CANDIDATE: _("Not a candidate"),
        State.TREATED: _("Treated"),
    }
    # A physician's open cases (they count against ``max_open_cases``).
    OPEN_STATES = (
        State.SUBMITTED,
        State.UNDER_REVIEW,
        State.INFO_REQUESTED,
        State.IMAGING_REQUESTED,
    )
    # Waiting for the physician (as opposed to waiting for the patient).
    AWAITING_PHYSICIAN = (State.SUBMITTED, State.UNDER_REVIEW)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    intake = models.OneToOneField(Intake, on_delete=models.PROTECT, related_name="case")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases"
    )
    state = models.CharField(max_length=30, choices=State.choices, default=State.SUBMITTED)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
    )
    routed_at = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.ROUTINE)
    # Text, not a bounded column: it names every answer behind the priority, and any
    # combination of answers must fit (a patient unsure of every red flag, issue 17).
    priority_reason = models.TextField(blank=True)
    # The complaint the queue shows and routing goes by (the most painful one).
    main_complaint = models.ForeignKey(
        "Complaint", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body_region = models.ForeignKey(
        BodyRegion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # When the case last started waiting for a physician, and when the clinic's
    # review target says it should be decided by.
    waiting_since = models.DateTimeField()
    review_due_at = models.DateTimeField()
    # The patient answered a question since the physician last acted.
    answer_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()
    # Set on the queue's rows by ``mark_flags``.
    has_hard_stop: bool
    has_caution: bool

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The queue: open cases of one physician (or of the pool), by priority and age.
            models.Index(
                fields=["assigned_to", "priority", "waiting_since"],
                name="case_queue",
                condition=Q(
                    state__in=[
                        "submitted",
                        "under_review",
                        "info_requested",
                        "imaging_requested",
                    ]
                ),
            ),
            models.Index(fields=["state", "created_at"], name="case_state_created"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def patient_status(self) -> str:
        return str(self.PATIENT_STATUS[self.State(self.state)])

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    def is_overdue(self, now: datetime) -> bool:
        """Still waiting for a physician after its review target (see
        ``intake.routing.cases_escalate_overdue``, which filters the same way)."""
        return self.state in self.AWAITING_PHYSICIAN and self.review_due_at < now


class CaseEvent(models.Model):
    """The case's history: who did what, when, from which state to which, and why."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", "Submitted by the patient"
        ROUTED = "routed", "Routed"
        PRIORITY_CHANGED = "priority_changed", "Priority changed"
        CLAIMED = "claimed", "Claimed"
        RELEASED = "released", "Released to the pool"
        REASSIGNED = "reassigned", "Reassigned"
        STATE_CHANGED = "state_changed", "State changed"
        INFO_REQUESTED = "info_requested", "More information requested"
        IMAGING_REQUESTED = "imaging_requested", "Imaging requested"
        INFO_PROVIDED = "info_provided", "Patient answered a request"
        CANDIDATE = "candidate", "Candidate: consultation requested"
        NOT_CANDIDATE = "not_candidate", "Not a candidate"
        BOOKED = "booked", "Consultation booked"
        RESCHEDULED = "rescheduled", "Consultation moved"
        CANCELLED = "cancelled", "Consultation cancelled"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Consultation completed"
        NO_SHOW = "no_show", "Did not attend"
        CHANGE_REQUESTED = "change_requested", "Patient asked for a change"
        TREATED = "treated", "Procedure recorded"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.case}: {self.get_kind_display()}"


@history("CaseFlag")
class CaseFlag(models.Model):
    """A screening answer that matched a contraindication rule, copied at submission
    so the flag still says what the rule said if the catalog changes later."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="flags")
    contraindication = models.ForeignKey(
        Contraindication, on_delete=models.PROTECT, related_name="+"
    )
    rule = models.CharField(max_length=120)
    severity = models.CharField(max_length=20, choices=Contraindication.Severity.choices)
    patient_answer = models.CharField(max_length=10, choices=ScreeningAnswer.Answer.choices)
    options = models.ManyToManyField(TreatmentOption, related_name="+")

    class Meta:
        ordering = ["case", "severity", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["case", "contraindication"], name="one_flag_per_rule"),
        ]

    def __str__(self) -> str:
        return f"{self.rule} ({self.get_severity_display()})"


@history("InformationRequest")
class InformationRequest(models.Model):
    """A physician asks the patient for more; the patient answers on their intake page."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="information_requests")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Kind(models.TextChoices):
        QUESTION = "question", "Question"
        IMAGING = "imaging", "Imaging"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.QUESTION)
    question = models.TextField()
    asked_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "asked_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(answer=""),
                name="answered_request_has_answer",
            ),
        ]

    def __str__(self) -> str:
        return self.question[:60]


@history("ReviewDecision")
class ReviewDecision(models.Model):
    """A physician's decision on a case, with what the patient is told and what
    stays inside the clinic. A case can have several (imaging first, then a
    candidate decision); the latest is the one in force."""

    class Outcome(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        NEEDS_IMAGING = "needs_imaging", "Needs imaging"
        NOT_CANDIDATE = "not_candidate", "Not a candidate"

    class ConsultationType(models.TextChoices):
        NEW = "new", _("New consultation")
        PROCEDURE = "procedure", _("Injection procedure")

    class ConsultationMode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("Video")

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine (within 3 weeks)"
        SOON = "soon", "Soon (within 1 week)"
        URGENT = "urgent", "Urgent (within 2 working days)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions")
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    options = models.ManyToManyField(TreatmentOption, blank=True, related_name="+")
    consultation_type = models.CharField(
        max_length=20, choices=ConsultationType.choices, blank=True
    )
    consultation_mode = models.CharField(
        max_length=20, choices=ConsultationMode.choices, blank=True
    )
    urgency = models.CharField(max_length=20, choices=Urgency.choices, blank=True)
    imaging_modality = models.CharField(
        max_length=20, choices=ImagingStudy.Modality.choices, blank=True
    )
    imaging_region = models.ForeignKey(
        BodyRegion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    override_reason = models.TextField(
        blank=True, help_text="Why an option is recommended despite a hard-stop flag."
    )
    reason = models.TextField(blank=True)
    message_to_patient = models.TextField(blank=True)
    internal_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "decided_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="candidate")
                | (~Q(consultation_type="") & ~Q(consultation_mode="") & ~Q(urgency="")),
                name="candidate_decision_has_consultation",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="needs_imaging") | ~Q(imaging_modality=""),
                name="imaging_decision_names_study",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="not_candidate") | ~Q(reason=""),
                name="not_candidate_decision_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case}: {self.get_outcome_display()}"


class ConsultationType(models.Model):
    """What the front desk books, and for how long."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)
    duration_minutes = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["duration_minutes", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=5, duration_minutes__lte=480),
                name="consultation_type_duration_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.duration_minutes} min)"


class ConsultationQuerySet(models.QuerySet["Consultation"]):
    def active(self) -> "ConsultationQuerySet":
        """Consultations that hold their time: everything but cancelled ones."""
        return self.exclude(state=Consultation.State.CANCELLED)

    def overlapping(self, starts_at: datetime, ends_at: datetime) -> "ConsultationQuerySet":
        """Those sharing any time with [starts_at, ends_at); touching ends do not."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def upcoming_for(self, patient: User, *, now: datetime) -> "ConsultationQuerySet":
        """A patient's consultations still ahead (or under way), with any open request."""
        return (
            self.filter(
                patient=patient,
                state__in=[Consultation.State.BOOKED, Consultation.State.CHECKED_IN],
                ends_at__gt=now,
            )
            .select_related("physician__physician_profile", "consultation_type", "case")
            .prefetch_related(
                models.Prefetch(
                    "change_requests",
                    queryset=ConsultationChangeRequest.objects.filter(resolved_at__isnull=True),
                    to_attr="open_requests",
                )
            )
            .order_by("starts_at")
        )


@history("Consultation")
class Consultation(models.Model):
    """A booked consultation. Stored in UTC. On PostgreSQL an exclusion constraint
    (migration 0005) makes two active consultations of one physician overlap
    impossible, whatever code writes them; back-to-back ones are allowed."""

    class State(models.TextChoices):
        BOOKED = "booked", "Booked"
        CHECKED_IN = "checked_in", "Checked in"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "No-show"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="consultations")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consultations"
    )
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="physician_consultations"
    )
    consultation_type = models.ForeignKey(
        ConsultationType, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=20, choices=ReviewDecision.ConsultationMode.choices)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=120, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.BOOKED)
    cancel_reason = models.CharField(max_length=300, blank=True)
    # Bumped on every change the patient's calendar must follow (iCalendar SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["physician", "starts_at"], name="consultation_calendar")]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")), name="consultation_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def place(self) -> str:
        """Where the patient goes: the room and the clinic's street address (a video
        consultation has no address)."""
        if self.mode != ReviewDecision.ConsultationMode.IN_PERSON:
            return self.location or "Video call"
        return ", ".join(part for part in (self.location, settings.CLINIC_ADDRESS) if part)

    @property
    def uid(self) -> str:
        """Stable across reschedules, so calendar apps update the event in place."""
        return f"consultation-{self.public_id}@clinic-intake"


class ChangeRequestQuerySet(models.QuerySet["ConsultationChangeRequest"]):
    def open(self) -> "ChangeRequestQuerySet":
        return self.filter(resolved_at__isnull=True)

    def for_front_desk(self) -> "ChangeRequestQuerySet":
        """Open requests, oldest first, with what the list shows."""
        return (
            self.open()
            .select_related(
                "consultation__case__intake",
                "consultation__patient",
                "consultation__physician__physician_profile",
                "consultation__consultation_type",
            )
            .order_by("created_at", "pk")
        )


@history("ConsultationChangeRequest")
class ConsultationChangeRequest(models.Model):
    """A patient asking the front desk to move or cancel a booked consultation. It
    stays on the front desk's list until they move or cancel it, or mark it handled."""

    class Kind(models.TextChoices):
        RESCHEDULE = "reschedule", _("Reschedule")
        CANCEL = "cancel", _("Cancel")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="change_requests"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField(blank=True)
    # Asked for within the late-notice period before the start (see scheduling).
    late = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=200, blank=True)

    objects = ChangeRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_change_request",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consultation}: {self.get_kind_display()}"


class ConsultationReminder(models.Model):
    """One reminder sent for one consultation at one time: the unique constraint is
    what makes a reminder go out once, however often (or concurrently) the periodic
    task runs; a moved consultation has a new ``starts_at`` and so new reminders."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="reminders"
    )
    hours_before = models.PositiveSmallIntegerField()
    starts_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "hours_before", "starts_at"], name="one_reminder_per_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consultation}: {self.hours_before} h"
