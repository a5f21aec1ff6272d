"""The intake's step forms. They check what a patient can get wrong and say so next
to the field; the services in ``intake.services`` do the writing."""

import io
import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.widgets import RegionalPhoneNumberWidget
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from clinic.forms import DateInput
from clinic.models import LANGUAGE_CHOICES
from intake.models import (
    ABOUT_YOU_FIELDS,
    HEIGHT_CM_RANGE,
    PAIN_SCALE_MAX,
    TIMES_OF_DAY,
    WEEKDAYS,
    WEIGHT_KG_RANGE,
    Complaint,
    ImagingFile,
    ImagingStudy,
    Instrument,
    Intake,
    PriorTreatment,
    ScreeningAnswer,
)
from treatments.models import BodyRegion, Condition, Contraindication, RedFlag, TreatmentOption

CM_PER_INCH = Decimal("2.54")
KG_PER_LB = Decimal("0.45359237")
OLDEST_AGE_YEARS = 120
PAIN_CHOICES = [(str(n), str(n)) for n in range(PAIN_SCALE_MAX + 1)]
# The words at the two ends of the 0-10 scale, shown under it and read with its ends.
PAIN_SCALE_ENDS = ("no pain", "worst imaginable")
MONTHS = [
    (str(n), name)
    for n, name in enumerate(
        (
            _("January"),
            _("February"),
            _("March"),
            _("April"),
            _("May"),
            _("June"),
            _("July"),
            _("August"),
            _("September"),
            _("October"),
            _("November"),
            _("December"),
        ),
        start=1,
    )
]


