"""The care pages' forms. They check what a form can (types, ranges, choices);
the services check the rules."""

from typing import Any

from django import forms

from care.models import TreatmentPlan
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
