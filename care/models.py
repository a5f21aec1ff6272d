"""What happens after the consultation: the physician's treatment plan, its billable
items, and the Good Faith Estimate a self-pay patient receives from it.

Catalog data (billable items per treatment option, the estimate's disclaimers, the
clinic's own holidays and billing details) is edited in the admin; the first rows
come from the data migration ``0002_seed_billable_items_and_disclaimers``.

Records a patient has seen are never edited: a shared plan version and an issued
estimate are guarded by database triggers (see ``Meta.triggers``), so not even a
stray ``queryset.update()`` can rewrite them. A change is a new version.
"""

import hashlib
import uuid
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from clinic.i18n import in_language
from clinic.models import LANGUAGE_CHOICES, history
from intake.models import Case, Complaint
from intake.models import side_and_region as treated_target
from treatments.models import BodyRegion, Condition, TreatmentOption

ICD10_CM = RegexValidator(
    r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$",
    "An ICD-10-CM code looks like M17.12: a letter, two characters, then an optional "
    "dot and up to four more.",
)


NPI = RegexValidator(r"^\d{10}$", "An NPI number has 10 digits.")
TIN = RegexValidator(r"^\d{2}-?\d{7}$", "A tax identification number has 9 digits (12-3456789).")

# Rows of a child table may change only while their plan is a draft: the trigger
# function reads the plan's ``shared_at`` (a pgtrigger condition cannot look at
# another table). NEW is NULL on DELETE and OLD on INSERT, hence the COALESCE.
_CHILD_OF_SHARED_PLAN = """
    IF EXISTS (
        SELECT 1 FROM care_treatmentplan
        WHERE id IN (NEW.plan_id, OLD.plan_id) AND shared_at IS NOT NULL
    ) THEN
        RAISE EXCEPTION 'A shared treatment plan is never changed; write a new version.'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
"""


def _frozen_with_plan(name: str) -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        func=_CHILD_OF_SHARED_PLAN,
    )


class BillableItem(models.Model):
    """What the clinic charges for one part of a treatment option, as its cash price.
    A plan copies these rows; later price changes do not touch plans or estimates."""

    class CodeSystem(models.TextChoices):
        CPT = "cpt", "CPT"
        HCPCS = "hcpcs", "HCPCS Level II"

    option = models.ForeignKey(
        TreatmentOption, on_delete=models.PROTECT, related_name="billable_items"
    )
    description = models.CharField(max_length=200)
    description_es = models.CharField(
        "description in Spanish",
        max_length=200,
        blank=True,
        help_text="Printed on a Spanish-speaking patient's Good Faith Estimate.",
    )
    code_system = models.CharField(
        max_length=10, choices=CodeSystem.choices, blank=True, help_text="Empty: no code exists."
    )
    code = models.CharField(max_length=10, blank=True)
    cash_price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    price_is_example = models.BooleanField(
        default=False,
        help_text="The shipped example price, not yet set by the clinic; plans warn the physician.",
    )
    included_by_default = models.BooleanField(
        default=True, help_text="Copied into a new plan for this option."
    )
    note = models.CharField(max_length=300, blank=True, help_text="For staff (coding notes).")
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["option__ladder_step", "display_order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(code_system="") & Q(code="")) | (~Q(code_system="") & ~Q(code="")),
                name="billable_item_code_with_system",
            ),
            models.CheckConstraint(
                condition=Q(cash_price__gte=0), name="billable_item_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.option.short_name}: {self.description}"

    @property
    def service_code(self) -> str:
        return f"{self.get_code_system_display()} {self.code}" if self.code else ""


class ClinicHoliday(models.Model):
    """A day the clinic is closed besides the US federal holidays: not a business day
    for the estimate's deadlines."""

    day = models.DateField(unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name}"


class BillingProvider(models.Model):
    """The clinic as the provider named on its Good Faith Estimates (45 CFR
    149.610(c)(1)(v)): name, NPI, tax identification number and location."""

    name = models.CharField(max_length=200)
    npi_number = models.CharField("NPI number", max_length=10, validators=[NPI])
    tin = models.CharField("tax identification number", max_length=10, validators=[TIN])
    location = models.CharField(max_length=300, help_text="Street address, city, state, ZIP.")
    is_current = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=Q(is_current=True),
                name="one_current_billing_provider",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EstimateDisclaimer(models.Model):
    """The disclaimers printed on every estimate. Versions are kept like the consent
    text, one text per language for each version; an estimate records the text (so
    its version and language) and the SHA-256 of the exact text."""

    version = models.CharField(max_length=20)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, default="en")
    body = models.TextField(help_text="Plain text; blank lines separate paragraphs.")
    sha256 = models.CharField(max_length=64, editable=False)
    is_current = models.BooleanField(default=False)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "language"], name="disclaimer_version_language_unique"
            ),
            models.UniqueConstraint(
                fields=["language"],
                condition=Q(is_current=True),
                name="one_current_disclaimer_per_language",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="disclaimer_text_fixed",
                operation=pgtrigger.Update,
                condition=pgtrigger.AnyChange("body", "version", "language", "sha256"),
            ),
        ]

    def __str__(self) -> str:
        return f"Estimate disclaimers (version {self.version}, {self.language})"

    @staticmethod
    def digest(body: str) -> str:
        return hashlib.sha256(body.encode()).hexdigest()

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


