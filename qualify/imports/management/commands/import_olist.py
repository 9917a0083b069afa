"""Import the Olist marketing funnel (8,000 MQLs, 842 won deals) through the CSV importer and
print its funnel: conversion by origin, deals per SDR and seller, days to close.

Data: "Marketing Funnel by Olist" (Kaggle, CC BY-NC-SA 4.0, © Olist), read in place from
../shared/datasets/olist/ (never copied into the repository).

Mapping, through the same importer the upload page uses:
- olist_marketing_qualified_leads_dataset.csv as a *leads* import: mql_id → external id,
  first_contact_date → created date, origin → campaign / channel, landing_page_id → the text
  property "Landing page"; every lead is inbound and imported as an MQL (the file lists MQLs).
- olist_closed_deals_dataset.csv as an *outcomes* import: mql_id → external id, won_date → close
  date, sdr_id → SDR, sr_id → AE (the seller); every row is Won.
SDRs and sellers become users of an "Olist" team (username = their id in the file, no password,
so they cannot sign in). The one deal won before its first contact is imported and listed as a
warning on the outcomes job.

The files hold no lost deals: an MQL without a closed deal may have been lost, or may still have
closed after the data ends. `--close-unconverted` says what the data does support: no deal by the
end of the data (the day after its last won deal). Those MQLs are closed as *Disqualified*, reason
"No deal by the end of the data", dated that day, through a generated outcomes import whose
file name says so; the command prints it. Disqualified, not Lost: in Qualify a deal is lost after
an opportunity, and these leads never had one. `--train` then trains a prediction version on the
outcomes (the product's own training, every team's outcomes in the window) and prints its
held-out quality: what origin and landing page predict.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import Membership, Role, Team, User
from qualify.analytics import metrics as m
from qualify.analytics.rollups import refresh
from qualify.imports.jobs import create_job, run_job
from qualify.imports.models import ImportJob, ImportMode, ImportStatus
from qualify.leads.models import DisqualifyReason, Lead, Property, ReasonAction, Stage

DEFAULT_DIR = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "olist"
MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"
TEAM = "Olist"
LEADS_MAPPING = {"mql_id": "external_id", "first_contact_date": "created", "origin": "campaign",
                 "landing_page_id": "prop:landing_page_id"}
LEADS_NEW_PROPERTIES = {"landing_page_id": {"label": "Landing page", "kind": "text"}}
NO_DEAL_REASON = "No deal by the end of the data"
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


def run_import(*, kind: str, path: Path | None = None, team: Team, by: User, mapping: dict, defaults: dict,
               content: bytes | None = None, filename: str = "", new_properties: dict | None = None) -> ImportJob:
    content = path.read_bytes() if content is None else content
    job = create_job(kind=kind, team=team, by=by, content=content, filename=filename or path.name, mapping=mapping,
                     defaults=defaults, new_properties=new_properties)
    # Synchronously, whatever the size: this command is the worker.
    ImportJob.objects.filter(pk=job.pk).update(dry_run=False, mode=ImportMode.ALL_OR_NOTHING, status=ImportStatus.PENDING,
                                            pending_since=timezone.now())
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
                       defaults={"source": "inbound", "stage": "mql"},
                       new_properties={k: v for k, v in LEADS_NEW_PROPERTIES.items() if not _defined(k)})
    if leads.status != ImportStatus.DONE:
        raise CommandError(f"MQL import: {leads.message} {leads.errors[:5]}")
    deals = run_import(kind="outcomes", path=deals_path, team=team, by=by, mapping=DEALS_MAPPING, defaults={"stage": "won"})
    if deals.status != ImportStatus.DONE:
        raise CommandError(f"Deals import: {deals.message} {deals.errors[:5]}")
    refresh(full=True)
    return {"team": team, "leads_job": leads, "deals_job": deals}


def _defined(key: str) -> bool:
    return Property.objects.filter(entity="lead", key=key).exists()


def data_end(deals_path: Path) -> datetime.date:
    """The day after the last won deal in the file: the end of what the data observed."""
    with deals_path.open(newline="") as fh:
        last = max(r["won_date"][:10] for r in csv.DictReader(fh) if r["won_date"])
    return datetime.date.fromisoformat(last) + datetime.timedelta(days=1)


def close_unconverted(team: Team, by: User, directory: Path) -> tuple[ImportJob | None, datetime.date]:
    """Close the team's Olist MQLs that have no deal in the files and are still open as
    Disqualified ("No deal by the end of the data"), dated the day after the last deal, through an
    outcomes import of a generated file that names the date. Returns (job or None, that day)."""
    end = data_end(directory / DEALS_FILE)
    with (directory / DEALS_FILE).open(newline="") as fh:
        dealt = {r["mql_id"] for r in csv.DictReader(fh)}
    with (directory / MQL_FILE).open(newline="") as fh:
        mqls = [r["mql_id"] for r in csv.DictReader(fh) if r["mql_id"] not in dealt]
    still_open = set(Lead.objects.filter(team=team, stage=Stage.MQL, external_id__in=mqls).values_list("external_id", flat=True))
    rows = [m for m in mqls if m in still_open]
    if not rows:
        return None, end
    DisqualifyReason.objects.get_or_create(name=NO_DEAL_REASON, defaults={
        "action": ReasonAction.CLOSE, "note_required": False, "min_note_length": 0,
        "description": "Imported: the data ends with no deal for this lead. When or whether it was lost is not known.",
    })
    content = ("mql_id,close_date\n" + "".join(f"{m},{end.isoformat()}\n" for m in rows)).encode()
    job = run_import(kind="outcomes", team=team, by=by, content=content,
                     filename=f"olist MQLs with no deal by {end.isoformat()} (generated by import_olist).csv",
                     mapping={"mql_id": "external_id", "close_date": "close_date"},
                     defaults={"stage": Stage.DISQUALIFIED, "reason": NO_DEAL_REASON})
    if job.status != ImportStatus.DONE:
        raise CommandError(f"Closing MQLs without a deal: {job.message} {job.errors[:5]}")
    return job, end


def train_on_outcomes(team: Team):
    """Train a prediction version through the product (versions.request_training/run_training)
    with a window reaching back to the team's first outcome. Returns the version."""
    from django.db.models import Min

    from qualify.predictions import versions

    first = Lead.objects.filter(team=team, stage__in=(Stage.WON, Stage.LOST, Stage.DISQUALIFIED)).aggregate(
        at=Min("stage_changed_at"))["at"]
    if first is None:
        raise CommandError(f"The {TEAM} team has no outcomes to train on.")
    window = (timezone.now() - first).days + 1
    version = versions.request_training(window_days=window, run=False)
    return versions.run_training(version.pk) or version


