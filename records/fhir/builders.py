"""One function per FHIR resource we emit, from our models to a validated R4 resource.

Each builder writes the resource as FHIR JSON and passes it through the pinned
``fhir.resources`` R4B model (``validated``), which refuses unknown properties,
malformed dates and wrong types; what it does not check (codes inside required value
sets, the profiles we claim) ``records.fhir.checks`` does.

Ids are stable: our public UUIDs where a row has one, otherwise a UUID derived (v5)
from the owning row's public UUID and the row's own key, so the same record always
exports under the same id. References are written ``Type/id``; a Bundle rewrites
the ones it holds to the entries' ``urn:uuid:`` full URLs (``records.services``).
"""

import base64
import hashlib
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from fhir.resources.R4B import get_fhir_model_class

from care.models import GoodFaithEstimate, TreatmentPlan
from clinic.models import User
from intake.models import (
    Case,
    CaseFlag,
    Complaint,
    Consultation,
    ImagingFile,
    Instrument,
    Intake,
    QuestionnaireResponse,
)
from records.fhir import codes
from records.fhir.codes import ours
from treatments.coding import billable_code
from treatments.models import Condition as TreatmentCondition

Resource = dict[str, Any]

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, codes.OUR_BASE)


def stable_id(kind: str, *parts: object) -> str:
    """A UUID that is the same on every export of the same row."""
    return str(uuid.uuid5(_NAMESPACE, "/".join([kind, *map(str, parts)])))


