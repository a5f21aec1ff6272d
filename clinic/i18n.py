"""Patient-facing texts kept as data (the catalog's questions and advice, the
questionnaires): each has a Spanish column beside the English, and pages show the one
of the active language."""

from django.db import models
from django.utils import translation


def in_language(record: models.Model, field: str) -> str:
    """A patient-facing text of a data row in the active language: the row's
    ``<field>_es`` column for Spanish when it is filled in, else the English (staff
    pages are English, so they read the English)."""
    language = (translation.get_language() or "en").split("-")[0]
    if language != "en":
        translated = getattr(record, f"{field}_{language}", "")
        if translated:
            return str(translated)
    return str(getattr(record, field))
