"""Creating and editing leads and accounts: the one write path every door calls (pages, API, admin,
the importer, the demo seed).

The doors validate what people typed (serializers, forms); these functions write it and publish
`lead_saved` / `account_saved` with the names of the fields that really changed, so scoring
rescores only when a field it reads changed. A lead's stage and owner are not fields here: they
change through lifecycle.move_stage and assignment.assign, which keep their history. A new lead
with an owner publishes its first owner change too (recorded like any other).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from qualify.errors import DomainError

from . import properties as custom
from .assignment import assign, eligible_owners
from .changes import AccountSaved, LeadSaved, OwnerChanged, publish
from .models import Account, Lead, MergedAccount, MergedLead, PropertyEntity, Stage

if TYPE_CHECKING:
    from accounts.models import User

# Written only by their own verbs (lifecycle, assignment, scoring), never by an edit.
LEAD_NOT_EDITABLE = frozenset({
    "stage", "stage_changed_at", "recycle_on", "disqualify_reason", "owner", "ae", "last_touch_at", "id",
    "created_at", "score", "score_version", "score_fit", "score_engagement", "score_engagement_at",
    "score_half_life_days", "score_engagement_cap", "score_cap", "fit_grade", "score_watermark",
    "score_computed_at", "score_changes_at",
})


def changed_fields(instance: models.Model, values: Mapping[str, Any]) -> set[str]:
    """The names in `values` whose value differs from the instance's current one. Relations compare
    by id, so this costs no query."""
    changed = set()
    for name, value in values.items():
        field = instance._meta.get_field(name)
        if field.many_to_one or field.one_to_one:
            old, new = getattr(instance, field.attname), getattr(value, "pk", value)
        else:
            old, new = getattr(instance, name), value
        if old != new:
            changed.add(name)
    return changed


def _unique_clash(e: IntegrityError) -> DomainError:
    """A concurrent create won the unique key between the door's check and this insert."""
    text = str(e)
    if "external_id" in text:
        return DomainError("A lead with this external id already exists.", field="external_id")
    if "domain" in text:
        return DomainError("This team already has an account with this domain.", field="domain")
    if "email" in text:
        return DomainError("A lead with this email already exists.", field="email")
    return DomainError("This record already exists.")


# What people paste as a company's domain, cut to the host: scheme, "www.", and from the first
# port, path, query or fragment on. Dedupe's account rule keys on the same (rules.ACCOUNT_DOMAIN
# is its SQL twin), so a stored domain is its own duplicate key.
_DOMAIN_NOISE = re.compile(r"^([a-z]+://)?(www\.)?|[/:?#].*$")
# Host labels of letters (any script), digits and hyphens, at least two of them: "daniel.com".
_HOST = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_](?:[\w-]{0,61}[^\W_])?")


def domain_key(raw: str) -> str:
    """"https://www.Daniel.com:443/about" -> "daniel.com". Pure; garbage comes out as garbage."""
    return _DOMAIN_NOISE.sub("", raw.strip().lower())


def clean_domain(raw: str) -> str:
    """The bare host every account stores ("daniel.com"), or DomainError on the domain field for
    what is no domain at all. "" stays "" (an account without a domain)."""
    if not raw.strip():
        return ""
    host = domain_key(raw)
    if len(host) > Account._meta.get_field("domain").max_length or not _HOST.fullmatch(host):
        raise DomainError(f"“{raw.strip()[:100]}” is not a domain: enter the company's web address, like example.com.",
                          field="domain")
    return host


def clean_email(raw: str) -> str:
    """The address every lead stores, lower-cased, or DomainError on the email field for what is no
    email address (Django's EmailValidator, and no longer than the column). "" stays ""."""
    text = raw.strip()
    if not text:
        return ""
    try:
        if len(text) > Lead._meta.get_field("email").max_length:
            raise ValidationError("too long")
        validate_email(text)
    except ValidationError:
        raise DomainError("Enter a valid email address.", field="email") from None
    return text.lower()


