"""Writing the good rows of a job: accounts, leads and their stage history, in bulk.

Runs inside the job's one transaction (jobs.py), under `pghistory.context(source="import",
import_job=<id>)`, so the audit trail names the job. Leads and their stage history are the past,
not transitions happening now: they are written in bulk by the core's writer of imported history
(qualify/leads/history.py), not by lifecycle.move_stage per row. Stage history dates: created → new, MQL
date → mql, close date → won/lost. Steps in between carry the close date (else the last known
date) and say so in `why` ("step inferred"). Nurture takes the file's recycle date or the
reason "Nurture — recycle later"'s delay.
What was written is published like any other change (qualify/leads/changes.py), marked imported:
new leads, and the leads of accounts whose fit fields changed, are scored after the commit; owners
are recorded; an imported outcome closes the lead's pending handoff and running clocks. Nobody is
routed, clocked or notified for the past.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from qualify.leads.changes import AccountSaved, publish
from qualify.leads.history import write_leads, write_outcomes
from qualify.errors import DomainError
from qualify.leads.models import Account, DisqualifyReason, Lead, Property, Source, Stage, StageChange
from qualify.leads.records import changed_fields

from .mapping import needs_generated_ids
from .models import ImportJob, ImportKind
from .validation import Good, stage_path

NURTURE_REASON = "Nurture — recycle later"
S = Stage
BATCH = 2000


def _name(values: dict[str, Any]) -> tuple[str, str]:
    first, last = values.get("first_name", ""), values.get("last_name", "")
    if not first and values.get("full_name"):
        first, _, rest = values["full_name"].partition(" ")
        last = last or rest
    if not first and values.get("email"):
        first = values["email"].split("@")[0]
    if not first:
        first, last = "Lead", values.get("external_id", "")[-40:]  # the row-unique end of a long or generated id
    return first[:100], last[:100]


def create_properties(job: ImportJob, props: dict[str, Property]) -> None:
    """Define the job's new properties (those the mapping uses), in the import's transaction:
    a dry run or a refused import defines none. A key defined meanwhile by someone else is used
    as it is (its kind was the one the values were checked against only if it matches)."""
    for prop in props.values():
        if prop.pk is None:
            existing = Property.objects.filter(entity=prop.entity, key=prop.key).first()
            if existing is not None and existing.kind != prop.kind:
                raise DomainError(f"The property “{prop.key}” was defined meanwhile as {existing.get_kind_display()}; "
                                  "check the mapping and run the import again.")
            if existing is None:
                prop.position = len(props)
                prop.save()


def _pk(user: User | None) -> int | None:
    return user.pk if user is not None else None


def _apply_accounts(job: ImportJob, goods: list[Good]) -> dict[str, int]:
    """Create accounts, or fill in the blanks of this team's account with the same domain."""
    fields = ["industry", "employees", "revenue", "country", "region", "segment"]
    attr = {"employees": "employee_count", "revenue": "revenue_band"}
    domains = [g.values["domain"] for g in goods if g.values.get("domain")]
    existing = {a.domain: a for a in Account.objects.filter(team_id=job.team_id, domain__in=domains)}
    new, changed, refit = [], [], []
    for g in goods:
        v = g.values
        account = existing.get(v.get("domain", ""))
        if account is None:
            new.append(Account(team_id=job.team_id, name=v["company"][:200], domain=v.get("domain", ""),
                               owner=g.owner, properties=v.get("properties", {}),
                               **{attr.get(f, f): v[f] for f in fields if f in v}))
        else:
            values = {attr.get(f, f): v[f] for f in fields if f in v}
            if "properties" in v:
                values["properties"] = {**account.properties, **v["properties"]}
            refit.append(AccountSaved(account.pk, False, frozenset(changed_fields(account, values)), job.created_by_id))
            for name, value in values.items():
                setattr(account, name, value)
            account.name = v["company"][:200]
            if g.owner:
                account.owner = g.owner
            changed.append(account)
    Account.objects.bulk_create(new, batch_size=BATCH)
    Account.objects.bulk_update(changed, ["name", "owner", "properties", *[attr.get(f, f) for f in fields]], batch_size=500)
    publish("account_saved", [*refit, *(AccountSaved(a.pk, True, by_id=job.created_by_id) for a in new)])
    return {"accounts created": len(new), "accounts updated": len(changed)}


