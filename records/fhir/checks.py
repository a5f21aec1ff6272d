"""Our own check of what neither the R4B models nor an R4 structure validator checks:
every code we emit into an element bound to a *required* value set is in that value
set, the profiles we claim are present, and ICD-10-CM and LOINC codes are well
formed. (``gender: "femail"`` or ``Task.status: "bogus"`` pass both validators.)

``REQUIRED_BINDINGS`` lists each such element we write, by resource type and path
(a path walks lists), with the codes of its value set from the R4 specification."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from records.fhir import codes

Resource = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    resource_type: str
    resource_id: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.resource_id} {self.path}: {self.message}"


REQUEST_STATUS = {
    "draft",
    "active",
    "on-hold",
    "revoked",
    "completed",
    "entered-in-error",
    "unknown",
}
OBSERVATION_STATUS = {
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
}

# (resource type, path) -> the codes of the required value set. A path ending in
# ``coding`` checks the codes of that CodeableConcept whose system is the one given.
REQUIRED_BINDINGS: dict[tuple[str, str], set[str]] = {
    ("Bundle", "type"): {
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    },
    ("Patient", "gender"): {"male", "female", "other", "unknown"},
    ("Patient", "name.use"): {
        "usual",
        "official",
        "temp",
        "nickname",
        "anonymous",
        "old",
        "maiden",
    },
    ("Patient", "telecom.system"): {"phone", "fax", "email", "pager", "url", "sms", "other"},
    ("Patient", "telecom.use"): {"home", "work", "temp", "old", "mobile"},
    ("Patient", "address.use"): {"home", "work", "temp", "old", "billing"},
    ("Practitioner", "name.use"): {
        "usual",
        "official",
        "temp",
        "nickname",
        "anonymous",
        "old",
        "maiden",
    },
    ("RelatedPerson", "telecom.system"): {"phone", "fax", "email", "pager", "url", "sms", "other"},
    ("Condition", "clinicalStatus.coding"): {
        "active",
        "recurrence",
        "relapse",
        "inactive",
        "remission",
        "resolved",
    },
    ("Condition", "verificationStatus.coding"): {
        "unconfirmed",
        "provisional",
        "differential",
        "confirmed",
        "refuted",
        "entered-in-error",
    },
    ("AllergyIntolerance", "clinicalStatus.coding"): {"active", "inactive", "resolved"},
    ("AllergyIntolerance", "verificationStatus.coding"): {
        "unconfirmed",
        "confirmed",
        "refuted",
        "entered-in-error",
    },
    ("Observation", "status"): OBSERVATION_STATUS,
    ("Questionnaire", "status"): {"draft", "active", "retired", "unknown"},
    ("Questionnaire", "item.type"): {
        "group",
        "display",
        "boolean",
        "decimal",
        "integer",
        "date",
        "dateTime",
        "time",
        "string",
        "text",
        "url",
        "choice",
        "open-choice",
        "attachment",
        "reference",
        "quantity",
    },
    ("QuestionnaireResponse", "status"): {
        "in-progress",
        "completed",
        "amended",
        "entered-in-error",
        "stopped",
    },
    ("MedicationStatement", "status"): {
        "active",
        "completed",
        "entered-in-error",
        "intended",
        "stopped",
        "on-hold",
        "unknown",
        "not-taken",
    },
    ("Flag", "status"): {"active", "inactive", "entered-in-error"},
    ("Consent", "status"): {
        "draft",
        "proposed",
        "active",
        "rejected",
        "inactive",
        "entered-in-error",
    },
    ("DocumentReference", "status"): {"current", "superseded", "entered-in-error"},
    ("Task", "status"): {
        "draft",
        "requested",
        "received",
        "accepted",
        "rejected",
        "ready",
        "cancelled",
        "in-progress",
        "on-hold",
        "failed",
        "completed",
        "entered-in-error",
    },
    ("Task", "intent"): {
        "unknown",
        "proposal",
        "plan",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    },
    ("Task", "priority"): {"routine", "urgent", "asap", "stat"},
    ("Appointment", "status"): {
        "proposed",
        "pending",
        "booked",
        "arrived",
        "fulfilled",
        "cancelled",
        "noshow",
        "entered-in-error",
        "checked-in",
        "waitlist",
    },
    ("Appointment", "participant.required"): {"required", "optional", "information-only"},
    ("Appointment", "participant.status"): {"accepted", "declined", "tentative", "needs-action"},
    ("CarePlan", "status"): REQUEST_STATUS,
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("CarePlan", "text.status"): {"generated", "extensions", "additional", "empty"},
    ("CarePlan", "activity.detail.status"): {
        "not-started",
        "scheduled",
        "in-progress",
        "on-hold",
        "completed",
        "cancelled",
        "stopped",
        "unknown",
        "entered-in-error",
    },
    ("Procedure", "status"): {
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    },
    ("Procedure", "text.status"): {"generated", "extensions", "additional", "empty"},
    ("Device", "status"): {"active", "inactive", "entered-in-error", "unknown"},
    ("Device", "deviceName.type"): {
        "udi-label-name",
        "user-friendly-name",
        "patient-reported-name",
        "manufacturer-name",
        "model-name",
        "other",
    },
}
# The system each CodeableConcept binding above is coded in.
BINDING_SYSTEMS = {
    ("Condition", "clinicalStatus.coding"): codes.CONDITION_CLINICAL,
    ("Condition", "verificationStatus.coding"): codes.CONDITION_VERIFICATION,
    ("AllergyIntolerance", "clinicalStatus.coding"): codes.ALLERGY_CLINICAL,
    ("AllergyIntolerance", "verificationStatus.coding"): codes.ALLERGY_VERIFICATION,
}
# Observation profiles we claim, by the LOINC code they fix.
VITAL_SIGN_PROFILES = {
    codes.BODY_HEIGHT[0]: codes.PROFILE["height"],
    codes.BODY_WEIGHT[0]: codes.PROFILE["weight"],
    codes.BMI[0]: codes.PROFILE["bmi"],
}
# Resource types that must claim a US Core profile (meta.profile).
PROFILED = {
    "Patient",
    "Practitioner",
    "RelatedPerson",
    "Condition",
    "AllergyIntolerance",
    "QuestionnaireResponse",
    "Observation",
    "DocumentReference",
    "CarePlan",
    "Procedure",
}
ICD10_CM_CODE = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
LOINC_CODE = re.compile(r"^\d{1,7}-\d$")


def values_at(node: Any, path: str) -> Iterator[Any]:
    """Every value at a dotted ``path`` below ``node``, walking into lists."""
    if isinstance(node, list):
        for item in node:
            yield from values_at(item, path)
        return
    if not path:
        yield node
        return
    if not isinstance(node, dict):
        return
    head, _, rest = path.partition(".")
    if head in node:
        yield from values_at(node[head], rest)


def _codings(node: Any) -> Iterator[dict[str, Any]]:
    """Every Coding anywhere in ``node``."""
    if isinstance(node, dict):
        if isinstance(node.get("system"), str) and "code" in node:
            yield node
        for value in node.values():
            yield from _codings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _codings(item)


def check_resource(resource: Resource) -> list[Problem]:
    kind = resource.get("resourceType", "?")
    found: list[Problem] = []

    def problem(path: str, message: str) -> None:
        found.append(Problem(kind, str(resource.get("id", "")), path, message))

    for (bound_type, path), allowed in REQUIRED_BINDINGS.items():
        if bound_type != kind:
            continue
        system = BINDING_SYSTEMS.get((bound_type, path))
        for value in values_at(resource, path):
            if system is not None:
                if value.get("system") != system:
                    problem(path, f"coded in {value.get('system')!r}, not {system}")
                value = value.get("code")
            if value not in allowed:
                problem(path, f"{value!r} is not in the required value set")
    profiles = resource.get("meta", {}).get("profile", [])
    if kind in PROFILED and not profiles:
        problem("meta.profile", "no profile claimed")
    if kind == "Observation":
        loinc = [
            c["code"] for c in values_at(resource, "code.coding") if c.get("system") == codes.LOINC
        ]
        wanted = {VITAL_SIGN_PROFILES[c] for c in loinc if c in VITAL_SIGN_PROFILES}
        if wanted - set(profiles):
            problem("meta.profile", f"a vital sign must claim {sorted(wanted)}")
    for found_coding in _codings(resource):
        code = str(found_coding["code"])
        if found_coding["system"] == codes.ICD10_CM and not ICD10_CM_CODE.match(code):
            problem("coding", f"{code!r} is not an ICD-10-CM code")
        if found_coding["system"] == codes.LOINC and not LOINC_CODE.match(code):
            problem("coding", f"{code!r} is not a LOINC code")
    return found


def check_resources(resources: Iterable[Resource]) -> list[Problem]:
    """Problems in ``resources``; a Bundle is checked with each of its entries."""
    found: list[Problem] = []
    for resource in resources:
        found.extend(check_resource(resource))
        if resource.get("resourceType") == "Bundle":
            found.extend(check_resources(entry["resource"] for entry in resource.get("entry", [])))
    return found
