"""Scoring of questionnaire answers, by the rule stored with each instrument."""

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from intake.models import Instrument

ONE_DECIMAL = Decimal("0.1")


def instrument_score(*, instrument: Instrument, answers: Mapping[int, int]) -> Decimal:
    """Scores one complete set of answers (item position to option value).

    Raises ``ValueError`` when an item is missing or a value is not on the scale: the
    form already refuses both, so reaching it here is a bug, never a patient's error."""
    positions = sorted(instrument.items.values_list("position", flat=True))
    scale = sorted(instrument.options.values_list("value", flat=True))
    if not positions or not scale:
        raise ValueError(f"Instrument {instrument.slug} has no items or no answer options.")
    if sorted(answers) != positions:
        raise ValueError(f"Answers {sorted(answers)} do not match the items {positions}.")
    if any(value not in scale for value in answers.values()):
        raise ValueError("An answer is not on the instrument's scale.")

    total = Decimal(sum(answers.values()))
    match instrument.scoring:
        case Instrument.Scoring.SINGLE:
            if len(positions) != 1:
                raise ValueError("A single-answer score needs exactly one item.")
            score = total
        case Instrument.Scoring.SUM:
            score = total
        case Instrument.Scoring.INVERTED_PERCENT:
            low, high = scale[0], scale[-1]
            worst = Decimal((high - low) * len(positions))
            score = 100 - (total - low * len(positions)) / worst * 100
        case _:
            raise ValueError(f"Unknown scoring rule {instrument.scoring!r}.")
    return score.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