class Command(BaseCommand):
    help = "Import the Olist marketing funnel through the CSV importer and print its funnel."

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(DEFAULT_DIR), help=f"folder with the Olist CSVs (default {DEFAULT_DIR})")
        parser.add_argument("--close-unconverted", action="store_true",
                            help="close MQLs with no deal as Disqualified, dated the day after the last deal in the data")
        parser.add_argument("--train", action="store_true", help="train a prediction version and print its quality")

    def handle(self, *args, dir: str, close_unconverted: bool = False, train: bool = False, **options):
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
        if close_unconverted:
            self.close(team, Path(dir))
        self.report(m.Filters(*RANGE, (team.pk,)))
        if train:
            self.train(team)

    def close(self, team: Team, directory: Path) -> None:
        by = User.objects.filter(username="olist-importer").first() or User.objects.filter(is_superuser=True).first()
        job, end = close_unconverted(team, by, directory)
        if job is None:
            self.stdout.write(f"\nNo open MQL without a deal left to close (end of the data: {end.isoformat()}).")
            return
        self.stdout.write(
            f"\nClosed {job.good_rows:,} MQLs that have no deal in the files as Disqualified, reason “{NO_DEAL_REASON}”, "
            f"dated {end.isoformat()}: the day after the last won deal, where the data ends. The files do not say "
            "whether or when these leads were lost; that date is the end of the data, not an observed close. "
            f"(Import job {job.pk}, “{job.filename}”.)"
        )
        refresh(full=True)

    def train(self, team: Team) -> None:
        from qualify.predictions.evaluation import capture_sentence, described_features, verdict

        others = Lead.objects.exclude(team=team).filter(stage__in=(Stage.WON, Stage.LOST, Stage.DISQUALIFIED)).count()
        version = train_on_outcomes(team)
        out = self.stdout.write
        out(f"\n{version}: {version.get_status_display()}" + (f" — {version.error}" if version.error else ""))
        if not version.report:
            return
        r, o = version.report, version.report["overall"]
        if others:
            out(f"  (other teams' {others:,} outcomes in the window were trained on too: training is per installation)")
        out(f"  {r['outcomes']:,} outcomes ({r['won']:,} won) in the last {r['window_days']:,} days; "
            f"held out {o['n']:,} ({o['won']:,} won, base rate {100 * o['base_rate']:.1f} %)")
        out(f"  held-out AUC {o['auc']:.3f} · Brier {o['brier']:.4f} · ECE {o['ece']:.3f} · "
            f"{r['global']['estimator']} · {capture_sentence(o)}")
        if line := verdict(o):
            out(f"  {line}")
        out(f"  learnt from: {', '.join(r['features'])}")
        for f in described_features(r):
            out(f"  alone, {f['label']}: AUC {f['auc']:.3f} ({f['says']})")

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
