"""One function per FHIR resource we emit, from our models to a validated R4
resource, by what the resource is about: ``people``, ``answers`` (what the patient
told us), ``care`` (what the clinic did) and ``history`` (who changed what), all on
``base`` (validation through the R4B models, stable ids, references, codings)."""

from records.fhir.builders.answers import (
    allergy,
    condition,
    condition_id,
    consent,
    imaging_document,
    intake_response,
    medication_statement,
    pain_score,
    questionnaire,
    questionnaire_id,
    questionnaire_response,
    score,
    vital_signs,
)
from records.fhir.builders.base import (
    Resource,
    coding,
    concept,
    patient_id,
    ref,
    stable_id,
    validated,
)
from records.fhir.builders.care import (
    appointment,
    care_plan,
    estimate_document,
    flag,
    procedures,
    review_task,
)
from records.fhir.builders.history import history_agent, provenance
from records.fhir.builders.people import patient, practitioner, related_people

__all__ = [
    "Resource",
    "allergy",
    "appointment",
    "care_plan",
    "coding",
    "concept",
    "condition",
    "condition_id",
    "consent",
    "estimate_document",
    "flag",
    "history_agent",
    "imaging_document",
    "intake_response",
    "medication_statement",
    "pain_score",
    "patient",
    "patient_id",
    "practitioner",
    "procedures",
    "provenance",
    "questionnaire",
    "questionnaire_id",
    "questionnaire_response",
    "ref",
    "related_people",
    "review_task",
    "score",
    "stable_id",
    "validated",
    "vital_signs",
]