def _json(value: Any) -> Any:
    """``value`` as JSON types, with empty values left out (FHIR allows no null)."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def validated(data: Resource) -> Resource:
    """The resource, checked by its R4B model (which raises on an unknown property, a
    malformed value, a wrong type or an empty string), as FHIR JSON. What is returned
    is what we wrote (the model's own serialiser took half of the export's time)."""
    result: Resource = _json(data)
    get_fhir_model_class(result["resourceType"]).model_validate(result)
    return result


def ref(resource_type: str, resource_id: str, display: str = "") -> dict[str, str]:
    reference = {"reference": f"{resource_type}/{resource_id}"}
    return reference | {"display": display} if display else reference


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    return {"system": system, "code": code} | ({"display": display} if display else {})


def concept(system: str, code: str, display: str = "", text: str = "") -> dict[str, Any]:
    result: dict[str, Any] = {"coding": [coding(system, code, display)]}
    return result | {"text": text} if text else result


def _meta(profile: str) -> dict[str, list[str]]:
    return {"profile": [codes.PROFILE[profile]]}


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _site_url(name: str, **kwargs: object) -> str:
    return f"{settings.SITE_URL}{reverse(name, kwargs=kwargs)}"


def _narrative(text: str) -> dict[str, str]:
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(text)}</p></div>',
    }


def _name(text: str) -> dict[str, Any]:
    words = text.split()
    name: dict[str, Any] = {"use": "official", "text": text}
    if len(words) > 1:
        name |= {"family": words[-1], "given": words[:-1]}
    elif words:
        name |= {"family": words[0]}
    return name


def _quantity(value: Decimal | int, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": code}


def patient_id(patient: User) -> str:
    return str(patient.public_id)


# --- people ------------------------------------------------------------------

GENDER = {"female": "female", "male": "male", "intersex": "other", "undisclosed": "unknown"}


def patient(user: User, intake: Intake) -> Resource:
    """US Core Patient, from the patient's account and their latest intake's answers."""
    legal_name = intake.legal_name or user.full_name
    telecom = [{"system": "email", "value": user.email}]
    if intake.phone:
        telecom.insert(0, {"system": "phone", "value": intake.phone.as_e164, "use": "mobile"})
    data: Resource = {
        "resourceType": "Patient",
        "id": patient_id(user),
        "meta": _meta("Patient"),
        "identifier": [{"system": codes.our_identifier("patient"), "value": str(user.public_id)}],
        "active": user.is_active,
        "name": [_name(legal_name)],
        "telecom": telecom,
        "gender": GENDER.get(intake.sex, "unknown"),
    }
    if intake.date_of_birth:
        data["birthDate"] = intake.date_of_birth.isoformat()
    lines = [line for line in (intake.address_line1, intake.address_line2) if line]
    if lines or intake.city or intake.postal_code:
        address: dict[str, Any] = {"use": "home", "line": lines}
        for key, value in (
            ("city", intake.city),
            ("state", intake.region),
            ("postalCode", intake.postal_code),
        ):
            if value:
                address[key] = value
        data["address"] = [address]
    return validated(data)


def practitioner(user: User) -> Resource:
    """US Core Practitioner: a physician, with their NPI where the clinic holds it."""
    profile = getattr(user, "physician_profile", None)
    identifier = [{"system": codes.our_identifier("staff"), "value": str(user.public_id)}]
    if profile is not None and profile.npi_number:
        identifier.insert(0, {"system": codes.NPI, "value": profile.npi_number})
    name = _name(user.full_name or user.email)
    data: Resource = {
        "resourceType": "Practitioner",
        "id": str(user.public_id),
        "meta": _meta("Practitioner"),
        "identifier": identifier,
        "active": user.is_active,
        "name": [name],
    }
    if profile is not None:
        data["qualification"] = [
            {"code": {"text": profile.get_credential_display()}}
            | (
                {"identifier": [{"value": profile.licence_number}]}
                if profile.licence_number
                else {}
            )
        ]
    return validated(data)


def _contact_id(intake: Intake, role: str) -> str:
    return stable_id("related-person", intake.public_id, role)


def related_people(intake: Intake) -> Iterator[Resource]:
    """US Core RelatedPerson for the emergency contact and for a guardian who signed."""
    subject = ref("Patient", patient_id(intake.patient))
    if intake.emergency_contact_name:
        data: Resource = {
            "resourceType": "RelatedPerson",
            "id": _contact_id(intake, "emergency-contact"),
            "meta": _meta("RelatedPerson"),
            "active": True,
            "patient": subject,
            "relationship": [
                concept(
                    codes.V2_CONTACT_ROLE,
                    "C",
                    "Emergency Contact",
                    text=intake.emergency_contact_relationship,
                )
            ],
            "name": [{"text": intake.emergency_contact_name}],
        }
        if intake.emergency_contact_phone:
            data["telecom"] = [{"system": "phone", "value": intake.emergency_contact_phone.as_e164}]
        yield validated(data)
    if intake.guardian_name:
        yield validated(
            {
                "resourceType": "RelatedPerson",
                "id": _contact_id(intake, "guardian"),
                "meta": _meta("RelatedPerson"),
                "active": True,
                "patient": subject,
                "relationship": [
                    concept(
                        codes.V3_ROLE_CODE, "GUARD", "guardian", text=intake.guardian_relationship
                    )
                ],
                "name": [{"text": intake.guardian_name}],
            }
        )


# --- what the patient told us ------------------------------------------------


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


# --- what the clinic did -------------------------------------------------------


def flag(case_flag: CaseFlag, case: Case) -> Resource:
    """A contraindication the patient's answers raised, as the rule read then."""
    rule = case_flag.contraindication
    return validated(
        {
            "resourceType": "Flag",
            "id": stable_id("flag", case.public_id, rule.slug),
            "status": "active",
            "category": [concept(codes.FLAG_CATEGORY, "clinical", "Clinical")],
            "code": concept(
                ours("contraindication"),
                rule.slug,
                rule.name,
                text=f"{case_flag.rule} ({case_flag.get_severity_display()}; "
                f"patient answered: {case_flag.get_patient_answer_display()})",
            ),
            "subject": ref("Patient", patient_id(case.patient)),
            "period": {"start": case.created_at.isoformat()},
            "extension": [
                {"url": codes.our_extension("flag-severity"), "valueCode": case_flag.severity}
            ],
        }
    )


