"""Who changed what: Provenance from the change history."""

from typing import Any

from clinic.models import User
from intake.models import (
    Case,
)
from records.fhir import codes
from records.fhir.builders.base import Resource, concept, patient_id, ref, stable_id, validated

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
