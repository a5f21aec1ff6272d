"""The follow-up questionnaire's form: the intake's questionnaires (the same form
class, built from the instruments' data), the global question and the complication
questions; and the front desk's call result."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from care.models import FollowUpCall, FollowUpResponse
from care.services.followups import COMPLICATIONS, FollowUpAnswers
from intake.forms import YES_NO, InstrumentForm

GLOBAL_QUESTION = _("Compared with before the treatment, how is the treated area now?")


class FollowUpForm(InstrumentForm):
    global_change = forms.TypedChoiceField(
        label=GLOBAL_QUESTION,
        choices=[(str(v), label) for v, label in reversed(FollowUpResponse.GlobalChange.choices)],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Please choose an answer.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, question in COMPLICATIONS.items():
            self.fields[name] = forms.ChoiceField(
                label=question,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={"required": _("Please answer yes or no.")},
            )

    def complication_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in COMPLICATIONS]

    def followup_answers(self) -> FollowUpAnswers:
        by_pk = self.answers()
        return FollowUpAnswers(
            instruments={i.slug: by_pk[i.pk] for i in self.instruments},
            global_change=self.cleaned_data["global_change"],
            **{name: self.cleaned_data[name] == "yes" for name in COMPLICATIONS},
        )


class PreferencesForm(forms.Form):
    texts_agreed = forms.BooleanField(
        required=False, label=_("Also send me a text message when a questionnaire is waiting")
    )
    opted_out = forms.BooleanField(
        required=False, label=_("I do not want to receive follow-up questionnaires")
    )


class CallForm(forms.Form):
    result = forms.ChoiceField(choices=FollowUpCall.Result.choices, label="Result of the call")
    note = forms.CharField(max_length=300, required=False, label="Note (no health details)")
