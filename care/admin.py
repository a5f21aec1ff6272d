"""The admin keeps the care catalog (billable items and their prices, the clinic's
holidays, its billing details, the estimate's disclaimers). Plans and estimates are
read here, never edited: they change only through the services (and issued ones
never change at all)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from care.models import (
    BillableItem,
    BillingProvider,
    ClinicHoliday,
    EstimateDisclaimer,
    FollowUpTimepoint,
    InstructionTemplate,
)


@admin.register(BillableItem)
class BillableItemAdmin(admin.ModelAdmin[BillableItem]):
    list_display = [
        "description",
        "option",
        "code_system",
        "code",
        "cash_price",
        "price_is_example",
        "included_by_default",
        "is_active",
    ]
    list_filter = ["option", "price_is_example", "is_active"]
    list_select_related = ["option"]

    def save_model(self, request: HttpRequest, obj: BillableItem, form: Any, change: bool) -> None:
        # A price the clinic has typed is its own, no longer the shipped example.
        if change and "cash_price" in form.changed_data:
            obj.price_is_example = False
        super().save_model(request, obj, form, change)


@admin.register(ClinicHoliday)
class ClinicHolidayAdmin(admin.ModelAdmin[ClinicHoliday]):
    list_display = ["day", "name"]


@admin.register(BillingProvider)
class BillingProviderAdmin(admin.ModelAdmin[BillingProvider]):
    list_display = ["name", "npi_number", "tin", "location", "is_current"]


@admin.register(EstimateDisclaimer)
class EstimateDisclaimerAdmin(admin.ModelAdmin[EstimateDisclaimer]):
    """Published disclaimers are never edited (estimates point at them): a change is
    a new version, which becomes the current one."""

    list_display = ["version", "language", "is_current", "published_at"]
    list_filter = ["language", "is_current"]
    readonly_fields = ["sha256", "is_current", "published_at"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: EstimateDisclaimer | None = None
    ) -> Any:
        if obj is not None:
            return ["version", "language", "body", "sha256", "is_current", "published_at"]
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: EstimateDisclaimer, form: Any, change: bool
    ) -> None:
        if change:
            return
        from care.services.estimates import disclaimer_publish

        published = disclaimer_publish(version=obj.version, body=obj.body, language=obj.language)
        obj.pk = published.pk


@admin.register(InstructionTemplate)
class InstructionTemplateAdmin(admin.ModelAdmin[InstructionTemplate]):
    list_display = ["text", "option", "days_from_procedure", "source", "is_active"]
    list_filter = ["option", "is_active"]
    list_select_related = ["option"]


@admin.register(FollowUpTimepoint)
class FollowUpTimepointAdmin(admin.ModelAdmin[FollowUpTimepoint]):
    """The follow-up schedule. A change applies to procedures recorded afterwards;
    follow-ups already planned keep their dates."""

    list_display = ["name", "days_after", "opens_days_before", "closes_days_after", "is_active"]
