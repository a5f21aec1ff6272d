from django.contrib import admin

from treatments.models import (
    BodyRegion,
    Condition,
    ConditionCode,
    Contraindication,
    RedFlag,
    TreatmentOption,
)


@admin.register(BodyRegion)
class BodyRegionAdmin(admin.ModelAdmin[BodyRegion]):
    list_display = ["name", "slug", "display_order"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(TreatmentOption)
class TreatmentOptionAdmin(admin.ModelAdmin[TreatmentOption]):
    list_display = [
        "ladder_step",
        "name",
        "origin",
        "is_cell_based",
        "cost_min_usd",
        "cost_max_usd",
        "is_offered",
    ]
    list_display_links = ["name"]
    list_filter = ["origin", "is_cell_based", "is_offered"]
    prepopulated_fields = {"slug": ["name"]}


class ConditionCodeInline(admin.TabularInline[ConditionCode, Condition]):
    model = ConditionCode
    extra = 0


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin[Condition]):
    inlines = [ConditionCodeInline]
    list_display = ["name", "body_region", "icd10_code", "is_active"]
    list_filter = ["body_region", "is_active"]
    search_fields = ["name", "icd10_code"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Contraindication)
class ContraindicationAdmin(admin.ModelAdmin[Contraindication]):
    list_display = ["name", "severity", "raises_priority", "is_active", "display_order"]
    list_filter = ["severity", "raises_priority", "is_active"]
    filter_horizontal = ["options"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(RedFlag)
class RedFlagAdmin(admin.ModelAdmin[RedFlag]):
    list_display = ["name", "raises_priority", "is_active", "display_order"]
    list_filter = ["raises_priority", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