def _history(lead: Lead, path: list[str], start: str, values: dict[str, Any], *, sdr_id: int | None, ae_id: int | None,
             reason: DisqualifyReason | None, job: ImportJob, row: int) -> list[StageChange]:
    """StageChange rows for `path` (see the module docstring for dates and authors)."""
    created = lead.created_at
    known = {S.MQL: values.get("mql_date"), S.WON: values.get("close_date"), S.LOST: values.get("close_date"),
             S.NURTURE: values.get("close_date"), S.DISQUALIFIED: values.get("close_date")}
    fallback = values.get("close_date") or values.get("mql_date") or created
    label = f"Imported from {job.filename or 'CSV'} (job {job.pk}, line {row + 1})"
    out, prev = [], start
    for step in path:
        at = known.get(step) or (created if step == S.MQL else None)
        inferred = at is None
        at = at or fallback
        by_id = sdr_id if step in (S.WORKING, S.HANDED_OFF) else ae_id if step in (S.ACCEPTED, S.OPPORTUNITY, S.WON, S.LOST) else None
        out.append(StageChange(
            lead=lead, from_stage=prev, to_stage=step, at=at, by_id=by_id,
            why=label + (": step inferred, its date is not in the file" if inferred else ""),
            reason=reason if step in (S.DISQUALIFIED, S.NURTURE, S.LOST) else None,
        ))
        prev = step
    return out


def _apply_leads(job: ImportJob, goods: list[Good]) -> dict[str, int]:
    now = timezone.now()
    fields = {"industry": "industry", "employees": "employee_count", "revenue": "revenue_band", "country": "country",
              "region": "region", "segment": "segment"}
    # Accounts: this team's by domain, then by name; rows sharing one share the account.
    domains = {g.values["domain"] for g in goods if g.values.get("domain")}
    by_domain = {a.domain: a for a in Account.objects.filter(team_id=job.team_id, domain__in=domains)}
    by_name: dict[str, Account] = {}
    for a in Account.objects.filter(team_id=job.team_id, name__in={g.values["company"] for g in goods if g.values.get("company")}
                                    | ({f"Individuals from {job.filename or 'CSV'}"[:200]})):
        by_name.setdefault(a.name.lower(), a)
    new_accounts: list[Account] = []
    account_of: list[Account] = []
    # A file with no names, emails or companies (UCI bank marketing): its people share one account
    # named after the file, not one account each named "Lead <generated id>" (41,188 near-identical
    # account names made duplicate detection compare every pair).
    anonymous = f"Individuals from {job.filename or 'CSV'}"[:200] if needs_generated_ids(job.kind, job.mapping, job.defaults or {}) else ""
    for g in goods:
        v = g.values
        domain, company = v.get("domain", ""), v.get("company", "") or anonymous
        account = by_domain.get(domain) if domain else by_name.get(company.lower()) if company else None
        if account is None:
            first, last = _name(v)
            account = Account(team_id=job.team_id, name=(company or f"{first} {last}".strip())[:200], domain=domain,
                              created_at=v.get("created", now), **{a: v[f] for f, a in fields.items() if f in v})
            new_accounts.append(account)
            if domain:
                by_domain[domain] = account
            elif company:
                by_name[company.lower()] = account
        account_of.append(account)
    Account.objects.bulk_create(new_accounts, batch_size=BATCH)

    reason_nurture = DisqualifyReason.objects.filter(name=NURTURE_REASON).first()
    leads, histories = [], []
    for g, account in zip(goods, account_of):
        v = g.values
        first, last = _name(v)
        target = g.path[-1] if g.path else S.NEW
        created = v.get("created", now)
        closed_or_accepted = target in (S.ACCEPTED, S.OPPORTUNITY, S.WON, S.LOST)
        reason = g.reason or (reason_nurture if target == S.NURTURE else None)
        recycle_on = None
        if target == S.NURTURE:
            recycle_on = v.get("recycle_on") or timezone.localdate() + datetime.timedelta(days=(reason.recycle_days if reason else 60))
        lead = Lead(
            team_id=job.team_id, account=account, first_name=first, last_name=last, email=v.get("email", ""),
            phone=v.get("phone", ""), title=v.get("title", ""), department=v.get("department", ""),
            seniority=v.get("seniority", ""), persona=v.get("persona", ""), source=v.get("source", Source.INBOUND),
            campaign=v.get("campaign", ""), external_id=v.get("external_id", ""), properties=v.get("properties", {}),
            owner=(g.ae or g.owner) if closed_or_accepted else g.owner, ae=g.ae, stage=target,
            recycle_on=recycle_on, disqualify_reason=reason if target in (S.NURTURE, S.DISQUALIFIED, S.LOST) else None,
            created_at=created,
        )
        history = [StageChange(lead=lead, from_stage="", to_stage=S.NEW, at=created, by=None,
                               why=f"Imported from {job.filename or 'CSV'} (job {job.pk}, line {g.row + 1})")]
        history += _history(lead, g.path, S.NEW, v, sdr_id=_pk(g.owner), ae_id=_pk(g.ae), reason=reason, job=job, row=g.row)
        lead.stage_changed_at = history[-1].at
        leads.append(lead)
        histories += history
    publish("account_saved", [AccountSaved(a.pk, True, by_id=job.created_by_id) for a in new_accounts])
    write_leads(leads, histories, by_id=job.created_by_id, why=f"Imported (job {job.pk})")
    return {"leads": len(leads), "accounts": len(new_accounts), "stage changes": len(histories)}