class TreatmentPlanQuerySet(models.QuerySet["TreatmentPlan"]):
    def shared(self) -> "TreatmentPlanQuerySet":
        return self.filter(shared_at__isnull=False)


@history("TreatmentPlan")
class TreatmentPlan(models.Model):
    """One version of the plan a physician agreed with the patient. A draft is edited
    in place; once shared with the patient it is frozen (a trigger refuses any
    change), and a change is the next version. The patient's current plan is the
    highest shared version."""

    class Guidance(models.TextChoices):
        ULTRASOUND = "ultrasound", _("Ultrasound")
        FLUOROSCOPY = "fluoroscopy", _("Fluoroscopy (X-ray)")
        NONE = "none", _("None (landmark-guided)")

    class HarvestSource(models.TextChoices):
        BONE_MARROW = "bone_marrow", _("Bone marrow (back of the hip bone)")
        ADIPOSE = "adipose", _("Fat tissue (abdomen)")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="treatment_plans")
    version = models.PositiveSmallIntegerField()
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    options = models.ManyToManyField["TreatmentOption", "PlannedOption"](
        TreatmentOption, through="PlannedOption", related_name="+"
    )
    body_region = models.ForeignKey(BodyRegion, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=10, choices=Complaint.Side.choices)
    condition = models.ForeignKey(
        Condition, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    icd10_code = models.CharField("ICD-10-CM code", max_length=8, validators=[ICD10_CM])
    sessions = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    weeks_between_sessions = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(52)]
    )
    guidance = models.CharField(max_length=20, choices=Guidance.choices)
    harvest_source = models.CharField(max_length=20, choices=HarvestSource.choices, blank=True)
    note_to_patient = models.TextField(blank=True)
    change_reason = models.TextField(blank=True, help_text="Why this version replaces the last.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    shared_at = models.DateTimeField(null=True, blank=True)

    objects = TreatmentPlanQuerySet.as_manager()

    class Meta:
        ordering = ["case", "version"]
        constraints = [
            models.UniqueConstraint(fields=["case", "version"], name="one_plan_per_version"),
            # At most one draft per case: the next version is written in one place.
            models.UniqueConstraint(
                fields=["case"], condition=Q(shared_at__isnull=True), name="one_draft_plan"
            ),
            models.CheckConstraint(
                condition=Q(sessions__gte=1, sessions__lte=12), name="plan_sessions_1_12"
            ),
            models.CheckConstraint(
                condition=Q(version=1) | ~Q(change_reason=""), name="plan_revision_has_reason"
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="shared_plan_frozen",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__shared_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} plan v{self.version}"

    @property
    def is_shared(self) -> bool:
        return self.shared_at is not None

    @property
    def target(self) -> str:
        return treated_target(self.side, self.body_region)


class PlannedOption(models.Model):
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="planned")
    option = models.ForeignKey(TreatmentOption, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["plan", "option__ladder_step"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "option"], name="plan_option_once"),
        ]
        triggers = [_frozen_with_plan("planned_option_frozen_with_plan")]

    def __str__(self) -> str:
        return str(self.option)


