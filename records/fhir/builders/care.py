"""What the clinic did: flags, the review, appointments, plans, estimates and the
recorded procedures."""

from care.models import FollowUpResponse, GoodFaithEstimate, ProcedureRecord, TreatmentPlan
from intake.models import (
    Case,
    CaseFlag,
    Consultation,
)
from records.fhir import codes
from records.fhir.builders.answers import condition_id
from records.fhir.builders.base import (
    Resource,
    _meta,
    _narrative,
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
from records.fhir.codes import ours


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
    Case.State.TREATED: "completed",
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


def _tissue_device(record: ProcedureRecord) -> Resource:
    """The donor-tissue product a procedure used, with its lot and expiry (tissue
    tracking: the lot is what a recall searches for)."""
    return validated(
        {
            "resourceType": "Device",
            "id": stable_id("Device", record.public_id),
            "status": "inactive",  # used up in the procedure
            "manufacturer": record.manufacturer,
            "lotNumber": record.lot_number,
            "expirationDate": _when(record.lot_expires_on),
            "deviceName": [{"name": record.product_name, "type": "user-friendly-name"}],
            "type": {"text": "Human cell and tissue product (allograft)"},
            "patient": ref("Patient", patient_id(record.case.patient)),
        }
    )


def procedures(case: Case) -> list[Resource]:
    """US Core Procedure per recorded procedure (``care.ProcedureRecord``), and for
    donor tissue the product as a Device the Procedure used."""
    resources: list[Resource] = []
    for record in case.procedure_records.all():
        device = _tissue_device(record) if record.lot_number else None
        guidance = record.get_guidance_display().lower()
        summary = (
            f"{record.option.name}, {record.target.lower()}, guidance: {guidance}; "
            f"{record.volume_injected_ml} mL injected."
        )
        if record.harvest_site:
            summary += (
                f" Harvest: {record.get_harvest_site_display()}, {record.volume_harvested_ml} mL."
            )
        data: Resource = {
            "resourceType": "Procedure",
            "id": str(record.public_id),
            "meta": _meta("Procedure"),
            "text": _narrative(summary),
            "status": "completed",
            "code": {"text": record.option.name},
            "subject": ref("Patient", patient_id(case.patient)),
            "performedDateTime": record.performed_at.isoformat(),
            "recorder": ref("Practitioner", str(record.physician.public_id)),
            "performer": [{"actor": ref("Practitioner", str(record.physician.public_id))}],
            "bodySite": [{"text": record.target}],
            "basedOn": [ref("CarePlan", str(record.plan.public_id))],
            "note": [{"text": summary}],
        }
        if record.complication != ProcedureRecord.Complication.NONE:
            data["complication"] = [{"text": record.get_complication_display()}]
        if case.main_complaint is not None:
            data["reasonReference"] = [ref("Condition", condition_id(case.main_complaint))]
        if device is not None:
            data["usedReference"] = [ref("Device", device["id"])]
            resources.append(device)
        resources.append(validated(data))
        resources.extend(followup_resources(record))
    return resources


FOLLOWUP_QUESTIONS = (
    ("redness_swelling", "Redness, heat or swelling that got worse"),
    ("fever", "Fever"),
    ("new_pain", "A new or much worse pain"),
    ("saw_doctor", "A visit to a doctor or hospital because of it"),
)


def followup_resources(record: ProcedureRecord) -> list[Resource]:
    """Each answered follow-up of a procedure: its answers as a QuestionnaireResponse
    (the 7-point change and the complication questions) and its scores as
    Observations (the 0-10 pain rating, LOINC 72514-3; percent of normal; daily
    activities), each pointing at the Procedure it follows."""
    series = getattr(record, "followup_series", None)
    if series is None:
        return []
    subject = ref("Patient", patient_id(record.case.patient))
    procedure = ref("Procedure", str(record.public_id))
    resources: list[Resource] = []
    for followup in series.followups.all():
        response: FollowUpResponse | None = getattr(followup, "response", None)
        if response is None:
            continue
        response_id = stable_id("followup-response", followup.public_id)
        items = [
            {
                "linkId": "global-change",
                "text": "Compared with before the treatment, how is the treated area now?",
                "answer": [
                    {
                        "valueCoding": coding(
                            ours("global-change"),
                            str(response.global_change),
                            response.get_global_change_display(),
                        )
                    }
                ],
            },
            *(
                {
                    "linkId": name,
                    "text": text,
                    "answer": [{"valueBoolean": getattr(response, name)}],
                }
                for name, text in FOLLOWUP_QUESTIONS
            ),
        ]
        resources.append(
            validated(
                {
                    "resourceType": "QuestionnaireResponse",
                    "id": response_id,
                    "meta": _meta("QuestionnaireResponse"),
                    "identifier": {
                        "system": codes.our_identifier("followup"),
                        "value": str(followup.public_id),
                    },
                    "questionnaire": codes.our_questionnaire("followup"),
                    "status": "completed",
                    "subject": subject,
                    "partOf": [procedure],
                    "authored": response.submitted_at.isoformat(),
                    "author": subject,
                    "source": subject,
                    "item": items,
                }
            )
        )
        pain_code, pain_display = codes.PAIN_SEVERITY
        for kind, code, value, unit in (
            ("pain", concept(codes.LOINC, pain_code, pain_display), response.pain, "{score}"),
            (
                "percent-normal",
                concept(ours("score"), "percent-of-normal", "Percent of normal"),
                response.percent_normal,
                "%",
            ),
            (
                "function",
                concept(ours("score"), "daily-activities", "Daily activities"),
                response.function_score,
                "{score}",
            ),
        ):
            resources.append(
                validated(
                    {
                        "resourceType": "Observation",
                        "id": stable_id("followup-score", followup.public_id, kind),
                        "meta": _meta("score"),
                        "status": "final",
                        "category": [concept(codes.OBSERVATION_CATEGORY, "survey", "Survey")],
                        "code": code,
                        "subject": subject,
                        "partOf": [procedure],
                        "effectiveDateTime": response.submitted_at.isoformat(),
                        "valueQuantity": _quantity(value, "%" if unit == "%" else "score", unit),
                        "derivedFrom": [ref("QuestionnaireResponse", response_id)],
                        "note": [{"text": f"Follow-up at {followup.label}"}],
                    }
                )
            )
    return resources
