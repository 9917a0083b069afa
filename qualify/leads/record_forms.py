"""The lead and account forms of the app's create and edit pages.

Plain forms built from the models' fields (same lengths, choices and validators as the API's
serializers), not ModelForms: a ModelForm writes what was typed onto the instance while it
validates, and `records.edit_lead` must see the stored values to know which fields changed. Each
form checks what the API checks (the account's team, an eligible owner, a team's external id or
domain already taken) with a message naming the field; the verbs still map a race to the same
message (records._unique_clash).
"""

from __future__ import annotations

from django import forms
from django.forms.models import fields_for_model
from django.utils.html import conditional_escape, format_html

from accounts.models import Role, Team, User
from qualify.errors import DomainError

from . import records
from .access import NO_ACCOUNT_OWNER, can_change_accounts_of, can_create_in_team, visible_accounts
from .assignment import OWNER_ROLES, eligible_owners
from .models import Account, Lead

LEAD_FIELDS = [
    "account", "first_name", "last_name", "email", "phone", "title", "seniority", "department", "persona", "source",
    "campaign", "partner_name", "partner_contact", "external_id",
]
ACCOUNT_FIELDS = ["name", "domain", "industry", "employee_count", "revenue_band", "country", "region", "segment", "owner"]

# Django's defaults ("This field is required.") are shown beside their field's label, and the
# summary at the top of the form repeats each with the label, so every message names its field.
_MESSAGES = {
    "first_name": {"required": "A lead needs a first name."},
    "account": {"required": "Choose the lead's account (or create it first).",
                "invalid_choice": "That account does not exist or is not one of your team's; choose another."},
    "email": {"invalid": "This is not an email address (name@company.com)."},
    "name": {"required": "An account needs a name."},
    "employee_count": {"invalid": "Employees must be a whole number, like 250.",
                       "min_value": "Employees cannot be negative."},
    "country": {"max_length": "Country is a two-letter ISO code, like US or DE."},
    "owner": {"invalid_choice": "Choose an active SDR, AE or manager of this team."},
}


def _model_fields(model, names: list[str]) -> dict[str, forms.Field]:
    fields = fields_for_model(model, fields=names)
    for name, messages in _MESSAGES.items():
        if name in fields:
            fields[name].error_messages.update(messages)
    return fields


class _FieldsOf(forms.Form):
    """Shared by both forms: the values to hand to a records verb, and one line per error."""

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.verb_fields if name in self.cleaned_data}

    def mark_errors(self) -> None:
        """Point each refused field at its message, for screen readers (Django marks it invalid)."""
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = f"id_{name}_error"

    def error_lines(self) -> list[str]:
        lines = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            lines += [format_html("{}: {}", label, e) if label else conditional_escape(e) for e in errors]
        return lines


def linked_domain_taken(account: Account) -> str:
    """records.domain_taken's sentence with the other account's name linked to its page."""
    return format_html("This team already has an account with this domain: <a href=\"{}\">{}</a>.",
                       account.get_absolute_url(), account.name)


