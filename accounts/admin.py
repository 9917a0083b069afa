from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Membership, Team, User


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
