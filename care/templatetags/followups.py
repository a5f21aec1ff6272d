"""The follow-up sections other pages include (the patient's care page, the
physician's case page) with one tag, so those pages' views stay as they are. Both
pages already record the read of the case they show."""

from typing import Any

from django import template
from django.conf import settings

from care import outcomes
from care.services.followups import preference_of
from care.views_followups import series_context
from intake.models import Case

register = template.Library()


@register.inclusion_tag("care/_followups_patient.html", takes_context=True)
def patient_followups(context: dict[str, Any], case: Case) -> dict[str, Any]:
    series = series_context(outcomes.series_of(case))
    return {
        "case": case,
        "series": series,
        "preference": preference_of(case.patient),
        "csrf_token": context.get("csrf_token"),
        # An inclusion tag's template does not see the context processors' values.
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
    }


@register.inclusion_tag("care/_followups_physician.html", takes_context=True)
def physician_followups(context: dict[str, Any], case: Case) -> dict[str, Any]:
    return {
        "case": case,
        "series": series_context(outcomes.series_of(case)),
        "is_mine": case.assigned_to_id == context["request"].user.pk,
        "csrf_token": context.get("csrf_token"),
    }