# PostgreSQL's integer, the employee_count column: a larger headcount was a DataError (a 500).
EMPLOYEES_MAX = 2**31 - 1


def _check_headcount(values: Mapping[str, Any]) -> None:
    """DomainError on the employee_count field for a headcount the column cannot hold."""
    count = values.get("employee_count")
    if count is None:
        return
    if count < 0:
        raise DomainError("Employees cannot be negative.", field="employee_count")
    if count > EMPLOYEES_MAX:
        raise DomainError(f"Employees must be at most {EMPLOYEES_MAX:,}.", field="employee_count")


def domain_taken(account: Account) -> DomainError:
    """The refusal for a domain another account of the team has, naming that account (the pages
    link it: records of one team are visible to all its members)."""
    return DomainError(f"This team already has an account with this domain: {account.name} (#{account.pk}).",
                       field="domain")


def _same_domain(team_id: int, domain: str, *, besides: int | None = None) -> Account | None:
    if not domain:
        return None
    return Account.objects.filter(team_id=team_id, domain=domain).exclude(pk=besides).order_by("pk").first()


def _with_properties(entity: str, current: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`properties` in a verb's values is a partial change ({key: raw value}, empty removes):
    validated and merged into the record's current dict here, so every door gets the same checks
    and a bad value raises before anything is written."""
    if "properties" in values:
        values = {**values, "properties": custom.clean_values(entity, current, values["properties"])}
    return values


def _lock_for_edit(obj: Lead | Account) -> None:
    """Lock the row an edit is about to write. The door read it before: a merge that deleted it
    meanwhile is said as such, rather than a save that "did not affect any rows" (a 500)."""
    model = type(obj)
    if not model.objects.select_for_update().filter(pk=obj.pk).exists():
        redirects = MergedLead if model is Lead else MergedAccount
        survivor = redirects.objects.filter(merged_id=obj.pk).values_list("survivor_id", flat=True).first()
        noun = "lead" if model is Lead else "account"
        raise DomainError(f"This {noun} was merged into #{survivor} meanwhile: edit that one." if survivor
                          else f"This {noun} was deleted meanwhile.")


def _with_email(values: dict[str, Any]) -> dict[str, Any]:
    """The email in lower case, as clean_email stores it: events and the Segment door find a lead by
    exactly that, so "Nina@Acme.com" typed in a form was a lead no event reached. Only the case:
    each door validates the address itself (the form, the serializer, the importer's parse_email),
    and the demo seed's accented addresses, which Django's validator refuses, stay as they are."""
    return {**values, "email": (values["email"] or "").strip().lower()} if "email" in values else values


def create_lead(*, by: User | None, owner: User | None = None, **values: Any) -> Lead:
    """A new lead (stage New unless the caller is an import writing history), rescored after commit."""
    bad = LEAD_NOT_EDITABLE & set(values) - {"stage", "created_at"}
    if bad:
        raise TypeError(f"create_lead does not set {', '.join(sorted(bad))}")
    values = _with_email(_with_properties(PropertyEntity.LEAD, {}, values))
    try:
        with transaction.atomic():
            lead = Lead.objects.create(owner=owner, **values)
            publish("lead_saved", [LeadSaved(lead.pk, True, frozenset(values), by.pk if by else None)])
            if owner is not None:
                publish("owner_changed", [OwnerChanged(lead.pk, None, owner.pk, by.pk if by else None, why="Created with an owner")])
    except IntegrityError as e:
        raise _unique_clash(e) from e
    return lead


def edit_lead(lead: Lead, *, by: User | None, **values: Any) -> set[str]:
    """Write the given fields onto `lead` and save only those that changed. Returns their names.

    A move to another team (an admin, through the API) takes the lead's running clocks along
    (sla.listeners.follow_team_change) but not its people: it is refused while the lead waits for an
    AE (the handoff, its AE and their clock are the old team's), and an owner who is not an active
    rep of the new team gives the lead to that team's pool (assign, recorded). A move costs two
    queries more, and the owner change's."""
    bad = LEAD_NOT_EDITABLE & set(values)
    if bad:
        raise DomainError(f"{', '.join(sorted(bad))} cannot be edited here: use its own action.", field=sorted(bad)[0])
    values = _with_email(_with_properties(PropertyEntity.LEAD, lead.properties, values))
    changed = changed_fields(lead, values)
    if not changed:
        return changed
    for name in changed:
        setattr(lead, name, values[name])
    lead.updated_at = timezone.now()
    try:
        with transaction.atomic():
            _lock_for_edit(lead)
            owner_id = _movable(lead) if "team" in changed else None
            lead.save(update_fields=[*changed, "updated_at"])
            publish("lead_saved", [LeadSaved(lead.pk, False, frozenset(changed), by.pk if by else None)])
            if owner_id and not eligible_owners(lead.team_id).filter(pk=owner_id).exists():
                assign(lead, owner=None, by=by, why=f"Moved to {lead.team}: the owner is not a rep of that team")
    except IntegrityError as e:
        raise _unique_clash(e) from e
    return changed


def _movable(lead: Lead) -> int | None:
    """The locked lead's owner id, or DomainError while it waits for an AE (no team move then)."""
    stage, owner_id = Lead.objects.filter(pk=lead.pk).values_list("stage", "owner_id").first()
    if stage == Stage.HANDED_OFF:
        raise DomainError("This lead is waiting for an AE to decide its handoff: have it accepted or rejected "
                          "before moving the lead to another team.", field="team")
    return owner_id


def create_account(*, by: User | None, **values: Any) -> Account:
    """A new account, its domain stored as the bare host ("daniel.com" for "https://www.daniel.com/");
    refused, naming the other account, when the team has one with that domain already (one query)."""
    values = _with_properties(PropertyEntity.ACCOUNT, {}, values)
    _check_headcount(values)
    if "domain" in values:
        values["domain"] = clean_domain(values["domain"])
        team_id = values.get("team_id", getattr(values.get("team"), "pk", None))
        if other := _same_domain(team_id, values["domain"]):
            raise domain_taken(other)
    try:
        with transaction.atomic():
            account = Account.objects.create(**values)
            publish("account_saved", [AccountSaved(account.pk, True, frozenset(values), by.pk if by else None)])
    except IntegrityError as e:
        raise _domain_clash(e, values) from e
    return account


def edit_account(account: Account, *, by: User | None, **values: Any) -> set[str]:
    """Write the given fields; every lead of the account is rescored when a fit field changed.
    The domain is cleaned and checked as create_account does. The team never changes."""
    values = _with_properties(PropertyEntity.ACCOUNT, account.properties, values)
    _check_headcount(values)
    if "domain" in values:
        values["domain"] = clean_domain(values["domain"])
        if values["domain"] != account.domain and (other := _same_domain(account.team_id, values["domain"], besides=account.pk)):
            raise domain_taken(other)
    changed = changed_fields(account, values)
    if not changed:
        return changed
    if "team" in changed:  # its leads would stay in the old team, with an account of another
        raise DomainError("An account stays in its team.", field="team")
    for name in changed:
        setattr(account, name, values[name])
    try:
        with transaction.atomic():
            _lock_for_edit(account)
            account.save(update_fields=list(changed))
            publish("account_saved", [AccountSaved(account.pk, False, frozenset(changed), by.pk if by else None)])
    except IntegrityError as e:
        raise _domain_clash(e, {"team_id": account.team_id, **values}) from e
    return changed


def _domain_clash(e: IntegrityError, values: Mapping[str, Any]) -> DomainError:
    """A concurrent save took the domain between the check and the write: name who has it now."""
    error = _unique_clash(e)
    if error.field == "domain":
        team_id = values.get("team_id", getattr(values.get("team"), "pk", None))
        if other := _same_domain(team_id, values.get("domain", "")):
            return domain_taken(other)
    return error