TASK_STATUS = {
    Case.State.SUBMITTED: "requested",
    Case.State.UNDER_REVIEW: "in-progress",
    Case.State.INFO_REQUESTED: "on-hold",
    Case.State.IMAGING_REQUESTED: "on-hold",
    Case.State.CONSULT_REQUESTED: "completed",
    Case.State.BOOKED: "completed",
    Case.State.NOT_CANDIDATE: "completed",
}
TASK_PRIORITY = {1: "urgent", 2: "asap", 3: "routine"}


def review_task(case: Case) -> Resource:
    """The physician's review of the case: owner, status, priority and its reason,
    and each decision as an output."""
    data: Resource = {
        "resourceType": "Task",
        "id": str(case.public_id),
        "identifier": [{"system": codes.our_identifier("case-reference"), "value": case.reference}],
        "status": TASK_STATUS[Case.State(case.state)],
        "businessStatus": {"text": case.get_state_display()},
        "intent": "order",
        "priority": TASK_PRIORITY[case.priority],
        "code": concept(ours("task"), "intake-review", "Review of a pre-consultation intake"),
        "for": ref("Patient", patient_id(case.patient)),
        "authoredOn": case.created_at.isoformat(),
        "lastModified": case.updated_at.isoformat(),
    }
    if case.assigned_to is not None:
        data["owner"] = ref("Practitioner", str(case.assigned_to.public_id))
    if case.priority_reason:
        data["reasonCode"] = {"text": case.priority_reason}
    if case.main_complaint_id is not None and case.main_complaint is not None:
        data["focus"] = ref("Condition", condition_id(case.main_complaint))
    outputs = [
        {
            "type": {"text": "Decision"},
            "valueString": f"{decision.get_outcome_display()} ({decision.decided_at:%Y-%m-%d})",
        }
        for decision in case.decisions.all()
    ]
    if outputs:
        data["output"] = outputs
    return validated(data)


APPOINTMENT_STATUS = {
    Consultation.State.BOOKED: "booked",
    Consultation.State.CHECKED_IN: "checked-in",
    Consultation.State.COMPLETED: "fulfilled",
    Consultation.State.CANCELLED: "cancelled",
    Consultation.State.NO_SHOW: "noshow",
}


