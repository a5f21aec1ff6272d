from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """The patient's record leaving the product: FHIR R4 exports of a case, of a
    patient's own record and of the whole clinic."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "records"
    verbose_name = "Records export"
