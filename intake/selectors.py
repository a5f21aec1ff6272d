"""Reads of an intake that pages share: the summary a patient reviews before signing,
sees after submitting, and a physician reads."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects

from intake.models import (
    Case,
    CaseEvent,
    CaseFlag,
    Complaint,
    ImagingFile,
    ImagingStudy,
    InformationRequest,
    Intake,
    PriorTreatment,
    QuestionnaireResponse,
    RedFlagAnswer,
    ReviewDecision,
    ScreeningAnswer,
)
from treatments.models import TreatmentOption


@dataclass(frozen=True)
class IntakeSummary:
    intake: Intake
    complaints: list[Complaint]
    responses: list[QuestionnaireResponse]
    prior_treatments: list[PriorTreatment]
    screening_answers: list[ScreeningAnswer]
    red_flag_answers: list[RedFlagAnswer]
    imaging_studies: list[ImagingStudy]
    imaging_files: list[ImagingFile]
    interested_options: list[TreatmentOption]

    @property
    def tried(self) -> list[PriorTreatment]:
        return [t for t in self.prior_treatments if t.tried]

    @property
    def screening_positive(self) -> list[ScreeningAnswer]:
        return [a for a in self.screening_answers if a.answer != ScreeningAnswer.Answer.NO]

    @property
    def red_flags_positive(self) -> list[RedFlagAnswer]:
        return [a for a in self.red_flag_answers if a.answer != ScreeningAnswer.Answer.NO]


def intake_summary(intake: Intake) -> IntakeSummary:
    """Everything on the intake, in a fixed number of queries whatever its size."""
    lookups: list[Any] = [
        Prefetch(
            "complaints", queryset=Complaint.objects.select_related("body_region", "condition")
        ),
        Prefetch("responses", queryset=QuestionnaireResponse.objects.select_related("instrument")),
        Prefetch(
            "screening_answers", queryset=ScreeningAnswer.objects.select_related("contraindication")
        ),
        Prefetch("red_flag_answers", queryset=RedFlagAnswer.objects.select_related("red_flag")),
        Prefetch("imaging_studies", queryset=ImagingStudy.objects.select_related("body_region")),
        "prior_treatments",
        "imaging_files",
        "interested_options",
    ]
    prefetch_related_objects([intake], *lookups)
    loaded = intake
    order = {kind: n for n, kind in enumerate(PriorTreatment.Kind.values)}
    return IntakeSummary(
        intake=loaded,
        complaints=list(loaded.complaints.all()),
        responses=list(loaded.responses.all()),
        prior_treatments=sorted(loaded.prior_treatments.all(), key=lambda t: order[t.kind]),
        screening_answers=list(loaded.screening_answers.all()),
        red_flag_answers=list(loaded.red_flag_answers.all()),
        imaging_studies=list(loaded.imaging_studies.all()),
        imaging_files=list(loaded.imaging_files.all()),
        interested_options=list(loaded.interested_options.all()),
    )


@dataclass(frozen=True)
class CaseReview:
    """What the case page shows beside the intake: flags with their rules, the
    decisions, the questions to the patient, the history and the earlier cases."""

    flags: list[CaseFlag]
    decisions: list[ReviewDecision]
    requests: list[InformationRequest]
    events: list[CaseEvent]
    earlier: list[Case]

    @property
    def latest_decision(self) -> ReviewDecision | None:
        return self.decisions[-1] if self.decisions else None


def _decisions() -> Any:
    return Prefetch(
        "decisions",
        queryset=ReviewDecision.objects.select_related(
            "physician__physician_profile", "imaging_region"
        ).prefetch_related("options"),
    )


def case_review(case: Case) -> CaseReview:
    """In a fixed number of queries, however long the case's history."""
    lookups: list[Any] = [
        Prefetch(
            "flags",
            queryset=CaseFlag.objects.select_related("contraindication").prefetch_related(
                "options"
            ),
        ),
        _decisions(),
        Prefetch(
            "information_requests",
            queryset=InformationRequest.objects.select_related("asked_by__physician_profile"),
        ),
        Prefetch("events", queryset=CaseEvent.objects.select_related("actor__physician_profile")),
    ]
    prefetch_related_objects([case], *lookups)
    loaded = case
    earlier = list(
        Case.objects.filter(patient_id=case.patient_id)
        .exclude(pk=case.pk)
        .select_related("body_region", "main_complaint__condition")
        .prefetch_related(_decisions())
        .order_by("-created_at")
    )
    return CaseReview(
        flags=list(loaded.flags.all()),
        decisions=list(loaded.decisions.all()),
        requests=list(loaded.information_requests.all()),
        events=list(loaded.events.all()),
        earlier=earlier,
    )


def patient_decisions(case: Case) -> list[ReviewDecision]:
    """The decisions on a case the patient reads, with the physician's name."""
    return list(
        case.decisions.select_related("physician__physician_profile").prefetch_related("options")
    )


def red_flag_advice(intake: Intake) -> list[str]:
    """What the patient is told about the red-flag symptoms they answered 'yes' or
    'not sure' to, urgent first. Shown on every page of their intake from then on: a
    patient who is not sure about a stroke or a septic joint needs the advice as much
    as one who is sure."""
    answers = intake.red_flag_answers.exclude(answer=ScreeningAnswer.Answer.NO).select_related(
        "red_flag"
    )
    ordered = sorted(answers, key=lambda a: (a.red_flag.raises_priority, a.red_flag.display_order))
    return [a.red_flag.shown_patient_advice for a in ordered]