@history("PlanItem")
class PlanItem(models.Model):
    """One line of a plan: copied from a billable item, its charge adjustable by the
    physician only with a reason (the database refuses a changed charge without one)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="items")
    option = models.ForeignKey(TreatmentOption, on_delete=models.PROTECT, related_name="+")
    billable_item = models.ForeignKey(
        BillableItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(max_length=200)
    code_system = models.CharField(
        max_length=10, choices=BillableItem.CodeSystem.choices, blank=True
    )
    code = models.CharField(max_length=10, blank=True)
    quantity = models.PositiveSmallIntegerField(default=1)
    catalog_unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    price_is_example = models.BooleanField(default=False)
    charge = models.DecimalField(max_digits=10, decimal_places=2)
    adjustment_reason = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["plan", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(charge=F("catalog_unit_price") * F("quantity"))
                | ~Q(adjustment_reason=""),
                name="plan_item_adjusted_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(charge__gte=0), name="plan_item_charge_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="plan_item_quantity_positive"
            ),
        ]
        triggers = [_frozen_with_plan("plan_item_frozen_with_plan")]

    def __str__(self) -> str:
        return self.description

    @property
    def service_code(self) -> str:
        return f"{self.get_code_system_display()} {self.code}" if self.code else ""

    @property
    def catalog_charge(self) -> Decimal:
        return self.catalog_unit_price * self.quantity

    @property
    def is_adjusted(self) -> bool:
        return self.charge != self.catalog_charge


class CareEvent(models.Model):
    """The care record's history: who did what, when, and why (plans, estimates)."""

    class Kind(models.TextChoices):
        PLAN_WRITTEN = "plan_written", "Plan drafted"
        PLAN_CHANGED = "plan_changed", "Draft plan changed"
        ITEM_ADJUSTED = "item_adjusted", "Plan charge adjusted"
        PLAN_SHARED = "plan_shared", "Plan shared with the patient"
        PLAN_REVISED = "plan_revised", "New plan version started"
        ESTIMATE_DUE = "estimate_due", "Good Faith Estimate due"
        ESTIMATE_REQUESTED = "estimate_requested", "Patient asked for a Good Faith Estimate"
        ESTIMATE_ISSUED = "estimate_issued", "Good Faith Estimate issued"
        ESTIMATE_ACKNOWLEDGED = "estimate_acknowledged", "Patient acknowledged the estimate"
        INSTRUCTIONS_APPROVED = "instructions_approved", "Pre-procedure instructions approved"
        INSTRUCTIONS_ACKNOWLEDGED = "instructions_acknowledged", "Patient read the instructions"
        FOLLOWUPS_PLANNED = "followups_planned", "Follow-ups planned"
        FOLLOWUPS_CLOSED = "followups_closed", "Follow-ups closed"
        FOLLOWUP_OPENED = "followup_opened", "Follow-up sent to the patient"
        FOLLOWUP_ANSWERED = "followup_answered", "Follow-up answered"
        FOLLOWUP_ATTENTION = "followup_attention", "Follow-up needs attention"
        FOLLOWUP_REVIEWED = "followup_reviewed", "Follow-up reviewed by the physician"
        FOLLOWUP_MISSED = "followup_missed", "Follow-up missed"
        FOLLOWUP_CALLED = "followup_called", "Follow-up call recorded"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="care_events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "at", "id"]

    def __str__(self) -> str:
        return f"{self.case}: {self.get_kind_display()}"


class EstimateDueQuerySet(models.QuerySet["EstimateDue"]):
    def open(self) -> "EstimateDueQuerySet":
        return self.filter(fulfilled_by__isnull=True)


