"""What the patient told us: complaints, answers and scores, vital signs, health
history, consent and uploads."""

import base64
import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from intake.models import (
    Complaint,
    ImagingFile,
    Instrument,
    Intake,
    QuestionnaireResponse,
)
from records.fhir import codes
from records.fhir.builders.base import (
    Resource,
    _meta,
    _quantity,
    _site_url,
    _when,
    coding,
    concept,
    patient_id,
    ref,
    stable_id,
    validated,
)
from records.fhir.builders.people import _contact_id
from records.fhir.codes import ours
from treatments.coding import billable_code
from treatments.models import Condition as TreatmentCondition


def condition_id(complaint: Complaint) -> str:
    return stable_id("complaint", complaint.intake.public_id, complaint.pk)


def _billable_code(named: TreatmentCondition | None, side: str) -> str | None:
    """``treatments.coding.billable_code``, read from the condition's codes when the
    export's selector prefetched them (one query per batch, not one per complaint)."""
    if named is not None and "codes" in getattr(named, "_prefetched_objects_cache", {}):
        return next((row.code for row in named.codes.all() if row.side == side), None)
    return billable_code(named, side)


def condition(complaint: Complaint, *, recorded: datetime | None) -> Resource:
    """US Core Condition (health concern) for one complaint: the billable ICD-10-CM
    code its condition and side imply, else the condition's category code, else only
    the patient's words; body site with laterality; onset as the patient gave it."""
    named = complaint.condition
    icd10 = _billable_code(named, complaint.side) or (named.icd10_code if named else None)
    where = str(complaint)
    code: dict[str, Any] = {"text": named.name if named else f"Pain: {where.lower()}"}
    if icd10:
        code["coding"] = [coding(codes.ICD10_CM, icd10, named.name if named else "")]
    region = complaint.body_region
    data: Resource = {
        "resourceType": "Condition",
        "id": condition_id(complaint),
        "meta": _meta("Condition"),
        "clinicalStatus": concept(codes.CONDITION_CLINICAL, "active", "Active"),
        # What a patient reports is unconfirmed until a physician charts it.
        "verificationStatus": concept(codes.CONDITION_VERIFICATION, "unconfirmed", "Unconfirmed"),
        "category": [concept(codes.US_CORE_CONDITION_CATEGORY, "health-concern", "Health Concern")],
        "code": code,
        "bodySite": [
            {"coding": [coding(ours("body-region"), region.slug, region.name)], "text": where}
        ],
        "subject": ref("Patient", patient_id(complaint.intake.patient)),
        "onsetDateTime": complaint.started_on.isoformat(),
        "note": [{"text": f"Onset: {complaint.get_onset_display().lower()}."}],
    }
    if complaint.side in codes.LATERALITY:
        side_code, side_display = codes.LATERALITY[complaint.side]
        data["extension"] = [
            {
                "url": codes.our_extension("laterality"),
                "valueCodeableConcept": concept(codes.SNOMED, side_code, side_display),
            }
        ]
    if recorded is not None:
        data["recordedDate"] = recorded.isoformat()
    return validated(data)


