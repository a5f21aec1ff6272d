"""The care pages' forms. They check what a form can (types, ranges, choices);
the services check the rules."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from care.models import ProcedureRecord, TreatmentPlan
from intake.models import Complaint
from treatments.models import BodyRegion, Condition, TreatmentOption


class PlanForm(forms.Form):
    options = forms.ModelMultipleChoiceField(
        queryset=TreatmentOption.objects.offered(),
        widget=forms.CheckboxSelectMultiple,
        label="Treatment options",
    )
    body_region = forms.ModelChoiceField(queryset=BodyRegion.objects.all(), label="Body region")
    side = forms.ChoiceField(choices=Complaint.Side.choices)
    condition = forms.ModelChoiceField(
        queryset=Condition.objects.filter(is_active=True).select_related("body_region"),
        required=False,
        label="Condition",
    )
    icd10_code = forms.CharField(
        label="ICD-10-CM code",
        max_length=8,
        help_text="The full code with laterality, e.g. M17.12 (left knee osteoarthritis).",
    )
    sessions = forms.IntegerField(min_value=1, max_value=12, initial=1)
    weeks_between_sessions = forms.IntegerField(
        min_value=0, max_value=52, initial=0, label="Weeks between sessions"
    )
    guidance = forms.ChoiceField(
        choices=TreatmentPlan.Guidance.choices, widget=forms.RadioSelect, label="Image guidance"
    )
    harvest_source = forms.ChoiceField(
        choices=[("", "No harvest"), *TreatmentPlan.HarvestSource.choices],
        required=False,
        label="Harvest from",
    )
    note_to_patient = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Note to the patient",
        help_text="Plain words; the patient reads this with the plan.",
    )

    @classmethod
    def initial_from(cls, plan: TreatmentPlan) -> dict[str, Any]:
        return {
            "options": [p.option_id for p in plan.planned.all()],
            "body_region": plan.body_region_id,
            "side": plan.side,
            "condition": plan.condition_id,
            "icd10_code": plan.icd10_code,
            "sessions": plan.sessions,
            "weeks_between_sessions": plan.weeks_between_sessions,
            "guidance": plan.guidance,
            "harvest_source": plan.harvest_source,
            "note_to_patient": plan.note_to_patient,
        }


class PlanItemForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=99)
    charge = forms.CharField(
        max_length=20, label="Charge (USD)", help_text="For this quantity, per session."
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Reason for a changed charge",
    )


class ReviseForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why the plan changes",
        help_text="Kept with the new version; the patient's estimate is re-issued from it.",
    )


class IssueForm(forms.Form):
    separately_scheduled = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Services scheduled separately",
        help_text="E.g. imaging or laboratory tests another provider will bill.",
    )


class InstructionForm(forms.Form):
    text = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Instruction",
        help_text='Follows the date: "From Tuesday 3 March, ..."',
    )
    days_from_procedure = forms.IntegerField(
        min_value=-90, max_value=30, label="Days from the procedure (-7: a week before)"
    )


class ProcedureRecordForm(forms.Form):
    """What was done, entered on the day; the option is one of the plan's."""

    performed_time = forms.TimeField(
        label="Time of the procedure",
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="On the day it was booked for.",
    )
    option = forms.ModelChoiceField(queryset=TreatmentOption.objects.none(), label="Treatment")
    body_region = forms.ModelChoiceField(queryset=BodyRegion.objects.all(), label="Body region")
    side = forms.ChoiceField(choices=Complaint.Side.choices)
    guidance = forms.ChoiceField(
        choices=TreatmentPlan.Guidance.choices, widget=forms.RadioSelect, label="Image guidance"
    )
    volume_injected_ml = forms.DecimalField(
        label="Volume injected (mL)", min_value=Decimal("0.1"), max_value=999, decimal_places=1
    )
    harvest_site = forms.ChoiceField(
        choices=[("", "No harvest"), *ProcedureRecord.HarvestSite.choices],
        required=False,
        label="Harvest site (bone marrow or fat only)",
    )
    volume_harvested_ml = forms.DecimalField(
        label="Volume harvested (mL)",
        min_value=Decimal("0.1"),
        max_value=999,
        decimal_places=1,
        required=False,
    )
    nucleated_cells_millions = forms.DecimalField(
        label="Total nucleated cells (millions)",
        min_value=0,
        max_value=99_999_999,
        decimal_places=1,
        required=False,
        help_text="Only where a laboratory counted them.",
    )
    product_name = forms.CharField(
        max_length=150, required=False, label="Donor tissue product (allograft only)"
    )
    manufacturer = forms.CharField(max_length=150, required=False)
    lot_number = forms.CharField(max_length=60, required=False, label="Lot or serial number")
    lot_expires_on = forms.DateField(
        required=False, label="Expiry date", widget=forms.DateInput(attrs={"type": "date"})
    )
    complication = forms.ChoiceField(
        choices=ProcedureRecord.Complication.choices,
        initial=ProcedureRecord.Complication.NONE,
        widget=forms.RadioSelect,
        label="Complication at the time",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
        label="Note (for the record; the patient does not see it)",
    )

    def __init__(self, *args: Any, plan: TreatmentPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["option"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = TreatmentOption.objects.filter(
            pk__in=plan.planned.values("option_id")
        ).order_by("ladder_step")

    @classmethod
    def initial_from(cls, plan: TreatmentPlan, starts_at: datetime) -> dict[str, Any]:
        first = plan.planned.order_by("option__ladder_step").first()
        return {
            "performed_time": timezone.localtime(starts_at).time().replace(second=0),
            "option": first.option_id if first else None,
            "body_region": plan.body_region_id,
            "side": plan.side,
            "guidance": plan.guidance,
            "complication": ProcedureRecord.Complication.NONE,
        }


class LotSearchForm(forms.Form):
    lot = forms.CharField(
        max_length=60,
        label="Lot or serial number",
        help_text="As printed on the product's label; letters' case and spaces around it "
        "do not matter.",
    )
