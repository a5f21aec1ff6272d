"""How numbers read on the patient's pages: money from the locale, scores and
measurements without a meaningless ".0"."""

from decimal import ROUND_HALF_UP, Decimal

from django import forms, template
from django.utils.formats import number_format

from treatments.models import TreatmentOption

register = template.Library()

# A scale whose answers are all this short ("7", "40%") is drawn as a row of numbers.
SHORT_CHOICE = 4


@register.filter
def has_long_choices(field: forms.BoundField) -> bool:
    choices = getattr(field.field, "choices", [])
    return any(len(str(label)) > SHORT_CHOICE for _, label in choices)


def usd(amount: int | Decimal) -> str:
    """A whole-dollar amount in the active locale's grouping, e.g. "$1,200"."""
    return f"${number_format(amount, decimal_pos=0, use_l10n=True, force_grouping=True)}"


@register.filter
def money(amount: Decimal | int | None) -> str:
    """An amount with its cents, grouped as the other prices: "$1,200.00"."""
    if amount is None:
        return ""
    return f"${number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)}"


@register.filter
def price_range(option: TreatmentOption) -> str:
    """A typical cost, the one way every page writes it: "$150-$500" (an en dash)."""
    low, high = usd(option.cost_min_usd), usd(option.cost_max_usd)
    return low if option.cost_min_usd == option.cost_max_usd else f"{low}–{high}"


@register.filter
def plain_number(value: Decimal | float | int | None) -> str:
    """53.1 reads "53"; 165.0 reads "165"; 72.5 keeps its half: whole numbers where a
    decimal adds nothing a patient can use."""
    if value is None:
        return ""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return number_format(number, decimal_pos=0, use_l10n=True)
    return number_format(number.normalize(), use_l10n=True)


@register.filter
def whole_number(value: Decimal | float | int | None) -> str:
    """A score as a whole number (rounded half up), e.g. 53.1 → "53"."""
    if value is None:
        return ""
    return number_format(
        Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP), decimal_pos=0
    )
