"""Reads of an intake that pages share: the summary a patient reviews before signing,
sees after submitting, and a physician reads."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from clinic.models import User
from clinic.roles import Role, role_of
from intake.models import (
    Complaint,
    ImagingFile,
    ImagingStudy,
    Intake,
    PriorTreatment,
    QuestionnaireResponse,
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
    imaging_studies: list[ImagingStudy]
    imaging_files: list[ImagingFile]
    interested_options: list[TreatmentOption]

    @property
    def tried(self) -> list[PriorTreatment]:
        return [t for t in self.prior_treatments if t.tried]

    @property
    def screening_positive(self) -> list[ScreeningAnswer]:
        return [a for a in self.screening_answers if a.answer != ScreeningAnswer.Answer.NO]


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
        Prefetch("imaging_studies", queryset=ImagingStudy.objects.select_related("body_region")),
        "prior_treatments",
        "imaging_files",
        "interested_options",
    ]
    loaded = Intake.objects.prefetch_related(*lookups).get(pk=intake.pk)
    order = {kind: n for n, kind in enumerate(PriorTreatment.Kind.values)}
    return IntakeSummary(
        intake=loaded,
        complaints=list(loaded.complaints.all()),
        responses=list(loaded.responses.all()),
        prior_treatments=sorted(loaded.prior_treatments.all(), key=lambda t: order[t.kind]),
        screening_answers=list(loaded.screening_answers.all()),
        imaging_studies=list(loaded.imaging_studies.all()),
        imaging_files=list(loaded.imaging_files.all()),
        interested_options=list(loaded.interested_options.all()),
    )


def can_see_intake(user: User, intake: Intake) -> bool:
    """The patient themself, physicians and clinic admins. Front desk schedules
    without the clinical record. (Issue 6 narrows physicians to their own cases'
    reviewers and records each access.)"""
    role = role_of(user)
    if role == Role.PATIENT:
        return intake.patient_id == user.pk
    return role in {Role.PHYSICIAN, Role.CLINIC_ADMIN}
