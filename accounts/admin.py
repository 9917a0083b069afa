from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, Membership, Team, User
from .tokens import revoke_token


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["team"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "email", "first_name", "last_name", "roles", "is_active", "out_of_office_from", "out_of_office_until"]
    list_filter = ["is_active", "is_staff", "memberships__role", "memberships__team"]
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Availability", {"fields": ("out_of_office_from", "out_of_office_until")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("memberships__team")

    @admin.display(description="Roles")
    def roles(self, obj: User) -> str:
        return ", ".join(f"{m.get_role_display()} ({m.team})" for m in obj.memberships.all())


class TeamMembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "default_ae"]
    search_fields = ["name"]
    autocomplete_fields = ["default_ae"]
    inlines = [TeamMembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "team", "role"]
    list_filter = ["role", "team"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "team__name"]
    autocomplete_fields = ["user", "team"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Every user's tokens. Read-only: keys are created by their owners (the key is shown only to
    them), and revoking goes through the action so it is the same write as the owner's."""

    list_display = ["name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "expires_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = list_display
    fields = list_display
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke selected tokens", permissions=["delete"])
    def revoke(self, request, queryset) -> None:
        count = sum(revoke_token(token) for token in queryset)
        self.message_user(request, f"Revoked {count} token(s).")
