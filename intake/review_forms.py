"""The physician's side: the queue's filters and the forms behind each action on a case."""

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from clinic.models import User
from clinic.roles import Role, role_members
from intake.models import Case, CaseFlag, ImagingStudy, ReviewDecision
from treatments.models import BodyRegion, Contraindication, Priority, TreatmentOption

# Sorting is a whitelist: a name in the URL picks one of these orderings, nothing else.
QUEUE_ORDERINGS: dict[str, tuple[str, tuple[str, ...]]] = {
    # Priority, then the longest waiting first.
    "priority": ("Priority", ("priority", "waiting_since", "pk")),
    "waiting": ("Longest waiting", ("waiting_since", "pk")),
    "newest": ("Newest first", ("-created_at", "-pk")),
    "reference": ("Reference", ("reference",)),
}


class CaseFilter(django_filters.FilterSet):
    """The queue's filters. Values that are not on the lists are reported on the
    form and ignored, never passed to the database."""

    state = django_filters.ChoiceFilter(
        label="Status", choices=Case.State.choices, empty_label="Open (all)"
    )
    body_region = django_filters.ModelChoiceFilter(
        label="Body region", queryset=BodyRegion.objects.all(), empty_label="Any region"
    )
    priority = django_filters.ChoiceFilter(
        label="Priority", choices=Priority.choices, empty_label="Any priority"
    )
    flags = django_filters.ChoiceFilter(
        label="Flags",
        choices=[("any", "Any flag"), ("hard_stop", "Hard stop"), ("none", "No flags")],
        empty_label="With or without",
        method="filter_flags",
    )
    sort = django_filters.ChoiceFilter(
        label="Sort by",
        choices=[(key, label) for key, (label, _) in QUEUE_ORDERINGS.items()],
        empty_label=None,
        method="filter_sort",
    )

    class Meta:
        model = Case
        fields = ["state", "body_region", "priority"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"

    def filter_queryset(self, queryset: QuerySet[Case]) -> QuerySet[Case]:
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.open()  # type: ignore[attr-defined]
        ordered = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("sort"):
            ordered = ordered.order_by(*QUEUE_ORDERINGS["priority"][1])
        return ordered

    def filter_flags(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        flags = CaseFlag.objects.filter(case=OuterRef("pk"))
        if value == "hard_stop":
            return queryset.filter(
                Exists(flags.filter(severity=Contraindication.Severity.HARD_STOP))
            )
        if value == "any":
            return queryset.filter(Exists(flags))
        return queryset.filter(~Exists(flags))

    def filter_sort(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        return queryset.order_by(*QUEUE_ORDERINGS.get(value, QUEUE_ORDERINGS["priority"])[1])


def physicians() -> QuerySet[User]:
    return (
        role_members(Role.PHYSICIAN)
        .select_related("physician_profile")
        .order_by("physician_profile__display_name", "full_name")
    )


class PhysicianChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        profile = getattr(obj, "physician_profile", None)
        return profile.display_name if profile else str(obj.full_name)


class ReassignForm(forms.Form):
    prefix = "reassign"

    physician = PhysicianChoiceField(
        label="Reassign to", queryset=User.objects.none(), empty_label="Choose a physician"
    )
    reason = forms.CharField(
        label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, current: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["physician"]
        assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
        field.queryset = physicians().exclude(pk=current.pk)


class QuestionForm(forms.Form):
    prefix = "ask"

    question = forms.CharField(
        label="Question for the patient",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The patient reads this on their intake page and answers there.",
    )


class CandidateForm(forms.Form):
    prefix = "candidate"

    # Options are listed by name only: none of the offered preparations is dosed by
    # body weight (a per-kg cell count belongs to culture-expanded cells under an FDA
    # investigational new drug application, which the catalog does not offer).
    options = forms.ModelMultipleChoiceField(
        label="Recommended options to discuss",
        queryset=TreatmentOption.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one treatment option to discuss."},
    )
    consultation_type = forms.ChoiceField(
        label="Consultation",
        choices=ReviewDecision.ConsultationType.choices,
        widget=forms.RadioSelect,
        initial=ReviewDecision.ConsultationType.NEW,
    )
    consultation_mode = forms.ChoiceField(
        label="In person or video",
        choices=ReviewDecision.ConsultationMode.choices,
        widget=forms.RadioSelect,
        initial=ReviewDecision.ConsultationMode.IN_PERSON,
    )
    urgency = forms.ChoiceField(
        label="How soon to book",
        choices=ReviewDecision.Urgency.choices,
        widget=forms.RadioSelect,
        initial=ReviewDecision.Urgency.ROUTINE,
    )
    override_reason = forms.CharField(
        label="Reason to override a hard stop",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when a hard-stop flag applies to an option you chose.",
    )
    message_to_patient = forms.CharField(
        label="Message to the patient (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    internal_note = forms.CharField(
        label="Internal note (clinic staff only; optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, hard_stops: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not hard_stops:
            del self.fields["override_reason"]
        field = self.fields["options"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101
        field.queryset = TreatmentOption.objects.offered()


class ImagingRequestForm(forms.Form):
    prefix = "imaging"

    modality = forms.ChoiceField(
        label="Which scan", choices=ImagingStudy.Modality.choices, widget=forms.RadioSelect
    )
    region = forms.ModelChoiceField(
        label="Of which region", queryset=BodyRegion.objects.all(), empty_label=None
    )
    message_to_patient = forms.CharField(
        label="Message to the patient (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E.g. 'weight-bearing views' or where to have it done.",
    )
    internal_note = forms.CharField(
        label="Internal note (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NotCandidateForm(forms.Form):
    prefix = "decline"

    reason = forms.CharField(
        label="Reason (kept in the record)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    message_to_patient = forms.CharField(
        label="Message to the patient",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    internal_note = forms.CharField(
        label="Internal note (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