def pain_score(complaint: Complaint, *, effective: datetime) -> Resource:
    """The 0-10 pain now (LOINC 72514-3), with the week's worst as a component."""
    code, display = codes.PAIN_SEVERITY
    return validated(
        {
            "resourceType": "Observation",
            "id": stable_id("pain", complaint.intake.public_id, complaint.pk),
            "meta": _meta("score"),
            "status": "final",
            "category": [concept(codes.OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": concept(codes.LOINC, code, display),
            "subject": ref("Patient", patient_id(complaint.intake.patient)),
            "focus": [ref("Condition", condition_id(complaint))],
            "effectiveDateTime": effective.isoformat(),
            "valueQuantity": _quantity(complaint.pain_now, "score", "{score}"),
            "component": [
                {
                    "code": concept(
                        ours("score"), "pain-worst-week", "Worst pain in the last week"
                    ),
                    "valueQuantity": _quantity(complaint.pain_worst_week, "score", "{score}"),
                }
            ],
        }
    )


VITAL_SIGNS = {
    "height": (codes.BODY_HEIGHT, "cm", "cm"),
    "weight": (codes.BODY_WEIGHT, "kg", "kg"),
    "bmi": (codes.BMI, "kg/m2", "kg/m2"),
}


def vital_signs(intake: Intake, *, effective: datetime) -> Iterator[Resource]:
    """US Core body height, weight and BMI, as the patient gave them (stored metric)."""
    values = {"height": intake.height_cm, "weight": intake.weight_kg, "bmi": intake.bmi}
    for kind, value in values.items():
        if value is None:
            continue
        (code, display), unit, ucum = VITAL_SIGNS[kind]
        yield validated(
            {
                "resourceType": "Observation",
                "id": stable_id(kind, intake.public_id),
                "meta": _meta(kind),
                "status": "final",
                "category": [concept(codes.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
                "code": concept(codes.LOINC, code, display),
                "subject": ref("Patient", patient_id(intake.patient)),
                "effectiveDateTime": effective.isoformat(),
                "performer": [ref("Patient", patient_id(intake.patient))],
                "valueQuantity": _quantity(value, unit, ucum),
            }
        )


def questionnaire_id(instrument: Instrument) -> str:
    return stable_id("instrument", instrument.slug, instrument.version)


def _scale(instrument: Instrument) -> str:
    return ours(f"instrument-scale/{instrument.slug}")


def questionnaire(instrument: Instrument) -> Resource:
    """One of the clinic's instruments as a Questionnaire (items and answer scale)."""
    options = [
        {"valueCoding": coding(_scale(instrument), str(option.value), option.label)}
        for option in instrument.options.all()
    ]
    return validated(
        {
            "resourceType": "Questionnaire",
            "id": questionnaire_id(instrument),
            "url": codes.our_questionnaire(instrument.slug),
            "version": instrument.version,
            "name": "".join(word.capitalize() for word in instrument.slug.split("-")),
            "title": instrument.name,
            "status": "active" if instrument.is_active else "retired",
            "subjectType": ["Patient"],
            "description": instrument.instructions or instrument.score_label,
            "copyright": instrument.licence_note,
            "item": [
                {
                    "linkId": str(item.position),
                    "text": item.text,
                    "type": "choice",
                    "required": True,
                    "answerOption": options,
                }
                for item in instrument.items.all()
            ],
        }
    )


def _response_id(response: QuestionnaireResponse) -> str:
    return stable_id("response", response.intake.public_id, response.instrument.slug)


def questionnaire_response(response: QuestionnaireResponse) -> Resource:
    instrument = response.instrument
    labels = {option.value: option.label for option in instrument.options.all()}
    items = []
    for item in instrument.items.all():
        value = response.answers.get(str(item.position))
        if value is None:
            continue
        answer = coding(_scale(instrument), str(value), labels.get(int(value), ""))
        items.append(
            {"linkId": str(item.position), "text": item.text, "answer": [{"valueCoding": answer}]}
        )
    subject = ref("Patient", patient_id(response.intake.patient))
    data: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": _response_id(response),
        "meta": _meta("QuestionnaireResponse"),
        "questionnaire": f"{codes.our_questionnaire(instrument.slug)}|{instrument.version}",
        "status": "completed",
        "subject": subject,
        "authored": response.answered_at.isoformat(),
        "author": subject,
        "source": subject,
    }
    if items:
        data["item"] = items
    return validated(data)


def score(response: QuestionnaireResponse) -> Resource:
    """The instrument's score (screening-assessment style), derived from the answers."""
    instrument = response.instrument
    return validated(
        {
            "resourceType": "Observation",
            "id": stable_id("score", response.intake.public_id, instrument.slug),
            "meta": _meta("score"),
            "status": "final",
            "category": [concept(codes.OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": concept(ours("instrument"), instrument.slug, instrument.name),
            "subject": ref("Patient", patient_id(response.intake.patient)),
            "effectiveDateTime": response.answered_at.isoformat(),
            "valueQuantity": _quantity(response.score, "score", "{score}"),
            "derivedFrom": [ref("QuestionnaireResponse", _response_id(response))],
            "note": [{"text": instrument.score_label}],
        }
    )


def _answer(system: str, choice: str, label: str) -> list[dict[str, Any]]:
    return [{"valueCoding": coding(system, choice, label)}]


def intake_response(intake: Intake) -> Resource:
    """The intake's own sections (screening and red-flag answers, what was tried,
    imaging the patient has, other conditions, goals) as one QuestionnaireResponse."""
    answers = ours("screening-answer")
    groups: list[dict[str, Any]] = []
    screening = [
        {
            "linkId": f"screening.{row.contraindication.slug}",
            "text": row.contraindication.screening_question,
            "answer": _answer(answers, row.answer, row.get_answer_display()),
        }
        for row in intake.screening_answers.all()
    ]
    red_flags = [
        {
            "linkId": f"red-flag.{row.red_flag.slug}",
            "text": row.red_flag.screening_question,
            "answer": _answer(answers, row.answer, row.get_answer_display()),
        }
        for row in intake.red_flag_answers.all()
    ]
    tried = []
    for prior in intake.prior_treatments.all():
        if not prior.tried:
            continue
        parts: list[dict[str, Any]] = [
            {"linkId": f"prior.{prior.kind}.tried", "answer": [{"valueBoolean": True}]}
        ]
        if prior.last_on:
            parts.append(
                {
                    "linkId": f"prior.{prior.kind}.last",
                    "answer": [{"valueDate": _when(prior.last_on)}],
                }
            )
        if prior.outcome:
            parts.append(
                {
                    "linkId": f"prior.{prior.kind}.outcome",
                    "answer": _answer(
                        ours("prior-treatment-outcome"), prior.outcome, prior.get_outcome_display()
                    ),
                }
            )
        if prior.details:
            parts.append(
                {
                    "linkId": f"prior.{prior.kind}.details",
                    "answer": [{"valueString": prior.details}],
                }
            )
        tried.append(
            {"linkId": f"prior.{prior.kind}", "text": prior.get_kind_display(), "item": parts}
        )
    studies = [
        {
            "linkId": f"imaging.{n}",
            "text": str(study),
            "item": [
                {"linkId": f"imaging.{n}.done", "answer": [{"valueDate": _when(study.done_on)}]},
            ]
            + (
                [{"linkId": f"imaging.{n}.where", "answer": [{"valueString": study.facility}]}]
                if study.facility
                else []
            ),
        }
        for n, study in enumerate(intake.imaging_studies.all(), start=1)
    ]
    for link, text, items in (
        ("screening", "Health screening", screening),
        ("red-flags", "Symptoms that need prompt attention", red_flags),
        ("prior-treatments", "Treatments already tried", tried),
        ("imaging", "Imaging already done", studies),
    ):
        if items:
            groups.append({"linkId": link, "text": text, "item": items})
    for link, text, value in (
        ("other-conditions", "Other medical conditions", intake.other_conditions),
        ("goals", "Goals", intake.goals),
    ):
        if value:
            groups.append({"linkId": link, "text": text, "answer": [{"valueString": value}]})
    subject = ref("Patient", patient_id(intake.patient))
    data: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": stable_id("intake-response", intake.public_id),
        "meta": _meta("QuestionnaireResponse"),
        "identifier": {"system": codes.our_identifier("intake"), "value": str(intake.public_id)},
        "questionnaire": codes.our_questionnaire("intake"),
        "status": "completed" if intake.submitted_at else "in-progress",
        "subject": subject,
        "authored": (intake.submitted_at or intake.updated_at).isoformat(),
        "author": subject,
        "source": subject,
    }
    if groups:
        data["item"] = groups
    return validated(data)


def allergy(intake: Intake) -> Resource | None:
    """US Core AllergyIntolerance as the patient wrote it (free text, not coded)."""
    if not intake.allergies.strip():
        return None
    subject = ref("Patient", patient_id(intake.patient))
    return validated(
        {
            "resourceType": "AllergyIntolerance",
            "id": stable_id("allergies", intake.public_id),
            "meta": _meta("AllergyIntolerance"),
            "clinicalStatus": concept(codes.ALLERGY_CLINICAL, "active", "Active"),
            "verificationStatus": concept(codes.ALLERGY_VERIFICATION, "unconfirmed", "Unconfirmed"),
            "code": {"text": intake.allergies},
            "patient": subject,
            "recordedDate": _when(intake.submitted_at),
            "asserter": subject,
        }
    )


def medication_statement(intake: Intake) -> Resource | None:
    """The patient's current medicines as they wrote them (one free-text statement)."""
    if not intake.current_medicines.strip():
        return None
    subject = ref("Patient", patient_id(intake.patient))
    return validated(
        {
            "resourceType": "MedicationStatement",
            "id": stable_id("medicines", intake.public_id),
            "status": "active",
            "medicationCodeableConcept": {"text": intake.current_medicines},
            "subject": subject,
            "dateAsserted": _when(intake.submitted_at),
            "informationSource": subject,
        }
    )


def consent(intake: Intake) -> Resource | None:
    """The signed consent: the version, the SHA-256 of the exact text shown (as an
    identifier; FHIR's Attachment.hash is SHA-1 and is given too), when, and who signed."""
    document = intake.consent
    if document is None or intake.signed_at is None:
        return None
    subject = ref("Patient", patient_id(intake.patient))
    performers = [subject | {"display": intake.signature_name}]
    if intake.guardian_signature_name and intake.guardian_name:
        performers.append(
            ref(
                "RelatedPerson",
                _contact_id(intake, "guardian"),
                intake.guardian_signature_name,
            )
        )
    attachment: dict[str, Any] = {
        "contentType": "text/plain",
        "title": f"{document.title} (version {document.version})",
        "creation": document.published_at.isoformat(),
    }
    if document.digest(document.body) == intake.consent_sha256:
        sha1 = hashlib.sha1(document.body.encode(), usedforsecurity=False).digest()
        attachment["hash"] = base64.b64encode(sha1).decode()
    return validated(
        {
            "resourceType": "Consent",
            "id": stable_id("consent", intake.public_id),
            "identifier": [
                {
                    "system": codes.our_identifier("consent-text-sha256"),
                    "value": intake.consent_sha256,
                }
            ],
            "status": "active",
            "scope": concept(codes.CONSENT_SCOPE, "treatment", "Treatment"),
            "category": [concept(codes.LOINC, *codes.PATIENT_CONSENT)],
            "patient": subject,
            "dateTime": intake.signed_at.isoformat(),
            "performer": performers,
            "policy": [{"uri": f"{codes.OUR_BASE}/consent/{document.version}"}],
            "sourceAttachment": attachment,
        }
    )


def imaging_document(upload: ImagingFile) -> Resource:
    """US Core DocumentReference for an uploaded report or image: metadata and the
    address it is downloaded from (signed in, by the people allowed), never the file."""
    code, display = codes.IMAGING_STUDY_DOCUMENT
    return validated(
        {
            "resourceType": "DocumentReference",
            "id": str(upload.public_id),
            "meta": _meta("DocumentReference"),
            "identifier": [{"system": codes.our_identifier("sha256"), "value": upload.sha256}],
            "status": "current",
            "type": concept(codes.LOINC, code, display),
            "category": [concept(codes.US_CORE_DOCREF_CATEGORY, "clinical-note", "Clinical Note")],
            "subject": ref("Patient", patient_id(upload.intake.patient)),
            "date": upload.uploaded_at.isoformat(),
            "author": [ref("Patient", patient_id(upload.intake.patient))],
            "description": "Imaging report or image uploaded by the patient",
            "content": [
                {
                    "attachment": {
                        "contentType": upload.content_type,
                        "size": upload.size,
                        "title": upload.original_name,
                        "creation": upload.uploaded_at.isoformat(),
                        "url": _site_url("intake:file", file_id=upload.public_id),
                    }
                }
            ],
        }
    )
