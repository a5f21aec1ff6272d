"""Patient, Practitioner and RelatedPerson."""

from collections.abc import Iterator
from typing import Any

from clinic.models import User
from intake.models import (
    Intake,
)
from records.fhir import codes
from records.fhir.builders.base import (
    Resource,
    _meta,
    _name,
    concept,
    patient_id,
    ref,
    stable_id,
    validated,
)

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