class LeadForm(type("LeadFields", (_FieldsOf,), _model_fields(Lead, LEAD_FIELDS))):
    verb_fields = LEAD_FIELDS
    assign_to_me = forms.BooleanField(required=False, label="Make me the owner")

    def __init__(self, *args, user: User, lead: Lead | None = None, **kwargs):
        if lead is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {name: getattr(lead, "account_id" if name == "account" else name) for name in LEAD_FIELDS}
        super().__init__(*args, **kwargs)
        self.user, self.lead = user, lead
        accounts = visible_accounts(user).select_related("team").order_by("name", "id")
        if lead is not None:
            # A lead stays in its team: only its team's accounts (the API refuses the others too).
            accounts = accounts.filter(team_id=lead.team_id)
        elif not user.is_admin:
            accounts = accounts.filter(team_id__in=user.team_ids(Role.MANAGER, Role.SDR, Role.AE, Role.MARKETING))
        self.fields["account"].queryset = accounts
        if len(user.team_ids()) > 1 or user.is_admin:
            self.fields["account"].label_from_instance = lambda a: f"{a.name} ({a.team})"
        if lead is not None or not (user.is_admin or user.team_ids(*OWNER_ROLES)):
            del self.fields["assign_to_me"]

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip()

    def clean(self):
        data = super().clean()
        account: Account | None = data.get("account")
        if account is None:
            return data
        if self.lead is None and not can_create_in_team(self.user, account.team_id):
            self.add_error("account", "You cannot create leads in this account's team.")
        external_id = data.get("external_id")
        if external_id:
            clash = Lead.objects.filter(team_id=account.team_id, external_id=external_id)
            if self.lead is not None:
                clash = clash.exclude(pk=self.lead.pk)
            if clash.exists():
                self.add_error("external_id", "A lead with this external id already exists.")
        if data.get("assign_to_me") and not eligible_owners(account.team_id).filter(pk=self.user.pk).exists():
            self.add_error("assign_to_me", "You cannot own leads of this account's team: leave it unticked.")
        return data


class AccountForm(type("AccountFields", (_FieldsOf,), _model_fields(Account, ACCOUNT_FIELDS))):
    verb_fields = [*ACCOUNT_FIELDS, "team"]
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None, error_messages={
        "required": "Choose the account's team.",
        "invalid_choice": "That team does not exist or you cannot create accounts in it; choose another.",
    })

    def __init__(self, *args, user: User, account: Account | None = None, **kwargs):
        if account is not None and not kwargs.get("data") and not args:
            kwargs["initial"] = {name: getattr(account, f"{name}_id" if name in ("owner", "team") else name)
                                 for name in self.verb_fields}
        super().__init__(*args, **kwargs)
        self.user, self.account = user, account
        if account is not None:
            # Moving an account to another team would strand its leads in the old one: not here.
            del self.fields["team"]
            team_ids = {account.team_id}
        else:
            teams = Team.objects.order_by("name")
            if not user.is_admin:
                teams = teams.filter(pk__in=user.team_ids(Role.MANAGER, Role.SDR, Role.AE, Role.MARKETING))
            self.fields["team"].queryset = teams
            team_ids = set(teams.values_list("pk", flat=True))
        # Everyone who may own an account of these teams; clean() checks the chosen team's.
        self.fields["owner"].queryset = User.objects.filter(
            is_active=True, memberships__team_id__in=team_ids, memberships__role__in=OWNER_ROLES
        ).distinct().order_by("first_name", "username")
        self.fields["owner"].empty_label = "No owner"
        self.fields["owner"].label = "Account owner"
        if account is None and not any(can_change_accounts_of(user, team_id) for team_id in team_ids):
            del self.fields["owner"]  # marketing creates accounts but gives them no owner (clean() checks)

    def clean_domain(self) -> str:
        try:
            return records.clean_domain(self.cleaned_data["domain"])  # the bare host the verb stores
        except DomainError as e:
            raise forms.ValidationError(e.message) from e

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if country and not (len(country) == 2 and country.isascii() and country.isalpha()):
            raise forms.ValidationError("Country is a two-letter ISO code, like US or DE.")
        return country

    def clean(self):
        data = super().clean()
        team_id = self.account.team_id if self.account is not None else getattr(data.get("team"), "pk", None)
        if team_id is None:
            return data
        owner = data.get("owner")
        if owner and self.account is None and not can_change_accounts_of(self.user, team_id):
            self.add_error("owner", NO_ACCOUNT_OWNER)
        elif owner and not eligible_owners(team_id).filter(pk=owner.pk).exists():
            self.add_error("owner", "Choose an active SDR, AE or manager of this team.")
        domain = data.get("domain")
        if domain:
            clash = Account.objects.filter(team_id=team_id, domain=domain)
            if self.account is not None:
                clash = clash.exclude(pk=self.account.pk)
            if other := clash.order_by("pk").first():
                self.add_error("domain", linked_domain_taken(other))
        return data
