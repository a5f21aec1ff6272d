"""The admin edits the clinic's questionnaires and consent text. It shows no care:
intakes, cases, flags, decisions and notes are not registered here (nor is
django-pghistory's change history, which copies them), so no account, a superuser
included, reads them in ``/admin/``. Physicians read them in ``/review/``, behind
``clinic.policy``."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from intake import services
from intake.models import AnswerOption, ConsentDocument, Instrument, InstrumentItem


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

    list_display = ["version", "language", "title", "is_current", "published_at"]
    readonly_fields = ["sha256", "is_current", "published_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ConsentDocument | None = None) -> Any:
        if obj is not None:
            return [
                "version",
                "language",
                "title",
                "body",
                "sha256",
                "is_current",
                "published_at",
            ]
        return self.readonly_fields

    def save_model(
        self, request: HttpRequest, obj: ConsentDocument, form: Any, change: bool
    ) -> None:
        if change:
            return
        published = services.consent_publish(
            version=obj.version, title=obj.title, body=obj.body, language=obj.language
        )
        obj.pk = published.pk

    def has_delete_permission(
        self, request: HttpRequest, obj: ConsentDocument | None = None
    ) -> bool:
        return False
