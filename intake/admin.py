"""The admin edits the clinic's questionnaires and consent text; cases and intakes
are read here, never edited (their changes go through the services and events)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from clinic.audit import Action, audit_read
from intake import services
from intake.models import (
    AnswerOption,
    Case,
    CaseEvent,
    CaseFlag,
    ConsentDocument,
    Instrument,
    InstrumentItem,
    Intake,
    ReviewDecision,
)


class InstrumentItemInline(admin.TabularInline[InstrumentItem, Instrument]):
    model = InstrumentItem
    extra = 0


class AnswerOptionInline(admin.TabularInline[AnswerOption, Instrument]):
    model = AnswerOption
    extra = 0


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin[Instrument]):
    list_display = ["name", "version", "scoring", "in_intake", "is_active", "display_order"]
    list_filter = ["in_intake", "is_active"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [InstrumentItemInline, AnswerOptionInline]


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin[ConsentDocument]):
    """A consent text, once published, is never edited: signatures point at it. A
    change is a new version."""

    list_display = ["version", "title", "is_current", "published_at"]
    readonly_fields = ["sha256", "is_current", "published_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentDocument | None = None) -> Any:
        if obj is not None:
            return ["version", "title", "body", "sha256", "is_current", "published_at"]
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: ConsentDocument, form: Any, change: bool
    ) -> None:
        if change:
            return
        published = services.consent_publish(version=obj.version, title=obj.title, body=obj.body)
        obj.pk = published.pk

    def has_delete_permission(
        self, request: HttpRequest, obj: ConsentDocument | None = None
    ) -> bool:
        return False


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PatientRecordAdmin(ReadOnlyAdmin):
    """A patient's record, read in the admin: each opening is in the audit log."""

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        record = self.get_object(request, object_id)
        if record is not None and response.status_code == 200:
            audit_read(request, action=Action.VIEW, record=record, patient_id=record.patient_id)
        return response


class CaseEventInline(admin.TabularInline[CaseEvent, Case]):
    model = CaseEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "kind", "actor", "from_state", "to_state", "note"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseFlagInline(admin.TabularInline[CaseFlag, Case]):
    model = CaseFlag
    extra = 0
    can_delete = False
    readonly_fields = ["rule", "severity", "patient_answer"]
    exclude = ["contraindication", "options"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReviewDecisionInline(admin.StackedInline[ReviewDecision, Case]):
    model = ReviewDecision
    extra = 0
    can_delete = False
    readonly_fields = [
        "decided_at",
        "physician",
        "outcome",
        "consultation_type",
        "consultation_mode",
        "urgency",
        "override_reason",
        "reason",
        "message_to_patient",
        "internal_note",
    ]
    exclude = ["options", "imaging_region", "imaging_modality"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(PatientRecordAdmin):
    list_select_related = ["patient", "assigned_to"]
    list_display = ["reference", "patient", "state", "priority", "assigned_to", "created_at"]
    list_filter = ["state", "priority"]
    search_fields = ["reference", "patient__email", "patient__full_name"]
    inlines = [CaseFlagInline, ReviewDecisionInline, CaseEventInline]


@admin.register(Intake)
class IntakeAdmin(PatientRecordAdmin):
    list_display = ["public_id", "patient", "status", "created_at", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["patient__email", "legal_name"]
    exclude = ["pending_answers"]