def appointment(consultation: Consultation, case: Case) -> Resource:
    """A consultation or procedure appointment. (The procedure itself, once recorded,
    is a Procedure resource: see ``procedures`` below.)"""
    data: Resource = {
        "resourceType": "Appointment",
        "id": str(consultation.public_id),
        "identifier": [{"system": codes.our_identifier("calendar-uid"), "value": consultation.uid}],
        "status": APPOINTMENT_STATUS[Consultation.State(consultation.state)],
        "serviceType": [{"text": consultation.consultation_type.name}],
        "description": f"{consultation.consultation_type.name} "
        f"({consultation.get_mode_display().lower()})",
        "start": consultation.starts_at.isoformat(),
        "end": consultation.ends_at.isoformat(),
        "created": consultation.created_at.isoformat(),
        "participant": [
            {
                "actor": ref("Patient", patient_id(consultation.patient)),
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": ref("Practitioner", str(consultation.physician.public_id)),
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if consultation.cancel_reason:
        data["cancelationReason"] = {"text": consultation.cancel_reason}
    if case.main_complaint is not None:
        data["reasonReference"] = [ref("Condition", condition_id(case.main_complaint))]
    return validated(data)


def care_plan(plan: TreatmentPlan, *, current: bool, addresses: list[str]) -> Resource:
    """US Core CarePlan for a shared treatment plan version (a draft is not the
    patient's yet). The current version is active; an earlier one was replaced."""
    options = [planned.option for planned in plan.planned.all()]
    names = ", ".join(option.name for option in options)
    cadence = f", {plan.weeks_between_sessions} weeks apart" if plan.weeks_between_sessions else ""
    description = (
        f"{plan.target}: {names}; {plan.sessions} session(s){cadence}; "
        f"guidance: {plan.get_guidance_display().lower()}; ICD-10-CM {plan.icd10_code}."
    )
    data: Resource = {
        "resourceType": "CarePlan",
        "id": str(plan.public_id),
        "meta": _meta("CarePlan"),
        "text": _narrative(description),
        "identifier": [
            {
                "system": codes.our_identifier("plan-version"),
                "value": f"{plan.case.reference}-v{plan.version}",
            }
        ],
        "status": "active" if current else "revoked",
        "intent": "plan",
        "category": [
            concept(codes.CAREPLAN_CATEGORY, "assess-plan", "Assessment and Plan of Treatment")
        ],
        "title": f"Treatment plan, version {plan.version}",
        "description": description,
        "subject": ref("Patient", patient_id(plan.case.patient)),
        "created": _when(plan.shared_at),
        "author": ref("Practitioner", str(plan.physician.public_id)),
        "activity": [
            {
                "detail": {
                    "code": {"text": option.name},
                    # Whether it was given is the procedure record's (not built yet).
                    "status": "unknown",
                    "description": f"{plan.sessions} session(s){cadence}",
                }
            }
            for option in options
        ],
    }
    if addresses:
        data["addresses"] = [ref("Condition", condition) for condition in addresses]
    if plan.note_to_patient:
        data["note"] = [{"text": plan.note_to_patient}]
    return validated(data)


def estimate_document(estimate: GoodFaithEstimate) -> Resource:
    """US Core DocumentReference for an issued Good Faith Estimate (its page)."""
    return validated(
        {
            "resourceType": "DocumentReference",
            "id": str(estimate.public_id),
            "meta": _meta("DocumentReference"),
            "status": "current",
            "type": concept(
                ours("document-type"),
                "good-faith-estimate",
                "Good Faith Estimate",
                text="Good Faith Estimate (45 CFR 149.610)",
            ),
            "category": [concept(ours("document-category"), "billing", "Billing")],
            "subject": ref("Patient", patient_id(estimate.case.patient)),
            "date": estimate.issued_at.isoformat(),
            "author": [{"display": estimate.provider_name}],
            "description": f"Expected total USD {estimate.total}; "
            f"diagnosis codes {estimate.diagnosis_codes}; {estimate.primary_service}",
            "content": [
                {
                    "attachment": {
                        "contentType": "text/html",
                        "title": str(estimate),
                        "creation": estimate.issued_at.isoformat(),
                        "url": _site_url("care:estimate", public_id=estimate.public_id),
                    }
                }
            ],
        }
    )


def procedures(case: Case) -> list[Resource]:
    """Hook for the recorded procedure: ``care.ProcedureRecord`` is being added on
    another branch. When it lands, build one Procedure per record here (status,
    performed time, performer, body site, the allograft lot as a Device reference),
    and add Device to ``records.services.RESOURCE_TYPES``. Nothing yet."""
    return []


# --- who changed what ------------------------------------------------------------

DATA_OPERATION = {"insert": "CREATE", "update": "UPDATE", "delete": "DELETE"}
AUTOMATIC = {"display": "Clinic Intake (automatic)"}


def history_agent(user: User | None, case: Case) -> dict[str, str]:
    """Who made a change: the patient, a physician, other clinic staff by name, or
    the system (routing, reminders, escalation: no signed-in person)."""
    if user is None:
        return AUTOMATIC
    if user.pk == case.patient_id:
        return ref("Patient", patient_id(user))
    if hasattr(user, "physician_profile"):
        return ref("Practitioner", str(user.public_id))
    return {"display": f"{user.full_name or user.email} (clinic staff)"}


def provenance(
    *, table: str, event: Any, target: dict[str, str], agent: dict[str, str]
) -> Resource:
    """One change from the change history (django-pghistory): what, when, by whom."""
    operation = DATA_OPERATION.get(event.pgh_label, "UPDATE")
    return validated(
        {
            "resourceType": "Provenance",
            "id": stable_id("history", table, event.pgh_id),
            "target": [target],
            "recorded": event.pgh_created_at.isoformat(),
            "activity": concept(codes.DATA_OPERATION, operation, operation.lower()),
            "agent": [
                {
                    "type": concept(codes.PROVENANCE_AGENT_TYPE, "author", "Author"),
                    "who": agent,
                }
            ],
        }
    )