@history("EstimateDue")
class EstimateDue(models.Model):
    """A Good Faith Estimate the clinic owes by ``due_on`` (a date in the clinic's
    time zone, end of that business day): opened when the procedure is booked or the
    patient asks, closed by the first estimate issued after it opened."""

    class Reason(models.TextChoices):
        SCHEDULED = "scheduled", "Procedure booked"
        REQUESTED = "requested", "Patient asked"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="estimates_due")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    opened_at = models.DateTimeField()
    opened_on = models.DateField(help_text="The local date of booking or of the request.")
    service_on = models.DateField(null=True, blank=True)
    due_on = models.DateField()
    rule = models.CharField(max_length=200, help_text="Which deadline applies, in words.")
    fulfilled_by = models.ForeignKey(
        "GoodFaithEstimate", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = EstimateDueQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(
                fields=["due_on"], name="estimate_due_open", condition=Q(fulfilled_by__isnull=True)
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(due_on__gte=F("opened_on")), name="estimate_due_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference}: estimate due {self.due_on:%Y-%m-%d}"


class GoodFaithEstimate(models.Model):
    """A Good Faith Estimate as issued (45 CFR 149.610(c)): everything it says is
    copied here when it is issued, so it reads the same after the plan, the prices,
    the patient's details or the clinic's details change. Never changed or deleted
    (a trigger refuses both); a new plan version means a new estimate."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="estimates")
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="estimates")
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    patient_name = models.CharField(max_length=150)
    patient_date_of_birth = models.DateField()
    primary_service = models.CharField(max_length=300)
    service_date = models.DateField(null=True, blank=True)
    diagnosis_codes = models.CharField(max_length=100)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    provider_name = models.CharField(max_length=200)
    provider_npi = models.CharField(max_length=10)
    provider_tin = models.CharField(max_length=10)
    provider_location = models.CharField(max_length=300)
    practitioner_name = models.CharField(max_length=150)
    practitioner_npi = models.CharField(max_length=10, blank=True)
    separately_scheduled = models.TextField(blank=True)
    disclaimer = models.ForeignKey(EstimateDisclaimer, on_delete=models.PROTECT, related_name="+")
    disclaimer_sha256 = models.CharField(max_length=64)
    # The language it was issued in (the patient's): its service descriptions and
    # disclaimers are in it, and the page and the PDF print it in the same language.
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, default="en")

    class Meta:
        ordering = ["case", "issued_at", "pk"]
        get_latest_by = "issued_at"
        triggers = [
            pgtrigger.Protect(
                name="issued_estimate_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"Good Faith Estimate {self.case.reference} ({self.issued_at:%Y-%m-%d})"


class EstimateLine(models.Model):
    estimate = models.ForeignKey(GoodFaithEstimate, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    description = models.CharField(max_length=200)
    service_code = models.CharField(max_length=20, blank=True)
    diagnosis_code = models.CharField(max_length=8)
    quantity = models.PositiveSmallIntegerField()
    charge = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["estimate", "position"]
        constraints = [
            models.UniqueConstraint(fields=["estimate", "position"], name="estimate_line_once"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="estimate_line_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return self.description


class EstimateAcknowledgement(models.Model):
    """The patient confirmed receipt: when, and from which address."""

    estimate = models.OneToOneField(
        GoodFaithEstimate, on_delete=models.PROTECT, related_name="acknowledgement"
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        triggers = [
            pgtrigger.Protect(
                name="estimate_receipt_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.estimate}: received {self.at:%Y-%m-%d %H:%M}"


class InstructionTemplate(models.Model):
    """A pre-procedure instruction the clinic gives for a treatment option, with its
    timing relative to the procedure day (negative: days before) and its source. A
    template never reaches a patient by itself: the physician copies, edits and
    approves it for each procedure (``ProcedureInstruction``)."""

    option = models.ForeignKey(
        TreatmentOption, on_delete=models.PROTECT, related_name="instruction_templates"
    )
    text = models.CharField(
        max_length=300, help_text='Follows the date: "From Tuesday 3 March, <text>".'
    )
    days_from_procedure = models.SmallIntegerField(
        validators=[MinValueValidator(-90), MaxValueValidator(30)],
        help_text="-7: from a week before the procedure; 0: on the day.",
    )
    source = models.CharField(max_length=300, help_text="Where the instruction comes from.")
    display_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["option__ladder_step", "days_from_procedure", "display_order"]
        constraints = [
            models.CheckConstraint(
                condition=Q(days_from_procedure__gte=-90, days_from_procedure__lte=30),
                name="instruction_timing_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.option.short_name}: {self.text[:60]}"


@history("ProcedureInstruction")
class ProcedureInstruction(models.Model):
    """One instruction for one booked procedure, as the physician wrote it for this
    patient. The patient sees it only once ``approved_at`` is set; an edit clears it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    procedure = models.ForeignKey(
        "intake.Consultation", on_delete=models.CASCADE, related_name="instructions"
    )
    template = models.ForeignKey(
        InstructionTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.CharField(max_length=300)
    days_from_procedure = models.SmallIntegerField()
    source = models.CharField(max_length=300, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["procedure", "days_from_procedure", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="instruction_has_text"),
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True, approved_by__isnull=True)
                | Q(approved_at__isnull=False, approved_by__isnull=False),
                name="instruction_approved_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class InstructionAcknowledgement(models.Model):
    """The patient confirmed they read the approved instructions of a procedure, as
    they stood at ``at`` (for the procedure's time then)."""

    procedure = models.ForeignKey(
        "intake.Consultation", on_delete=models.CASCADE, related_name="instruction_receipts"
    )
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    at = models.DateTimeField()
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["procedure", "at"]

    def __str__(self) -> str:
        return f"{self.procedure}: read {self.at:%Y-%m-%d %H:%M}"


class InstructionReminder(models.Model):
    """The one reminder e-mail before the first instruction date of a procedure: the
    unique constraint makes the periodic task send it once, however often it runs; a
    moved procedure has a new ``starts_at`` and so its own reminder."""

    procedure = models.ForeignKey(
        "intake.Consultation", on_delete=models.CASCADE, related_name="instruction_reminders"
    )
    starts_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "starts_at"], name="one_instruction_reminder_per_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure}: reminded {self.sent_at:%Y-%m-%d}"


class ProcedureRecord(models.Model):
    """What the physician did on the procedure day, recorded once: the option, the
    site, the guidance and volumes; for the patient's own cells the harvest; for donor
    tissue the product, manufacturer, lot and expiry, so every patient who received a
    lot can be found for a recall (tissue tracking, 21 CFR 1271.290). Never changed or
    deleted (a trigger refuses both): it is the medical record of the procedure."""

    class Kind(models.TextChoices):
        INJECTION = "injection", "Injection"
        CELL_HARVEST = "cell_harvest", "The patient's own cells, harvested and injected"
        DONOR_TISSUE = "donor_tissue", "Donor tissue (allograft)"

    class HarvestSite(models.TextChoices):
        ILIAC_LEFT = "iliac_left", _("Back of the left hip bone (posterior iliac crest)")
        ILIAC_RIGHT = "iliac_right", _("Back of the right hip bone (posterior iliac crest)")
        ILIAC_BOTH = "iliac_both", _("Back of both hip bones (posterior iliac crests)")
        ABDOMEN = "abdomen", _("Abdomen (fat)")
        FLANK = "flank", _("Flank (fat)")
        THIGH = "thigh", _("Thigh (fat)")

    class Complication(models.TextChoices):
        NONE = "none", "None"
        VASOVAGAL = "vasovagal", "Felt faint (vasovagal reaction)"
        BLEEDING = "bleeding", "Bleeding needing more than pressure"
        PAIN = "pain", "Severe pain during the procedure"
        ALLERGIC = "allergic", "Allergic reaction"
        OTHER = "other", "Other (described in the note)"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="procedure_records")
    consultation = models.OneToOneField(
        "intake.Consultation", on_delete=models.PROTECT, related_name="procedure_record"
    )
    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="+")
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    performed_at = models.DateTimeField()
    option = models.ForeignKey(TreatmentOption, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    body_region = models.ForeignKey(BodyRegion, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=10, choices=Complaint.Side.choices)
    guidance = models.CharField(max_length=20, choices=TreatmentPlan.Guidance.choices)
    volume_injected_ml = models.DecimalField("Volume injected (mL)", max_digits=5, decimal_places=1)
    harvest_site = models.CharField(max_length=20, choices=HarvestSite.choices, blank=True)
    volume_harvested_ml = models.DecimalField(
        "Volume harvested (mL)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    nucleated_cells_millions = models.DecimalField(
        "Total nucleated cells (millions)",
        max_digits=9,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Only where a laboratory counted them.",
    )
    product_name = models.CharField(max_length=150, blank=True)
    manufacturer = models.CharField(max_length=150, blank=True)
    lot_number = models.CharField("Lot or serial number", max_length=60, blank=True)
    lot_expires_on = models.DateField("Expiry date", null=True, blank=True)
    complication = models.CharField(
        max_length=20, choices=Complication.choices, default=Complication.NONE
    )
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "performed_at"]
        indexes = [models.Index(fields=["lot_number"], name="procedure_lot_number")]
        constraints = [
            models.CheckConstraint(
                condition=Q(volume_injected_ml__gt=0), name="procedure_volume_injected_positive"
            ),
            models.CheckConstraint(
                condition=~Q(kind="donor_tissue")
                | (
                    ~Q(product_name="")
                    & ~Q(manufacturer="")
                    & ~Q(lot_number="")
                    & Q(lot_expires_on__isnull=False)
                ),
                name="donor_tissue_traceable",
            ),
            models.CheckConstraint(
                condition=~Q(kind="cell_harvest")
                | (~Q(harvest_site="") & Q(volume_harvested_ml__gt=0)),
                name="cell_harvest_recorded",
            ),
            models.CheckConstraint(
                condition=Q(kind="donor_tissue") | Q(lot_number=""),
                name="lot_only_for_donor_tissue",
            ),
            models.CheckConstraint(
                condition=Q(complication="none") | ~Q(note=""),
                name="procedure_complication_described",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="procedure_record_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} procedure {self.performed_at:%Y-%m-%d}"

    @property
    def target(self) -> str:
        return treated_target(self.side, self.body_region)


# --- Follow-up outcomes (issue 21) -----------------------------------------------------
# A procedure record starts a series of follow-up questionnaires on its target (the
# patient's body region and side); each time point of the clinic's schedule (admin
# data, ``FollowUpTimepoint``) is one ``FollowUp`` with its window copied in, so a
# later change of the schedule never moves a follow-up already planned. The baseline
# is the patient's intake, copied onto the series when it starts.


class FollowUpTimepoint(models.Model):
    """When the clinic asks after a procedure (days after it) and the window in which
    the questionnaire is open. Shipped: 6 weeks, 3, 6 and 12 months, each opening 7
    days before and closing 28 days after (data migration
    ``0007_seed_followup_timepoints``)."""

    name = models.CharField(max_length=40, unique=True, help_text='As patients read it: "6 weeks".')
    name_es = models.CharField(
        "name in Spanish",
        max_length=40,
        blank=True,
        help_text='As patients reading Spanish read it: "6 semanas"; the English is shown '
        "while it is empty.",
    )
    days_after = models.PositiveSmallIntegerField(
        unique=True, validators=[MinValueValidator(1), MaxValueValidator(1100)]
    )
    opens_days_before = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(60)]
    )
    closes_days_after = models.PositiveSmallIntegerField(
        default=28, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["days_after"]
        constraints = [
            models.CheckConstraint(
                condition=Q(days_after__gt=F("opens_days_before")),
                name="followup_timepoint_opens_after_procedure",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FollowUpPreference(models.Model):
    """The patient's choices about follow-ups: texts (only with a mobile number and
    their agreement) and opting out, recorded with when."""

    patient = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followup_preference"
    )
    texts_agreed = models.BooleanField(default=False)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Follow-up preferences of {self.patient_id}"


@history("FollowUpSeries")
class FollowUpSeries(models.Model):
    """The follow-ups of one procedure, with the baseline they are compared with. A
    later procedure on the same target closes this series (``closed_at``)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.OneToOneField(
        ProcedureRecord, on_delete=models.PROTECT, related_name="followup_series"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="followup_series")
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followup_series"
    )
    body_region = models.ForeignKey(BodyRegion, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=10, choices=Complaint.Side.choices)
    treated_on = models.DateField(help_text="The procedure's local date.")
    baseline_pain = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_percent_normal = models.DecimalField(
        max_digits=5, decimal_places=1, null=True, blank=True
    )
    baseline_function = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["patient", "treated_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(baseline_pain__isnull=True) | Q(baseline_pain__lte=10),
                name="followup_baseline_pain_0_10",
            ),
            # One running series per target: the new procedure closes the old one.
            models.UniqueConstraint(
                fields=["patient", "body_region", "side"],
                condition=Q(closed_at__isnull=True),
                name="one_running_followup_series_per_target",
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-ups of {self.record}"


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def needing_attention(self) -> "FollowUpQuerySet":
        return self.filter(
            state="answered", response__needs_attention=True, attention_reviewed_at__isnull=True
        )


@history("FollowUp")
class FollowUp(models.Model):
    """One questionnaire of a series at one time point. Planned when the procedure is
    recorded; open from ``opens_on`` (the invitation); answered, or missed once
    ``closes_on`` passes unanswered. Closed (not asked) when a new series on the same
    target replaces it or the patient opts out; never deleted."""

    class State(models.TextChoices):
        PLANNED = "planned", "Planned"
        OPEN = "open", "Open"
        ANSWERED = "answered", "Answered"
        MISSED = "missed", "Missed"
        CLOSED = "closed", "Not asked"

    UNANSWERED = (State.PLANNED, State.OPEN)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    series = models.ForeignKey(FollowUpSeries, on_delete=models.PROTECT, related_name="followups")
    timepoint = models.ForeignKey(FollowUpTimepoint, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=40, help_text="The time point's name when planned.")
    due_on = models.DateField()
    opens_on = models.DateField()
    closes_on = models.DateField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PLANNED)
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=200, blank=True)
    attention_reviewed_at = models.DateTimeField(null=True, blank=True)
    attention_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["series", "due_on"]
        indexes = [
            models.Index(fields=["state", "opens_on"], name="followup_state_opens"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["series", "timepoint"], name="one_followup_per_time"),
            models.CheckConstraint(
                condition=Q(opens_on__lte=F("due_on"), closes_on__gt=F("due_on")),
                name="followup_window_around_due",
            ),
            models.CheckConstraint(
                condition=~Q(state="answered") | Q(answered_at__isnull=False),
                name="answered_followup_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["missed", "closed"]) | Q(closed_at__isnull=False),
                name="closed_followup_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} follow-up ({self.get_state_display()})"

    @property
    def shown_label(self) -> str:
        """The time point's name as the patient reads it: the Spanish name of the
        schedule's time point while it is named as when this follow-up was planned
        (a renamed time point keeps the label copied in)."""
        if (translation.get_language() or "en").startswith("en"):
            return self.label
        timepoint = self.timepoint
        return in_language(timepoint, "name") if timepoint.name == self.label else self.label


class FollowUpContact(models.Model):
    """Each message sent for a follow-up (invitation, first and second reminder): the
    unique constraint makes every one go out once, however often or concurrently the
    periodic task runs."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", "Invitation"
        REMINDER_1 = "reminder_1", "First reminder"
        REMINDER_2 = "reminder_2", "Second reminder"

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    texted = models.BooleanField(default=False)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["followup", "sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["followup", "kind"], name="one_followup_contact_each"),
        ]

    def __str__(self) -> str:
        return f"{self.followup}: {self.get_kind_display()}"


class FollowUpCall(models.Model):
    """The front desk's call to a patient who did not answer the reminders."""

    class Result(models.TextChoices):
        WILL_ANSWER = "will_answer", "Reached: will answer online"
        LEFT_MESSAGE = "left_message", "Left a message"
        NO_ANSWER = "no_answer", "No answer"
        DECLINED = "declined", "Reached: does not want to answer"
        WRONG_NUMBER = "wrong_number", "Wrong or unavailable number"

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="calls")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    result = models.CharField(max_length=20, choices=Result.choices)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["followup", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.followup}: {self.get_result_display()}"


@history("FollowUpResponse")
class FollowUpResponse(models.Model):
    """The patient's answers to one follow-up, scored on the server with the intake's
    scoring code, and whether they need the physician (a complication, or pain 2 or
    more points worse than baseline)."""

    class GlobalChange(models.IntegerChoices):
        VERY_MUCH_WORSE = -3, _("Very much worse")
        MUCH_WORSE = -2, _("Much worse")
        A_LITTLE_WORSE = -1, _("A little worse")
        ABOUT_THE_SAME = 0, _("About the same")
        A_LITTLE_BETTER = 1, _("A little better")
        MUCH_BETTER = 2, _("Much better")
        VERY_MUCH_BETTER = 3, _("Very much better")

    followup = models.OneToOneField(FollowUp, on_delete=models.PROTECT, related_name="response")
    answers = models.JSONField(help_text="Instrument slug to {item position: option value}.")
    pain = models.PositiveSmallIntegerField()
    percent_normal = models.DecimalField(max_digits=5, decimal_places=1)
    function_score = models.DecimalField(max_digits=5, decimal_places=1)
    global_change = models.SmallIntegerField(choices=GlobalChange.choices)
    redness_swelling = models.BooleanField()
    fever = models.BooleanField()
    new_pain = models.BooleanField()
    saw_doctor = models.BooleanField()
    needs_attention = models.BooleanField()
    attention_reason = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The review queue's "needs attention" items read only these few rows
            # (without it, every queue page scanned every answer).
            models.Index(
                fields=["followup"],
                condition=Q(needs_attention=True),
                name="followup_response_attention",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(pain__lte=10), name="followup_pain_0_10"),
            models.CheckConstraint(
                condition=Q(global_change__gte=-3, global_change__lte=3),
                name="followup_global_change_7_points",
            ),
            models.CheckConstraint(
                condition=Q(needs_attention=False) | ~Q(attention_reason=""),
                name="followup_attention_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.followup}: answered {self.submitted_at:%Y-%m-%d}"

    @property
    def any_complication(self) -> bool:
        return self.redness_swelling or self.fever or self.new_pain or self.saw_doctor
