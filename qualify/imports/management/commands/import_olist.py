"""Import the Olist marketing funnel (8,000 MQLs, 842 won deals) through the CSV importer and
print its funnel: conversion by origin, deals per SDR and seller, days to close.

Data: "Marketing Funnel by Olist" (Kaggle, CC BY-NC-SA 4.0, © Olist), read in place from
../shared/datasets/olist/ (never copied into the repository).

Mapping, through the same importer the upload page uses:
- olist_marketing_qualified_leads_dataset.csv as a *leads* import: mql_id → external id,
  first_contact_date → created date, origin → campaign / channel; every lead is inbound and
  imported as an MQL (the file lists MQLs).
- olist_closed_deals_dataset.csv as an *outcomes* import: mql_id → external id, won_date → close
  date, sdr_id → SDR, sr_id → AE (the seller); every row is Won.
SDRs and sellers become users of an "Olist" team (username = their id in the file, no password,
so they cannot sign in). The one deal won before its first contact is imported and listed as a
warning on the outcomes job.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Membership, Role, Team, User
from qualify.analytics import metrics as m
from qualify.analytics.rollups import refresh
from qualify.imports.jobs import create_job, run_job
from qualify.imports.models import ImportJob, ImportMode, ImportStatus
from qualify.leads.models import Lead

DEFAULT_DIR = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "olist"
MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"
TEAM = "Olist"
LEADS_MAPPING = {"mql_id": "external_id", "first_contact_date": "created", "origin": "campaign"}
DEALS_MAPPING = {"mql_id": "external_id", "won_date": "close_date", "sdr_id": "owner", "sr_id": "ae"}
RANGE = (datetime.date(2017, 6, 1), datetime.date(2018, 6, 1))


def ensure_people(team: Team, deals_path: Path) -> tuple[int, int]:
    """One user per SDR and seller id in the deals file, members of `team`. Returns (sdrs, sellers)."""
    with deals_path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    sdrs = sorted({r["sdr_id"] for r in rows if r["sdr_id"]})
    sellers = sorted({r["sr_id"] for r in rows if r["sr_id"]})
    existing = set(User.objects.filter(username__in=sdrs + sellers).values_list("username", flat=True))
    unusable = make_password(None)
    # A few ids are both an SDR and a seller in the file: one person, two memberships.
    people = {u: "SDR" for u in sdrs} | {u: ("SDR/Seller" if u in sdrs else "Seller") for u in sellers}
    User.objects.bulk_create(
        [User(username=u, first_name=label, last_name=u[:6], password=unusable) for u, label in people.items() if u not in existing]
    )
    users = dict(User.objects.filter(username__in=sdrs + sellers).values_list("username", "pk"))
    Membership.objects.bulk_create(
        [Membership(user_id=users[u], team=team, role=Role.SDR) for u in sdrs]
        + [Membership(user_id=users[u], team=team, role=Role.AE) for u in sellers],
        ignore_conflicts=True,
    )
    return len(sdrs), len(sellers)


def run_import(*, kind: str, path: Path, team: Team, by: User, mapping: dict, defaults: dict) -> ImportJob:
    job = create_job(kind=kind, team=team, by=by, content=path.read_bytes(), filename=path.name, mapping=mapping, defaults=defaults)
    # Synchronously, whatever the size: this command is the worker.
    ImportJob.objects.filter(pk=job.pk).update(dry_run=False, mode=ImportMode.ALL_OR_NOTHING, status=ImportStatus.PENDING)
    return run_job(job.pk)


def import_olist(directory: Path, *, by: User | None = None) -> dict:
    """Import both files into the Olist team and refresh the rollups. Returns the two jobs."""
    mql_path, deals_path = directory / MQL_FILE, directory / DEALS_FILE
    for p in (mql_path, deals_path):
        if not p.exists():
            raise CommandError(f"{p} not found; pass --dir")
    team, _ = Team.objects.get_or_create(name=TEAM)
    if by is None:
        by, _ = User.objects.get_or_create(username="olist-importer", defaults={"first_name": "Olist", "last_name": "import",
                                                                                "password": make_password(None)})
        Membership.objects.get_or_create(user=by, team=team, role=Role.MANAGER)
    ensure_people(team, deals_path)
    leads = run_import(kind="leads", path=mql_path, team=team, by=by, mapping=LEADS_MAPPING,
                       defaults={"source": "inbound", "stage": "mql"})
    if leads.status != ImportStatus.DONE:
        raise CommandError(f"MQL import: {leads.message} {leads.errors[:5]}")
    deals = run_import(kind="outcomes", path=deals_path, team=team, by=by, mapping=DEALS_MAPPING, defaults={"stage": "won"})
    if deals.status != ImportStatus.DONE:
        raise CommandError(f"Deals import: {deals.message} {deals.errors[:5]}")
    refresh(full=True)
    return {"team": team, "leads_job": leads, "deals_job": deals}


class Command(BaseCommand):
    help = "Import the Olist marketing funnel through the CSV importer and print its funnel."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(DEFAULT_DIR), help=f"folder with the Olist CSVs (default {DEFAULT_DIR})")

    def handle(self, *args, dir: str, **options):
        team = Team.objects.filter(name=TEAM).first()
        if team and Lead.objects.filter(team=team).exists():
            self.stdout.write(f"The {TEAM} team already has leads; showing its funnel.")
            refresh()
        else:
            result = import_olist(Path(dir))
            team = result["team"]
            for job in (result["leads_job"], result["deals_job"]):
                self.stdout.write(f"{job.filename}: {job.message}")
                for w in job.warnings:
                    self.stdout.write(f"  warning, line {w['line']}: {w['message']}")
        self.report(m.Filters(*RANGE, (team.pk,)))

    def report(self, f: m.Filters) -> None:
        out = self.stdout.write
        total = m.funnel_total(f)
        out(f"\nMQLs {total.mql:,} · won {total.won:,} · conversion {100 * total.won / total.mql:.3f}% · "
            f"median days to close {m.median_cycle_days(f).get('')}")
        out("\nConversion by origin:")
        medians = m.median_cycle_days(f, "campaign")
        out(f"  {'origin':<20}{'MQLs':>7}{'won':>6}{'conv %':>9}{'mean d':>8}{'median d':>10}")
        for r in m.funnel_by(f, "campaign"):
            out(f"  {r.label:<20}{r.mql:>7}{r.won:>6}{r.lead_to_won or 0:>9.2f}{r.avg_cycle_days or 0:>8.1f}"
                f"{medians.get(r.key, 0):>10.1f}")
        for dim, title in (("sdr", "SDR"), ("ae", "seller")):
            rows = [r for r in m.funnel_by(f, dim) if r.won]
            rows.sort(key=lambda r: -r.won)
            out(f"\nDeals per {title} ({len(rows)} people, top 10):")
            for r in rows[:10]:
                out(f"  {r.label:<20}{r.won:>5}")