class MonthYearWidget(forms.MultiWidget):
    """A month list and a four-digit year (the page draws them with
    ``intake/_month_year_field.html``). What was typed is shown back as typed."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = (
            forms.Select(choices=[("", _("Month")), *MONTHS]),
            forms.TextInput(
                attrs={
                    "inputmode": "numeric",
                    "maxlength": "4",
                    "size": "4",
                    "autocomplete": "off",
                    "placeholder": "YYYY",
                }
            ),
        )
        super().__init__(widgets, attrs)

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str | None]:
        parts = [data.get(f"{name}_{n}") for n in range(len(self.widgets))]
        if not any(parts) and data.get(name):
            # One ISO date under the field's own name: how the page sent it before it
            # asked for a month and a year (answers kept with a draft are in that form).
            match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})(?:-\d{1,2})?\s*", str(data.get(name)))
            if match:
                return [str(int(match[2])), match[1]]
            return ["", str(data.get(name))]
        return parts

    def decompress(self, value: Any) -> list[str | None]:
        if isinstance(value, date):
            return [str(value.month), str(value.year)]
        return [None, None]


class MonthYearBoundField(forms.BoundField):
    def parts(self) -> tuple[str, str]:
        """The month and the year to show: as sent, or from the saved date."""
        value = self.value()
        if isinstance(value, date):
            return str(value.month), str(value.year)
        if isinstance(value, list | tuple):
            month, year = [*value, "", ""][:2]
            return str(month or ""), str(year or "")
        return "", ""


class MonthYearField(forms.MultiValueField):
    """A date the patient knows roughly: a month and a year, kept as the first of that
    month (pages show such dates as "March 2019")."""

    widget = MonthYearWidget

    def __init__(self, *, required: bool = True, **kwargs: Any) -> None:
        fields = (
            forms.ChoiceField(choices=MONTHS, required=False),
            forms.CharField(required=False, max_length=4),
        )
        super().__init__(fields, required=required, require_all_fields=False, **kwargs)
        self.error_messages = {
            **self.error_messages,
            "required": _("Choose the month and type the year."),
        }

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> forms.BoundField:
        return MonthYearBoundField(form, self, field_name)

    def compress(self, data_list: list[Any]) -> date | None:
        if not data_list or not any(data_list):
            return None
        month, year = [*data_list, None, None][:2]
        if not month:
            raise forms.ValidationError(_("Choose the month as well as the year."))
        year = (year or "").strip()
        if not year:
            raise forms.ValidationError(_("Type the year as well, such as 2019."))
        if not (year.isdigit() and len(year) == 4):
            raise forms.ValidationError(_("Type the year with four digits, such as 2019."))
        try:
            return date(int(year), int(month), 1)
        except ValueError:
            raise forms.ValidationError(
                _("Type the year with four digits, such as 2019.")
            ) from None


class TypedPhoneInput(RegionalPhoneNumberWidget):
    """A saved number shows in the national format; a number sent back with an error
    shows exactly as typed ("555-12", not the parsed "55512"), so the patient can
    see what to correct."""

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, str):
            return value or None
        return super().format_value(value)


PHONE_ERROR = _("Enter a phone number we can call, such as (201) 555-0123 or +44 20 7946 0958.")


def _past_date(value: date | None, *, what: StrOrPromise, month: bool = False) -> date | None:
    if value is None:
        return None
    today = timezone.localdate()
    if value > today:
        when = _("this month") if month else _("today")
        raise forms.ValidationError(
            _("The %(what)s must be %(when)s or earlier.") % {"what": what, "when": when}
        )
    if value < today.replace(year=today.year - OLDEST_AGE_YEARS):
        raise forms.ValidationError(
            _("Please check the %(what)s: it is more than %(years)s years ago.")
            % {"what": what, "years": OLDEST_AGE_YEARS}
        )
    return value


class AboutYouForm(forms.ModelForm[Intake]):
    """Step 1. Height and weight are typed in the patient's units and stored metric."""

    height_cm = forms.DecimalField(
        label=_("Height (cm)"),
        required=False,
        max_digits=4,
        decimal_places=1,
        min_value=HEIGHT_CM_RANGE[0],
        max_value=HEIGHT_CM_RANGE[1],
    )
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"),
        required=False,
        max_digits=4,
        decimal_places=1,
        min_value=WEIGHT_KG_RANGE[0],
        max_value=WEIGHT_KG_RANGE[1],
    )
    height_ft = forms.IntegerField(
        label=_("Height (feet)"), required=False, min_value=1, max_value=8
    )
    height_in = forms.DecimalField(
        label=_("and inches"),
        required=False,
        min_value=0,
        max_value=Decimal("11.9"),
        max_digits=3,
        decimal_places=1,
    )
    weight_lb = forms.DecimalField(
        label=_("Weight (lb)"),
        required=False,
        min_value=44,
        max_value=770,
        max_digits=4,
        decimal_places=1,
    )
    phone = PhoneNumberField(
        label=_("Mobile or home phone"),
        widget=TypedPhoneInput,
        error_messages={"invalid": PHONE_ERROR},
    )
    emergency_contact_phone = PhoneNumberField(
        label=_("Their phone"), widget=TypedPhoneInput, error_messages={"invalid": PHONE_ERROR}
    )

    class Meta:
        model = Intake
        fields = list(ABOUT_YOU_FIELDS)
        labels = {
            "legal_name": _("Full legal name"),
            "date_of_birth": _("Date of birth"),
            "sex": _("Sex assigned at birth"),
            "address_line1": _("Address"),
            "address_line2": _("Address line 2"),
            "city": _("City"),
            "region": _("State or region"),
            "postal_code": _("Postal code"),
            "emergency_contact_name": _("Emergency contact's name"),
            "emergency_contact_relationship": _("Their relationship to you"),
            "unit_system": _("Units for height and weight"),
        }
        help_texts = {"legal_name": _("As on your ID or insurance card; you will sign with it.")}
        widgets = {
            "date_of_birth": DateInput(attrs={"autocomplete": "bday"}),
            "unit_system": forms.RadioSelect,
            "legal_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
        }

    REQUIRED = (
        "legal_name",
        "date_of_birth",
        "sex",
        "address_line1",
        "city",
        "region",
        "postal_code",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "unit_system",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.REQUIRED:
            self.fields[name].required = True
        sex = self.fields["sex"]
        if isinstance(sex, forms.ChoiceField):
            sex.choices = [("", _("Choose one")), *Intake.Sex.choices]
        self.fields["phone"].widget.attrs["autocomplete"] = "tel"
        intake = self.instance
        if not self.is_bound and intake.unit_system == Intake.UnitSystem.IMPERIAL:
            if intake.height_cm:
                inches = intake.height_cm / CM_PER_INCH
                self.initial["height_ft"] = int(inches // 12)
                self.initial["height_in"] = (inches % 12).quantize(Decimal("0.1"))
            if intake.weight_kg:
                self.initial["weight_lb"] = (intake.weight_kg / KG_PER_LB).quantize(Decimal("0.1"))

    def clean_date_of_birth(self) -> date | None:
        return _past_date(self.cleaned_data.get("date_of_birth"), what=_("date of birth"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("unit_system") == Intake.UnitSystem.IMPERIAL:
            self._imperial_to_metric(data)
        else:
            for name, label in (
                ("height_cm", _("Enter your height in centimeters.")),
                ("weight_kg", _("Enter your weight in kilograms.")),
            ):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, label)
        return data

    def _imperial_to_metric(self, data: dict[str, Any]) -> None:
        feet, inches, pounds = data.get("height_ft"), data.get("height_in"), data.get("weight_lb")
        if feet is None and "height_ft" not in self.errors:
            self.add_error("height_ft", _("Enter your height in feet (and inches)."))
        if pounds is None and "weight_lb" not in self.errors:
            self.add_error("weight_lb", _("Enter your weight in pounds."))
        if feet is not None and "height_in" not in self.errors:
            total_inches = Decimal(feet) * 12 + (inches or Decimal(0))
            cm = (total_inches * CM_PER_INCH).quantize(Decimal("0.1"))
            if not HEIGHT_CM_RANGE[0] <= cm <= HEIGHT_CM_RANGE[1]:
                self.add_error(
                    "height_ft",
                    _("Please check your height: it should be between 1 ft 8 in and 8 ft 2 in."),
                )
            else:
                data["height_cm"] = cm
        if pounds is not None:
            kg = (pounds * KG_PER_LB).quantize(Decimal("0.1"))
            if not WEIGHT_KG_RANGE[0] <= kg <= WEIGHT_KG_RANGE[1]:
                self.add_error(
                    "weight_lb", _("Please check your weight: it should be between 45 and 770 lb.")
                )
            else:
                data["weight_kg"] = kg


class ShownNameChoiceField(forms.ModelChoiceField):
    """A choice of catalog rows, each named in the page's language."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.shown_name)


class ComplaintForm(forms.Form):
    """Step 2: one painful area."""

    body_region = ShownNameChoiceField(
        queryset=BodyRegion.objects.all(),
        label=_("Where is the pain?"),
        empty_label=_("Choose an area"),
    )
    side = forms.ChoiceField(
        choices=Complaint.Side.choices, widget=forms.RadioSelect, label=_("Which side?")
    )
    condition = ShownNameChoiceField(
        queryset=Condition.objects.filter(is_active=True).select_related("body_region"),
        required=False,
        label=_("Do you know what it is?"),
        empty_label=_("Not sure"),
        help_text=_("Only if a clinician has told you; otherwise leave 'Not sure'."),
    )
    started_on = MonthYearField(label=_("When did it start? (roughly)"))
    onset = forms.ChoiceField(
        choices=Complaint.Onset.choices, widget=forms.RadioSelect, label=_("How did it start?")
    )
    pain_now = forms.TypedChoiceField(
        choices=PAIN_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        label=_("Pain right now (0–10)"),
        error_messages={"required": _("Choose a number from 0 to 10.")},
    )
    pain_worst_week = forms.TypedChoiceField(
        choices=PAIN_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        label=_("Worst pain in the last week (0–10)"),
        error_messages={"required": _("Choose a number from 0 to 10.")},
    )

    def clean_started_on(self) -> date | None:
        return _past_date(
            self.cleaned_data.get("started_on"), what=_("month the pain started"), month=True
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        region, condition = data.get("body_region"), data.get("condition")
        if (
            region
            and condition
            and condition.body_region_id != region.pk
            and region.slug != "other"
        ):
            self.add_error(
                "condition",
                _("%(condition)s is not a %(region)s condition; choose another or 'Not sure'.")
                % {"condition": condition.shown_name, "region": region.shown_name.lower()},
            )
        now, worst = data.get("pain_now"), data.get("pain_worst_week")
        if now is not None and worst is not None and worst < now:
            self.add_error(
                "pain_worst_week",
                _("The worst pain in the last week cannot be lower than your pain now."),
            )
        return data


class BaseComplaintFormSet(forms.BaseFormSet[ComplaintForm]):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not kept_forms(self):
            raise forms.ValidationError(_("Tell us about at least one painful area."))


def kept_forms(formset: forms.BaseFormSet[Any]) -> list[forms.Form]:
    """The filled-in forms of a formset that the patient did not mark for removal."""
    return [f for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]


# absolute_max = max_num on every formset: Django's default (max_num + 1000) lets a
# forged TOTAL_FORMS build, validate, keep and re-render a thousand forms (seconds of
# work and a page of megabytes, on every later visit to the step).
ComplaintFormSet = formset_factory(
    ComplaintForm,
    formset=BaseComplaintFormSet,
    extra=1,
    can_delete=True,
    max_num=6,
    absolute_max=6,
    validate_max=True,
)


class InstrumentForm(forms.Form):
    """Step 3: every intake questionnaire, built from the instruments' data."""

    def __init__(self, *args: Any, instruments: list[Instrument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instruments = instruments
        for instrument in instruments:
            choices = [(str(o.value), o.shown_label) for o in instrument.options.all()]
            for item in instrument.items.all():
                self.fields[self.field_name(instrument, item.position)] = forms.TypedChoiceField(
                    label=item.shown_text,
                    choices=choices,
                    coerce=int,
                    widget=forms.RadioSelect,
                    error_messages={"required": _("Please choose an answer.")},
                )

    @staticmethod
    def field_name(instrument: Instrument, position: int) -> str:
        return f"q{instrument.pk}_{position}"

    def groups(self) -> list[tuple[Instrument, list[forms.BoundField]]]:
        return [
            (
                instrument,
                [
                    self[self.field_name(instrument, item.position)]
                    for item in instrument.items.all()
                ],
            )
            for instrument in self.instruments
        ]

    def answers(self) -> dict[int, dict[int, int]]:
        return {
            instrument.pk: {
                item.position: self.cleaned_data[self.field_name(instrument, item.position)]
                for item in instrument.items.all()
            }
            for instrument in self.instruments
        }


YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class PriorTreatmentForm(forms.Form):
    """Step 4: one kind of treatment the patient may have tried."""

    kind = forms.ChoiceField(choices=PriorTreatment.Kind.choices, widget=forms.HiddenInput)
    tried = forms.ChoiceField(
        choices=YES_NO, widget=forms.RadioSelect, label=_("Have you tried it?")
    )
    last_on = MonthYearField(label=_("When was the last time?"), required=False)
    details = forms.CharField(label=_("Details"), required=False, max_length=300)
    outcome = forms.ChoiceField(
        choices=[("", _("Choose one")), *PriorTreatment.Outcome.choices],
        required=False,
        label=_("How well did it work?"),
    )

    DETAIL_LABELS = {
        PriorTreatment.Kind.MEDICINES: _("Which medicines?"),
        PriorTreatment.Kind.SURGERY: _("Which surgery?"),
        PriorTreatment.Kind.PHYSICAL_THERAPY: _("For how long?"),
        PriorTreatment.Kind.STEROID_INJECTION: _("How many injections?"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.initial.get("kind") or (
            self.data.get(self.add_prefix("kind")) if self.is_bound else None
        )
        self.kind_label = dict(PriorTreatment.Kind.choices).get(str(kind), _("Treatment"))
        labels: dict[str, StrOrPromise] = {str(k): v for k, v in self.DETAIL_LABELS.items()}
        self.fields["details"].label = labels.get(str(kind), _("Details (optional)"))

    def clean_last_on(self) -> date | None:
        return _past_date(self.cleaned_data.get("last_on"), what=_("month"), month=True)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("tried") != "yes":
            return data
        kind = data.get("kind")
        if not data.get("outcome"):
            self.add_error(
                "outcome", _("Tell us how well it worked (or that it is too early to tell).")
            )
        if (
            kind == PriorTreatment.Kind.STEROID_INJECTION
            and not data.get("last_on")
            and "last_on" not in self.errors
        ):
            self.add_error(
                "last_on", _("Give the month and year of your last steroid injection, roughly.")
            )
        if kind == PriorTreatment.Kind.SURGERY:
            if not data.get("details"):
                self.add_error("details", _("Tell us which surgery you had."))
            if not data.get("last_on") and "last_on" not in self.errors:
                self.add_error("last_on", _("Give the month and year of the surgery, roughly."))
        return data


class BasePriorTreatmentFormSet(forms.BaseFormSet[PriorTreatmentForm]):
    def clean(self) -> None:
        if any(self.errors):
            return
        kinds = sorted(f.cleaned_data.get("kind", "") for f in self.forms)
        if kinds != sorted(PriorTreatment.Kind.values):
            raise forms.ValidationError(_("Please answer for every kind of treatment on the list."))


PriorTreatmentFormSet = formset_factory(
    PriorTreatmentForm,
    formset=BasePriorTreatmentFormSet,
    extra=0,
    min_num=len(PriorTreatment.Kind.values),
    max_num=len(PriorTreatment.Kind.values),
    absolute_max=len(PriorTreatment.Kind.values),
    validate_min=True,
    validate_max=True,
)


class HealthForm(forms.Form):
    """Step 5: the screening questions (one per contraindication rule) and medicines."""

    current_medicines = forms.CharField(
        label=_("Medicines you take now"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_(
            "Include blood thinners, aspirin, anti-inflammatories, steroids and supplements, "
            "with the dose if you know it. Write 'none' if you take none. Do not stop any medicine "
            "because of this form; your physician or the doctor who prescribes it will advise you. "
            "Never stop a blood thinner without the prescribing doctor's agreement."
        ),
    )
    allergies = forms.CharField(
        label=_("Allergies (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    other_conditions = forms.CharField(
        label=_("Other health conditions or operations (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(
        self,
        *args: Any,
        rules: list[Contraindication],
        red_flags: list[RedFlag],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rules = rules
        self.red_flags = red_flags
        questions = [(f"screen_{r.slug}", r.shown_screening_question) for r in rules] + [
            (f"symptom_{f.slug}", f.shown_screening_question) for f in red_flags
        ]
        for name, question in questions:
            self.fields[name] = forms.ChoiceField(
                label=question,
                choices=ScreeningAnswer.Answer.choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Please answer yes, no or not sure.")},
            )

    def screening_fields(self) -> list[forms.BoundField]:
        return [self[f"screen_{rule.slug}"] for rule in self.rules]

    def symptom_fields(self) -> list[forms.BoundField]:
        return [self[f"symptom_{flag.slug}"] for flag in self.red_flags]

    def answers(self) -> dict[int, str]:
        return {rule.pk: self.cleaned_data[f"screen_{rule.slug}"] for rule in self.rules}

    def red_flag_answers(self) -> dict[int, str]:
        return {flag.pk: self.cleaned_data[f"symptom_{flag.slug}"] for flag in self.red_flags}


class ImagingStatusForm(forms.Form):
    imaging_status = forms.ChoiceField(
        label=_("Have you had an X-ray, MRI, ultrasound or CT scan of the painful area?"),
        choices=Intake.ImagingStatus.choices,
        widget=forms.RadioSelect,
    )
    upload = forms.FileField(
        label=_("Upload a report or image (optional)"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.IMAGING_MAX_UPLOAD_MB
        self.fields["upload"].help_text = _(
            "PDF, JPEG or PNG, up to %(limit)s MB each. One file at a time."
        ) % {"limit": limit}
        self.upload_type: str | None = None

    def clean_upload(self) -> UploadedFile | None:
        upload: UploadedFile | None = self.cleaned_data.get("upload")
        if not upload:
            return None
        limit = settings.IMAGING_MAX_UPLOAD_MB
        if (upload.size or 0) > limit * 1024 * 1024:
            raise forms.ValidationError(
                _("This file is larger than %(limit)s MB. Please upload a smaller file.")
                % {"limit": limit}
            )
        self.upload_type = detected_imaging_type(upload)
        if self.upload_type is None:
            raise forms.ValidationError(
                _(
                    "We could not read this file as a PDF, JPEG or PNG. "
                    "Please upload a report or image in one of those."
                )
            )
        return upload


def detected_imaging_type(upload: UploadedFile) -> str | None:
    """What the file really is (PDF, JPEG or PNG), from its content; None otherwise.
    The name and the browser's claimed type are not trusted."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            reader = PdfReader(io.BytesIO(upload.read()))
            if len(reader.pages) < 1:
                return None
            return ImagingFile.Kind.PDF.value
        if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")):
            with Image.open(upload) as image:
                kind = {"JPEG": ImagingFile.Kind.JPEG.value, "PNG": ImagingFile.Kind.PNG.value}.get(
                    image.format or ""
                )
                image.verify()
            return kind
    except (
        PyPdfError,
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
    ):
        return None
    finally:
        upload.seek(0)
    return None


class ImagingStudyForm(forms.Form):
    modality = forms.ChoiceField(
        choices=[("", _("Choose one")), *ImagingStudy.Modality.choices], label=_("Which scan?")
    )
    body_region = ShownNameChoiceField(
        queryset=BodyRegion.objects.all(),
        label=_("Of which area?"),
        empty_label=_("Choose an area"),
    )
    done_on = MonthYearField(label=_("When? (roughly)"))
    facility = forms.CharField(
        label=_("Where? (clinic or hospital, optional)"), required=False, max_length=200
    )

    def clean_done_on(self) -> date | None:
        return _past_date(self.cleaned_data.get("done_on"), what=_("month of the scan"), month=True)


ImagingStudyFormSet = formset_factory(
    ImagingStudyForm, extra=1, can_delete=True, max_num=8, absolute_max=8, validate_max=True
)


class TreatmentOptionsField(forms.ModelMultipleChoiceField):
    """The catalog's options named in the page's language."""

    def label_from_instance(self, obj: TreatmentOption) -> str:
        return obj.shown_name


class GoalsForm(forms.ModelForm[Intake]):
    interested_options = TreatmentOptionsField(
        queryset=TreatmentOption.objects.offered(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Which options are you curious about? (optional)"),
    )
    preferred_days = forms.MultipleChoiceField(
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        label=_("Days that suit you for a consultation"),
    )
    preferred_times = forms.MultipleChoiceField(
        choices=TIMES_OF_DAY, widget=forms.CheckboxSelectMultiple, label=_("Times that suit you")
    )

    class Meta:
        model = Intake
        fields = [
            "goals",
            "interested_options",
            "preferred_days",
            "preferred_times",
            "payment",
            "insurance_carrier",
            "insurance_member_id",
        ]
        labels = {
            "goals": _("What would you like to get back to doing?"),
            "payment": _("How do you expect to pay?"),
            "insurance_carrier": _("Insurance company (optional)"),
            "insurance_member_id": _("Member ID (optional)"),
        }
        widgets = {"goals": forms.Textarea(attrs={"rows": 3}), "payment": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["goals"].required = True
        self.fields["payment"].required = True
        payment = self.fields["payment"]
        if isinstance(payment, forms.ChoiceField):
            payment.choices = Intake.Payment.choices

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("payment") == Intake.Payment.INSURANCE and not data.get("insurance_carrier"):
            self.add_error(
                "insurance_carrier", _("Tell us your insurance company so we can check your cover.")
            )
        return data


class ConsentForm(forms.Form):
    """Step 8: acknowledgements and the typed signature (with a guardian's for a minor)."""

    acknowledged_risks = forms.BooleanField(
        label=_(
            "I understand the risks: infection, bleeding, injury to a nerve or a blood "
            "vessel, an allergic reaction, problems where tissue is taken, and that it may "
            "not work."
        )
    )
    acknowledged_cost = forms.BooleanField(
        label=_("I understand these treatments are usually self-pay and not covered by insurance.")
    )
    acknowledged_regulatory = forms.BooleanField(
        label=_(
            "I understand none of these treatments is FDA-approved for these conditions "
            "and that results vary."
        )
    )
    signature_name = forms.CharField(
        label=_("Type your full legal name to sign"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    guardian_name = forms.CharField(
        label=_("Parent or guardian's full name"), max_length=150, required=False
    )
    guardian_relationship = forms.CharField(
        label=_("Their relationship to the patient"), max_length=80, required=False
    )
    guardian_signature_name = forms.CharField(
        label=_("Parent or guardian: type your full name to sign"), max_length=150, required=False
    )
    consent_version = forms.CharField(widget=forms.HiddenInput, max_length=20)
    # The language of the text shown, so the signature is of exactly that text.
    # (A form sent without it, from a page of before issue 23, showed the English.)
    consent_language = forms.ChoiceField(
        widget=forms.HiddenInput, choices=LANGUAGE_CHOICES, initial="en", required=False
    )

    def __init__(self, *args: Any, minor: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.minor = minor
        error: dict[str, Any] = {"required": _("Please check this box to continue.")}
        for name in ("acknowledged_risks", "acknowledged_cost", "acknowledged_regulatory"):
            self.fields[name].error_messages = error
        if minor:
            for name in ("guardian_name", "guardian_relationship", "guardian_signature_name"):
                self.fields[name].required = True
        else:
            for name in ("guardian_name", "guardian_relationship", "guardian_signature_name"):
                del self.fields[name]

    def clean_consent_language(self) -> str:
        return str(self.cleaned_data.get("consent_language") or "en")


class InformationAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
