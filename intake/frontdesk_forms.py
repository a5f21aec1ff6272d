"""The front desk's forms: picking a slot, cancelling, the day view's date, and the
patient's request to move or cancel a consultation."""

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from intake.models import ConsultationChangeRequest

Day = date  # the field below is called ``date``

# How far the slot and day pages let anyone page ahead or back.
CALENDAR_REACH = timedelta(days=366)


class SlotForm(forms.Form):
    """The slot picked on the booking page (an ISO 8601 instant from the list)."""

    starts_at = forms.DateTimeField(
        label="Time",
        error_messages={
            "required": "Pick one of the free times.",
            "invalid": "Pick one of the free times.",
        },
        widget=forms.HiddenInput,
    )


class CancelForm(forms.Form):
    prefix = "cancel"
    reason = forms.CharField(
        label="Reason for cancelling",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept on the case's history; the patient's e-mail does not include it.",
        error_messages={"required": "Give the reason for cancelling."},
    )


class DayForm(forms.Form):
    """A day on the calendar pages; anything unreadable or too far away is today."""

    date = forms.DateField(
        label="Day",
        required=False,
        widget=forms.DateInput({"type": "date", "class": "form-control"}),
    )

    def day(self) -> Day:
        today = timezone.localdate()
        if not self.is_valid() or self.cleaned_data["date"] is None:
            return today
        chosen: Day = self.cleaned_data["date"]
        if abs(chosen - today) > CALENDAR_REACH:
            return today
        return chosen


class ChangeRequestForm(forms.Form):
    """The patient asks the front desk to move or cancel a booked consultation."""

    prefix = "change"
    kind = forms.ChoiceField(
        label=_("What would you like?"),
        choices=[
            (ConsultationChangeRequest.Kind.RESCHEDULE, _("Move it to another time")),
            (ConsultationChangeRequest.Kind.CANCEL, _("Cancel it")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether to move or cancel it.")},
    )
    message = forms.CharField(
        label=_("Anything the front desk should know (optional)"),
        help_text=_(
            "For example, the days and times that suit you. Please do not "
            "write about your health here."
        ),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
