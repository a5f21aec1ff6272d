"""The eight steps of the intake: for each, its title, its forms and the service that
saves it. The step view (``intake.views.patient.intake_step``) is the same for all."""

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ImproperlyConfigured
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from intake import services
from intake.forms import (
    PAIN_SCALE_ENDS,
    AboutYouForm,
    ComplaintFormSet,
    GoalsForm,
    HealthForm,
    ImagingStatusForm,
    ImagingStudyFormSet,
    InstrumentForm,
    PriorTreatmentFormSet,
    kept_forms,
)
from intake.models import STEP_COUNT, Instrument, Intake, PriorTreatment

Data = Mapping[str, Any] | None


@dataclass
class StepForms:
    """The forms of one step, validated and summarised together."""

    main: forms.BaseForm | None = None
    formset: forms.BaseFormSet[Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def all(self) -> Iterator[forms.BaseForm]:
        if self.main is not None:
            yield self.main
        if self.formset is not None:
            yield from self.formset.forms

    def checked(self) -> Iterator[forms.BaseForm]:
        """The forms whose answers count: a row the patient marked for removal is
        not checked (as Django's formsets do), so a half-cleared row can go."""
        for form in self.all():
            if form.is_bound and "DELETE" in form.fields and form["DELETE"].data:
                continue
            yield form

    def is_valid(self) -> bool:
        valid = [form.is_valid() for form in self.checked()]
        if self.formset is not None:
            valid.append(self.formset.is_valid())
        return all(valid)

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the list at the top of the page; anchors point at
        the field, so a screen reader or a tap goes straight to it."""
        summary: list[tuple[str, str]] = []
        if self.formset is not None:
            summary += [("step-form", str(message)) for message in self.formset.non_form_errors()]
        for form in self.checked():
            for name, errors in form.errors.items():
                if name == NON_FIELD_ERRORS or name not in form.fields:
                    summary += [("step-form", str(message)) for message in errors]
                    continue
                bound = form[name]
                # A group of radios or a month-and-year pair: its first control.
                grouped = isinstance(bound.field.widget, forms.RadioSelect | forms.MultiWidget)
                anchor = f"{bound.auto_id}_0" if grouped else bound.auto_id
                summary += [(anchor, f"{bound.label}: {message}") for message in errors]
        return summary


@dataclass(frozen=True)
class Step:
    number: int
    slug: str
    title: StrOrPromise
    template: str
    build: Callable[[Intake, Data, Mapping[str, UploadedFile] | None], StepForms]
    save: Callable[[Intake, StepForms], None]


def _main(step: StepForms) -> forms.BaseForm:
    if step.main is None:
        raise ImproperlyConfigured("This step has no main form.")
    return step.main


def _formset(step: StepForms) -> forms.BaseFormSet[Any]:
    if step.formset is None:
        raise ImproperlyConfigured("This step has no formset.")
    return step.formset


def _unless_bound(data: Data, initial: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """A bound formset is judged on what was sent alone: with the saved rows as its
    initial data, a re-sent row could look 'unchanged' and be dropped as empty."""
    return initial if data is None else None


def _about_build(intake: Intake, data: Data, files: Any) -> StepForms:
    return StepForms(main=AboutYouForm(data, instance=intake))


def _about_save(intake: Intake, step: StepForms) -> None:
    main = _main(step)
    services.intake_about_save(intake=intake, data=main.cleaned_data)


def _complaints_build(intake: Intake, data: Data, files: Any) -> StepForms:
    initial = [
        {
            "body_region": c.body_region_id,
            "side": c.side,
            "condition": c.condition_id,
            "started_on": c.started_on,
            "onset": c.onset,
            "pain_now": c.pain_now,
            "pain_worst_week": c.pain_worst_week,
        }
        for c in intake.complaints.all()
    ]
    return StepForms(
        formset=ComplaintFormSet(data, initial=_unless_bound(data, initial), prefix="complaint"),
        extra={"pain_ends": PAIN_SCALE_ENDS},
    )


def _complaints_save(intake: Intake, step: StepForms) -> None:
    formset = _formset(step)
    complaints = [
        services.ComplaintAnswer(
            body_region_id=form.cleaned_data["body_region"].pk,
            side=form.cleaned_data["side"],
            condition_id=form.cleaned_data["condition"].pk
            if form.cleaned_data["condition"]
            else None,
            started_on=form.cleaned_data["started_on"],
            onset=form.cleaned_data["onset"],
            pain_now=form.cleaned_data["pain_now"],
            pain_worst_week=form.cleaned_data["pain_worst_week"],
        )
        for form in kept_forms(formset)
    ]
    services.intake_complaints_save(intake=intake, complaints=complaints)


def _function_build(intake: Intake, data: Data, files: Any) -> StepForms:
    instruments = list(
        Instrument.objects.filter(in_intake=True, is_active=True).prefetch_related(
            "items", "options"
        )
    )
    initial = {
        InstrumentForm.field_name(response.instrument, int(position)): str(value)
        for response in intake.responses.select_related("instrument")
        for position, value in response.answers.items()
    }
    return StepForms(main=InstrumentForm(data, initial=initial, instruments=instruments))


def _function_save(intake: Intake, step: StepForms) -> None:
    main = cast(InstrumentForm, step.main)
    services.intake_function_save(intake=intake, answers=main.answers())


def _prior_build(intake: Intake, data: Data, files: Any) -> StepForms:
    saved = {t.kind: t for t in intake.prior_treatments.all()}
    initial = []
    for kind in PriorTreatment.Kind:
        row: dict[str, Any] = {"kind": kind.value}
        if kind in saved:
            t = saved[kind]
            row |= {
                "tried": "yes" if t.tried else "no",
                "last_on": t.last_on,
                "details": t.details,
                "outcome": t.outcome,
            }
        initial.append(row)
    return StepForms(
        formset=PriorTreatmentFormSet(data, initial=_unless_bound(data, initial), prefix="prior")
    )


def _prior_save(intake: Intake, step: StepForms) -> None:
    formset = _formset(step)
    services.intake_prior_treatments_save(
        intake=intake,
        treatments=[
            services.PriorTreatmentAnswer(
                kind=form.cleaned_data["kind"],
                tried=form.cleaned_data["tried"] == "yes",
                last_on=form.cleaned_data.get("last_on"),
                details=form.cleaned_data.get("details", ""),
                outcome=form.cleaned_data.get("outcome", ""),
            )
            for form in formset.forms
        ],
    )


def _health_build(intake: Intake, data: Data, files: Any) -> StepForms:
    rules = services.screening_questions()
    initial: dict[str, Any] = {name: getattr(intake, name) for name in services.HEALTH_FIELDS}
    initial |= {
        f"screen_{a.contraindication.slug}": a.answer
        for a in intake.screening_answers.select_related("contraindication")
    }
    initial |= {
        f"symptom_{a.red_flag.slug}": a.answer
        for a in intake.red_flag_answers.select_related("red_flag")
    }
    return StepForms(
        main=HealthForm(data, initial=initial, rules=rules, red_flags=services.red_flag_questions())
    )


def _health_save(intake: Intake, step: StepForms) -> None:
    main = cast(HealthForm, step.main)
    services.intake_health_save(
        intake=intake,
        answers=main.answers(),
        red_flags=main.red_flag_answers(),
        data=main.cleaned_data,
    )


def _imaging_build(intake: Intake, data: Data, files: Any) -> StepForms:
    initial = [
        {
            "modality": s.modality,
            "body_region": s.body_region_id,
            "done_on": s.done_on,
            "facility": s.facility,
        }
        for s in intake.imaging_studies.all()
    ]
    return StepForms(
        main=ImagingStatusForm(data, files, initial={"imaging_status": intake.imaging_status}),
        formset=ImagingStudyFormSet(data, initial=_unless_bound(data, initial), prefix="study"),
        extra={"files": list(intake.imaging_files.all()), "max_files": settings.IMAGING_MAX_FILES},
    )


def _imaging_save(intake: Intake, step: StepForms) -> None:
    main, formset = cast(ImagingStatusForm, step.main), _formset(step)
    studies = [
        services.ImagingStudyAnswer(
            modality=form.cleaned_data["modality"],
            body_region_id=form.cleaned_data["body_region"].pk,
            done_on=form.cleaned_data["done_on"],
            facility=form.cleaned_data.get("facility", ""),
        )
        for form in kept_forms(formset)
    ]
    # The answers first: if they are refused, no file has been written.
    services.intake_imaging_save(
        intake=intake, status=main.cleaned_data["imaging_status"], studies=studies
    )
    upload = main.cleaned_data.get("upload")
    if upload is not None and main.upload_type is not None:
        services.imaging_file_add(
            intake=intake,
            upload=upload,
            content_type=main.upload_type,
            max_files=settings.IMAGING_MAX_FILES,
        )


def _goals_build(intake: Intake, data: Data, files: Any) -> StepForms:
    return StepForms(main=GoalsForm(data, instance=intake))


def _goals_save(intake: Intake, step: StepForms) -> None:
    main = _main(step)
    data = main.cleaned_data
    services.intake_goals_save(intake=intake, data=data, interested=data["interested_options"])


def _review_build(intake: Intake, data: Data, files: Any) -> StepForms:
    return StepForms()  # the consent form is built by the view: it depends on the request


def _review_save(intake: Intake, step: StepForms) -> None:
    raise AssertionError("Step 8 is submitted through intake_submit, not saved.")


STEPS: dict[int, Step] = {
    step.number: step
    for step in (
        Step(1, "about", _("About you"), "intake/steps/about.html", _about_build, _about_save),
        Step(
            2, "pain", _("Your pain"), "intake/steps/pain.html", _complaints_build, _complaints_save
        ),
        Step(
            3,
            "function",
            _("Function"),
            "intake/steps/function.html",
            _function_build,
            _function_save,
        ),
        Step(
            4,
            "tried",
            _("What you have tried"),
            "intake/steps/tried.html",
            _prior_build,
            _prior_save,
        ),
        Step(
            5,
            "health",
            _("Health history"),
            "intake/steps/health.html",
            _health_build,
            _health_save,
        ),
        Step(
            6, "imaging", _("Imaging"), "intake/steps/imaging.html", _imaging_build, _imaging_save
        ),
        Step(
            7,
            "goals",
            _("Goals and preferences"),
            "intake/steps/goals.html",
            _goals_build,
            _goals_save,
        ),
        Step(
            8,
            "review",
            _("Review and consent"),
            "intake/steps/review.html",
            _review_build,
            _review_save,
        ),
    )
}
if len(STEPS) != STEP_COUNT:
    raise ImproperlyConfigured("The intake must define every step.")
