"""What every builder shares: validation through the R4B models, stable ids,
references and codings.

One function per FHIR resource we emit, from our models to a validated R4 resource.

Each builder writes the resource as FHIR JSON and passes it through the pinned
``fhir.resources`` R4B model (``validated``), which refuses unknown properties,
malformed dates and wrong types; what it does not check (codes inside required value
sets, the profiles we claim) ``records.fhir.checks`` does.

Ids are stable: our public UUIDs where a row has one, otherwise a UUID derived (v5)
from the owning row's public UUID and the row's own key, so the same record always
exports under the same id. References are written ``Type/id``; a Bundle rewrites
the ones it holds to the entries' ``urn:uuid:`` full URLs (``records.services``).
"""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from fhir.resources.R4B import get_fhir_model_class

from clinic.models import User
from records.fhir import codes

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
