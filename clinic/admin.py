from axes.utils import reset as axes_reset
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from clinic import two_factor
from clinic.login import login_key
from clinic.models import OutboundEmail, PhysicianProfile, TimeOff, User, WorkingHours


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "groups"]
    search_fields = ["email", "full_name"]
    readonly_fields = ["public_id", "date_joined", "last_login"]
    fieldsets = (
        (None, {"fields": ("email", "password", "public_id")}),
        ("Person", {"fields": ("full_name",)}),
        ("Role and access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "groups", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ["groups"]
    actions = ["reset_two_factor", "unlock_logins"]

    @admin.action(description="Reset two-factor sign-in (they set it up again at login)")
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            two_factor.second_factor_reset(user=user)
        messages.success(request, f"Two-factor sign-in reset for {queryset.count()} account(s).")

    @admin.action(description="Unlock logins paused after failed attempts")
    def unlock_logins(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            axes_reset(username=login_key(user.email))
        messages.success(request, f"Logins unlocked for {queryset.count()} account(s).")


class WorkingHoursInline(admin.TabularInline[WorkingHours, PhysicianProfile]):
    model = WorkingHours
    extra = 0


class TimeOffInline(admin.TabularInline[TimeOff, PhysicianProfile]):
    model = TimeOff
    extra = 0


@admin.register(PhysicianProfile)
class PhysicianProfileAdmin(admin.ModelAdmin[PhysicianProfile]):
    inlines = [WorkingHoursInline, TimeOffInline]
    list_display = ["display_name", "credential", "accepting_new_cases", "max_open_cases"]
    list_filter = ["accepting_new_cases", "credential", "body_regions"]
    search_fields = ["display_name", "user__email", "npi_number"]
    filter_horizontal = ["body_regions"]
    autocomplete_fields = ["user"]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin[OutboundEmail]):
    list_display = ["subject", "to", "created_at", "sent_at", "attempts"]
    list_filter = ["sent_at"]
    search_fields = ["to", "subject"]
    readonly_fields = [
        "public_id",
        "to",
        "subject",
        "body",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
    ]

    def has_add_permission(self, request: object) -> bool:
        return False
