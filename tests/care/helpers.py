"""Plans and estimates built through the services, as the pages build them."""

from typing import Any

from care.models import BillingProvider, GoodFaithEstimate, TreatmentPlan
from care.services import plans
from clinic.models import User
from intake.models import Case
from treatments.models import BodyRegion, TreatmentOption


def draft(*slugs: str, **overrides: Any) -> plans.PlanDraft:
    """A plan for the left knee (osteoarthritis, M17.12), one ultrasound-guided session."""
    values: dict[str, Any] = {
        "options": list(TreatmentOption.objects.filter(slug__in=slugs or ("prp",))),
        "body_region": BodyRegion.objects.get(slug="knee"),
        "side": "left",
        "condition": None,
        "icd10_code": "M17.12",
        "sessions": 1,
        "weeks_between_sessions": 0,
        "guidance": "ultrasound",
        "harvest_source": "",
        "note_to_patient": "One PRP injection; we review how you are at 6 weeks.",
    }
    return plans.PlanDraft(**(values | overrides))


def billing_provider() -> BillingProvider:
    return BillingProvider.objects.create(
        name="Springfield Regenerative Clinic",
        npi_number="1234567893",
        tin="12-3456789",
        location="100 Main Street, Springfield, NJ 07081",
    )


def shared_plan(case: Case, physician: User, *slugs: str, **overrides: Any) -> TreatmentPlan:
    plan = plans.plan_draft_save(case=case, physician=physician, draft=draft(*slugs, **overrides))
    return plans.plan_share(plan=plan, physician=physician)


def latest_estimate(case: Case) -> GoodFaithEstimate:
    return GoodFaithEstimate.objects.filter(case=case).latest()
