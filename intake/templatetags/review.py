"""Small display helpers for the review pages."""

from datetime import date, datetime

from django import template

from intake.models import Case, Complaint, Intake
from treatments.coding import billable_code

register = template.Library()

PRIORITY_BADGES = {1: "text-bg-danger", 2: "text-bg-warning", 3: "text-bg-secondary"}


@register.filter
def priority_badge(priority: int) -> str:
    return PRIORITY_BADGES.get(priority, "text-bg-secondary")


@register.filter
def icd10(complaint: Complaint) -> str:
    """The billable ICD-10-CM code the complaint's condition and side imply, or the
    condition's category code (to be completed when charting), or nothing."""
    if complaint.condition is None:
        return ""
    code = billable_code(complaint.condition, complaint.side)
    if code:
        return f"ICD-10-CM {code}"
    category = complaint.condition.icd10_code
    return f"ICD-10-CM {category}- (complete when charting)" if category else ""


@register.simple_tag
def waited(case: Case, now: datetime) -> str:
    """How long the case has been waiting for a physician, in days and hours."""
    seconds = max(int((now - case.waiting_since).total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours = rest // 3600
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h"
    return f"{rest // 60} min"


@register.simple_tag
def is_overdue(case: Case, now: datetime) -> bool:
    return case.is_overdue(now)


@register.filter
def age_today(intake: Intake, today: date) -> int | None:
    return intake.age_on(today)


@register.filter
def state_label(state: str) -> str:
    """A case state's words, for event rows that store the state's value."""
    try:
        return str(Case.State(state).label)
    except ValueError:
        return state
