"""Valid POST data for each intake step, as a browser would send it."""

from collections.abc import Callable
from typing import Any

from intake.models import Instrument, PriorTreatment
from intake.services import red_flag_questions, screening_questions
from treatments.models import BodyRegion


def about_post(**overrides: Any) -> dict[str, Any]:
    return {
        "legal_name": "Pat Patient",
        "date_of_birth": "1970-05-17",
        "sex": "female",
        "phone": "(201) 555-0123",
        "address_line1": "1 Main Street",
        "address_line2": "",
        "city": "Springfield",
        "region": "NJ",
        "postal_code": "07081",
        "emergency_contact_name": "Sam Patient",
        "emergency_contact_relationship": "Spouse",
        "emergency_contact_phone": "201-555-0199",
        "unit_system": "metric",
        "height_cm": "170",
        "weight_kg": "72.5",
        **overrides,
    }


def pain_post(*complaints: dict[str, Any]) -> dict[str, Any]:
    rows = complaints or (
        {
            "body_region": BodyRegion.objects.get(slug="knee").pk,
            "side": "left",
            "condition": "",
            "started_on_0": "3",  # March
            "started_on_1": "2024",
            "onset": "gradual",
            "pain_now": "6",
            "pain_worst_week": "8",
        },
    )
    data: dict[str, Any] = {
        "complaint-TOTAL_FORMS": str(len(rows)),
        "complaint-INITIAL_FORMS": "0",
        "complaint-MIN_NUM_FORMS": "0",
        "complaint-MAX_NUM_FORMS": "6",
    }
    for n, row in enumerate(rows):
        data |= {f"complaint-{n}-{key}": value for key, value in row.items()}
    return data


def function_post(value_index: int = 0) -> dict[str, Any]:
    data = {}
    for instrument in Instrument.objects.filter(in_intake=True, is_active=True):
        values = list(instrument.options.values_list("value", flat=True))
        for item in instrument.items.all():
            data[f"q{instrument.pk}_{item.position}"] = str(
                values[min(value_index, len(values) - 1)]
            )
    return data


def tried_post(**tried: dict[str, str]) -> dict[str, Any]:
    kinds = PriorTreatment.Kind.values
    data: dict[str, Any] = {
        "prior-TOTAL_FORMS": str(len(kinds)),
        "prior-INITIAL_FORMS": "0",
        "prior-MIN_NUM_FORMS": str(len(kinds)),
        "prior-MAX_NUM_FORMS": str(len(kinds)),
    }
    for n, kind in enumerate(kinds):
        row = {
            "kind": kind,
            "tried": "no",
            "last_on_0": "",
            "last_on_1": "",
            "details": "",
            "outcome": "",
        } | tried.get(kind, {})
        data |= {f"prior-{n}-{key}": value for key, value in row.items()}
    return data


def health_post(**answers: str) -> dict[str, Any]:
    data = {f"screen_{rule.slug}": answers.get(rule.slug, "no") for rule in screening_questions()}
    data |= {f"symptom_{flag.slug}": answers.get(flag.slug, "no") for flag in red_flag_questions()}
    return data | {"current_medicines": "none", "allergies": "", "other_conditions": ""}


def imaging_post(status: str = "no", *studies: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "imaging_status": status,
        "study-TOTAL_FORMS": str(max(len(studies), 1)),
        "study-INITIAL_FORMS": "0",
        "study-MIN_NUM_FORMS": "0",
        "study-MAX_NUM_FORMS": "8",
    }
    for n, row in enumerate(studies):
        data |= {f"study-{n}-{key}": value for key, value in row.items()}
    return data


def goals_post(**overrides: Any) -> dict[str, Any]:
    return {
        "goals": "Hiking with my grandchildren",
        "preferred_days": ["mon", "wed"],
        "preferred_times": ["morning"],
        "payment": "self_pay",
        "insurance_carrier": "",
        "insurance_member_id": "",
        **overrides,
    }


def consent_post(name: str = "Pat Patient", **overrides: Any) -> dict[str, Any]:
    from intake.services import current_consent

    return {
        "acknowledged_risks": "on",
        "acknowledged_cost": "on",
        "acknowledged_regulatory": "on",
        "signature_name": name,
        "consent_version": current_consent().version,
        "consent_language": current_consent().language,  # the hidden fields of the page
        **overrides,
    }


STEP_POSTS: dict[int, Callable[..., dict[str, Any]]] = {
    1: about_post,
    2: pain_post,
    3: function_post,
    4: tried_post,
    5: health_post,
    6: imaging_post,
    7: goals_post,
}
