"""The clinical catalog: body regions, conditions, treatment options and the rules
(contraindications) that screening answers are checked against.

Everything here is data a clinic admin edits in the Django admin; the rows come from
data migrations (``0002_seed_catalog``, corrected by ``0006_clinical_safety_review``),
each rule with the published source it rests on.
"""

from django.db import models
from django.db.models import F, Q

from clinic.i18n import in_language


class Priority(models.IntegerChoices):
    """How soon a case needs a physician. Lower sorts first in the review queue."""

    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    ROUTINE = 3, "Routine"


class BodyRegion(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)
    name_es = models.CharField("name in Spanish", max_length=80, blank=True)
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> str:
        return in_language(self, "name")


class TreatmentOptionQuerySet(models.QuerySet["TreatmentOption"]):
    def offered(self) -> "TreatmentOptionQuerySet":
        return self.filter(is_offered=True).order_by("ladder_step")


class TreatmentOption(models.Model):
    class Origin(models.TextChoices):
        NOT_TISSUE = "not_tissue", "No cells or tissue"
        AUTOLOGOUS = "autologous", "Autologous (the patient's own)"
        ALLOGENEIC = "allogeneic", "Allogeneic (screened donor)"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120, unique=True)
    short_name = models.CharField(max_length=40)
    # The seeds describe a ladder: dextrose and PRP first, cells "for more intense
    # cases, where dextrose and PRP are typically not effective".
    ladder_step = models.PositiveSmallIntegerField(
        unique=True, help_text="Order on the treatment ladder; lower is tried first."
    )
    material_source = models.CharField(max_length=200)
    origin = models.CharField(max_length=20, choices=Origin.choices)
    # None of the offered preparations is dosed by body weight: the "2 million cells
    # per kg" figure belongs to culture-expanded cells, lawful in the US only under an
    # FDA investigational new drug application, and is never shown (issue 18).
    is_cell_based = models.BooleanField(
        default=False,
        help_text="Made from the patient's own cells (bone marrow or fat). Not a dose: "
        "none of these preparations is dosed by body weight.",
    )
    typical_sessions = models.CharField(max_length=120)
    cost_min_usd = models.PositiveIntegerField()
    cost_max_usd = models.PositiveIntegerField()
    cost_unit = models.CharField(max_length=60, default="per treatment cycle")
    cost_note = models.CharField(
        max_length=300,
        blank=True,
        help_text="For the clinic's staff: where the price comes from. Patients see the range "
        "as this clinic's price.",
    )
    patient_description = models.TextField()
    regulatory_note = models.TextField(help_text="Shown to patients beside the option.")
    # Spanish (issue 23): shown while the page is in Spanish; the English while empty.
    name_es = models.CharField("name in Spanish", max_length=120, blank=True)
    short_name_es = models.CharField("short name in Spanish", max_length=40, blank=True)
    typical_sessions_es = models.CharField(
        "typical sessions in Spanish", max_length=120, blank=True
    )
    cost_unit_es = models.CharField("cost unit in Spanish", max_length=60, blank=True)
    patient_description_es = models.TextField("patient description in Spanish", blank=True)
    regulatory_note_es = models.TextField("regulatory note in Spanish", blank=True)
    is_offered = models.BooleanField(default=True)

    objects = TreatmentOptionQuerySet.as_manager()

    class Meta:
        ordering = ["ladder_step"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost_min_usd__lte=F("cost_max_usd")),
                name="treatment_cost_range_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> str:
        return in_language(self, "name")

    @property
    def shown_short_name(self) -> str:
        return in_language(self, "short_name")

    @property
    def shown_typical_sessions(self) -> str:
        return in_language(self, "typical_sessions")

    @property
    def shown_cost_unit(self) -> str:
        return in_language(self, "cost_unit")

    @property
    def shown_patient_description(self) -> str:
        return in_language(self, "patient_description")

    @property
    def shown_regulatory_note(self) -> str:
        return in_language(self, "regulatory_note")


class Condition(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120, unique=True)
    name_es = models.CharField("name in Spanish", max_length=120, blank=True)
    body_region = models.ForeignKey(BodyRegion, on_delete=models.PROTECT, related_name="conditions")
    icd10_code = models.CharField(
        "ICD-10-CM code",
        max_length=8,
        blank=True,
        help_text="Category code; the billable code per side is in the condition's codes.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["body_region__display_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> str:
        return in_language(self, "name")


class Laterality(models.TextChoices):
    """The side of a complaint, as ``intake.Complaint.Side`` records it."""

    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BOTH = "both", "Both"
    NOT_APPLICABLE = "na", "Not applicable (e.g. the spine)"


class ConditionCode(models.Model):
    """The billable ICD-10-CM code a condition on one side implies (for the estimate
    and the FHIR export). A side without a row has no single billable code: the
    physician codes it when charting."""

    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="codes")
    side = models.CharField(max_length=10, choices=Laterality.choices)
    code = models.CharField("ICD-10-CM code", max_length=8)

    class Meta:
        ordering = ["condition", "side"]
        constraints = [
            models.UniqueConstraint(fields=["condition", "side"], name="one_code_per_side"),
        ]

    def __str__(self) -> str:
        return f"{self.condition}, {self.get_side_display().lower()}: {self.code}"


class Contraindication(models.Model):
    class Severity(models.TextChoices):
        HARD_STOP = "hard_stop", "Hard stop"
        CAUTION = "caution", "Caution for the physician"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120, unique=True)
    screening_question = models.CharField(
        max_length=300, help_text="Asked of the patient at intake; a 'yes' raises this flag."
    )
    screening_question_es = models.CharField(
        "screening question in Spanish",
        max_length=300,
        blank=True,
        help_text="Asked of patients reading Spanish; the English is shown while it is empty.",
    )
    severity = models.CharField(max_length=20, choices=Severity.choices)
    raises_priority = models.PositiveSmallIntegerField(
        choices=Priority.choices,
        default=Priority.ROUTINE,
        help_text="The priority a case gets when the patient answers 'yes' "
        "(hard stops need a physician's decision before anything is booked).",
    )
    options = models.ManyToManyField(
        TreatmentOption,
        related_name="contraindications",
        help_text="The treatment options this rule applies to.",
    )
    source = models.CharField(max_length=300, help_text="Where the rule comes from.")
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_screening_question(self) -> str:
        return in_language(self, "screening_question")


class RedFlag(models.Model):
    """A symptom that needs prompt attention whatever the treatment: asked at intake;
    a 'yes' raises the case's priority and shows the patient ``patient_advice``."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120, unique=True)
    screening_question = models.CharField(
        max_length=300, help_text="Asked of the patient at intake; a 'yes' raises this flag."
    )
    screening_question_es = models.CharField(
        "screening question in Spanish",
        max_length=300,
        blank=True,
        help_text="Asked of patients reading Spanish; the English is shown while it is empty.",
    )
    raises_priority = models.PositiveSmallIntegerField(
        choices=[(Priority.URGENT, "Urgent"), (Priority.HIGH, "High")], default=Priority.URGENT
    )
    patient_advice = models.CharField(
        max_length=400, help_text="Shown to the patient at once when they answer 'yes'."
    )
    patient_advice_es = models.CharField(
        "patient advice in Spanish",
        max_length=500,
        blank=True,
        help_text="Shown to patients reading Spanish; the English is shown while it is empty.",
    )
    source = models.CharField(max_length=300, help_text="Where the rule comes from.")
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def shown_screening_question(self) -> str:
        return in_language(self, "screening_question")

    @property
    def shown_patient_advice(self) -> str:
        return in_language(self, "patient_advice")
