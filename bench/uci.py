"""The UCI bank marketing file (Moro et al. 2014) as leads with custom properties, the way an
import writes them: each column but `duration` (known only after the call, and the outcome's
proxy) becomes a property defined as an admin would (kind inferred from the values by
leads.properties.infer), each row a lead closed Won (`y` = yes) or Lost, written by the
importer's writer of the past (leads.history.write_leads) with its stage history. Used by
tests/predictions/test_uci.py on a sample and by bench/predictions.py on the whole file.
"""

from __future__ import annotations

import csv
import datetime
import random
from pathlib import Path

from django.utils import timezone

from qualify.leads import history
from qualify.leads.models import Account, Lead, Property, Stage, StageChange
from qualify.leads.properties import coerce, infer, make_key

PATH = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "uci_bank_marketing" / "bank-additional-full.csv"
DROPPED = {"duration", "y"}


def read(path: Path = PATH, *, sample: int | None = None, seed: int = 0) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f, delimiter=";")
        rows = list(reader)
        header = list(reader.fieldnames or [])
    if sample and sample < len(rows):
        rows = random.Random(seed).sample(rows, sample)
    return header, rows


def define_properties(header: list[str], rows: list[dict[str, str]]) -> dict[str, Property]:
    """One lead property per column (but duration and y), kind inferred from the values."""
    props = {}
    for i, column in enumerate(c for c in header if c not in DROPPED):
        kind, choices = infer([r[column] for r in rows[:5000]])
        props[column], _ = Property.objects.get_or_create(
            entity="lead", key=make_key(column),
            defaults={"label": column, "kind": kind, "choices": choices, "position": i},
        )
    return props


def load(team, *, path: Path = PATH, sample: int | None = None, seed: int = 0, batch: int = 5000) -> int:
    """Import the file (or a random sample of it) into `team` as closed leads. Returns the count."""
    header, rows = read(path, sample=sample, seed=seed)
    props = define_properties(header, rows)
    now = timezone.now()
    account = Account.objects.create(name="UCI bank marketing", team=team)
    written = 0
    for start in range(0, len(rows), batch):
        leads, changes = [], []
        for n, row in enumerate(rows[start : start + batch], start=start):
            closed_at = now - datetime.timedelta(days=1 + n % 300)
            stage = Stage.WON if row["y"] == "yes" else Stage.LOST
            values = {}
            for column, prop in props.items():
                raw = row[column]
                if raw != "":
                    try:
                        values[prop.key] = coerce(prop, raw)
                    except Exception:
                        continue
            lead = Lead(first_name=f"Client {n + 1}", account=account, team=team, stage=stage,
                        stage_changed_at=closed_at, created_at=closed_at - datetime.timedelta(days=30),
                        properties=values, external_id=f"uci-{n + 1}")
            leads.append(lead)
            changes.append(StageChange(lead=lead, from_stage=Stage.NEW, to_stage=stage, at=closed_at, why="Imported outcome"))
        history.write_leads(leads, changes, by_id=None, why="UCI bank marketing import")
        written += len(leads)
    return written
