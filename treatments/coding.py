"""ICD-10-CM codes for a complaint: the billable code its condition and side imply."""

from treatments.models import Condition, ConditionCode


def billable_code(condition: Condition | None, side: str) -> str | None:
    """The billable ICD-10-CM code for ``condition`` on ``side`` (a
    ``treatments.models.Laterality`` value), or None where no single code follows
    (no condition chosen, or the code needs what only the physician knows)."""
    if condition is None:
        return None
    return (
        ConditionCode.objects.filter(condition=condition, side=side)
        .values_list("code", flat=True)
        .first()
    )
