"""RevOps defines, per scoring model (its segment), the buying committee's roles, how a person is
matched to each, the account rules and the MQA threshold: one page per model."""

from django.contrib import admin

from .models import AccountRule, AccountScore, AccountScoring, CommitteeRole


class RoleInline(admin.TabularInline):
    model = CommitteeRole
    extra = 0
    fields = ["position", "name", "personas", "departments", "title_keywords"]


class RuleInline(admin.TabularInline):
    model = AccountRule
    extra = 0
    fields = ["measure", "at_least", "points"]


@admin.register(AccountScoring)
class AccountScoringAdmin(admin.ModelAdmin):
    list_display = ["model", "engaged_points", "mqa_threshold", "role_count", "rule_count"]
    list_select_related = ["model"]
    inlines = [RoleInline, RuleInline]

    @admin.display(description="Committee roles")
    def role_count(self, obj: AccountScoring) -> int:
        return obj.roles.count()

    @admin.display(description="Account rules")
    def rule_count(self, obj: AccountScoring) -> int:
        return obj.rules.count()


@admin.register(AccountScore)
class AccountScoreAdmin(admin.ModelAdmin):
    """Read-only: written by the batch after scoring (qualify/abm/refresh.py)."""

    list_display = ["account", "score", "engaged_people", "departments_engaged", "roles_covered", "roles_total",
                    "engaged_this_week", "mqa_at", "computed_at"]
    list_filter = [("mqa_at", admin.EmptyFieldListFilter)]
    list_select_related = ["account"]
    search_fields = ["account__name"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