def _apply_outcomes(job: ImportJob, goods: list[Good]) -> dict[str, int]:
    """Continue each lead's history to won/lost/disqualified; set its AE (and owner when it had none)."""
    locked = {lead.pk: lead for lead in Lead.objects.select_for_update().filter(pk__in=[g.lead.pk for g in goods])}
    histories, changed = [], []
    before = {pk: (lead.stage, lead.owner_id) for pk, lead in locked.items()}
    for g in goods:
        lead = locked[g.lead.pk]
        if lead.stage != g.lead.stage:
            # Someone moved it since validation: re-derive the path from where it is now.
            g.path = stage_path(lead.stage, g.values["stage"], with_mql=False)
        rows = _history(lead, g.path, lead.stage, g.values, sdr_id=_pk(g.owner) or lead.owner_id,
                        ae_id=_pk(g.ae) or lead.ae_id, reason=g.reason, job=job, row=g.row)
        histories += rows
        lead.stage, lead.stage_changed_at = g.path[-1], rows[-1].at
        lead.ae_id = _pk(g.ae) or lead.ae_id
        lead.owner_id = lead.owner_id or _pk(g.owner)
        lead.updated_at = timezone.now()  # bulk_update skips auto_now; the metrics refresh reads it
        if g.path[-1] in (S.LOST, S.DISQUALIFIED) and g.reason:
            lead.disqualify_reason = g.reason
        changed.append(lead)
    # Outcomes close what is still open (a pending handoff, running clocks) through the listeners.
    write_outcomes(changed, histories, before, by_id=job.created_by_id, why=f"Imported outcome (job {job.pk})")
    won = sum(1 for lead in changed if lead.stage == S.WON)
    return {"won": won, "lost": len(changed) - won, "stage changes": len(histories)}


APPLY = {ImportKind.LEADS: _apply_leads, ImportKind.ACCOUNTS: _apply_accounts, ImportKind.OUTCOMES: _apply_outcomes}
