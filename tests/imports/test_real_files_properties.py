"""Real files through the mapping step, then the same mapping through the API: the UCI bank
marketing file (no names, no dates, outcome `y`) and the Olist files, with zero refused rows.

Uses ../shared/datasets; skipped when it is absent. The UCI test reads a 1,500-row sample of
bank-additional-full.csv (the full 41,188 rows: bench/imports_uci.py)."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from qualify.imports.jobs import run_job
from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Lead, Property, Stage
from tests.conftest import login
from tests.factories import UserFactory

DATA = Path(__file__).resolve().parents[3] / "shared" / "datasets"
UCI = DATA / "uci_bank_marketing" / "bank-additional-full.csv"
OLIST = DATA / "olist"
SAMPLE_ROWS = 1500


def sample(path: Path, rows: int) -> bytes:
    with path.open("rb") as fh:
        return b"".join(line for _, line in zip(range(rows + 1), fh))


def accept_the_proposed_mapping(client, job, **choose):
    """What a user does on the mapping step: keep every proposal, map the unmapped columns to new
    properties with the kind the page inferred, then apply `choose` (column -> form values)."""
    columns = client.get(f"/imports/{job.pk}/").context["columns"]
    form = {"mode": "all_or_nothing", "action": "import"}
    for c in columns:
        i = c["i"]
        form[f"map-{i}"] = c["target"] or "new"
        form[f"label-{i}"], form[f"kind-{i}"] = c["label"], c["kind"]
        for j, (value, _) in enumerate(c["values"]):
            form[f"vk-{i}-{j}"] = value
    for column, values in choose.items():
        i = next(c["i"] for c in columns if c["column"] == column)
        form.update({k.format(i=i): v for k, v in values.items()})
    return form


def run_posted(client, job, form) -> ImportJob:
    assert client.post(f"/imports/{job.pk}/run/", form).status_code == 302
    job.refresh_from_db()
    if job.status == ImportStatus.PENDING:  # larger than the inline limit: queued; run it here
        job = run_job(job.pk)
    return job


@pytest.mark.skipif(not UCI.exists(), reason=f"no UCI data at {UCI}")
def test_uci_bank_marketing_imports_with_zero_refused_rows_from_the_page_and_through_the_api(client, north, south, maria):
    content = sample(UCI, SAMPLE_ROWS)
    login(client, maria)
    client.post("/imports/", {"kind": "leads", "team": north.pk, "file": SimpleUploadedFile("bank-additional-full.csv", content)})
    job = ImportJob.objects.get()
    columns = {c["column"]: c for c in client.get(f"/imports/{job.pk}/").context["columns"]}
    assert columns["age"]["kind"] == "number" and columns["job"]["kind"] == "choice" and columns["y"]["kind"] == "yesno"
    form = accept_the_proposed_mapping(client, job, y={"map-{i}": "stage", "vm-{i}-0": "lost", "vm-{i}-1": "won"},
                                       duration={"after-{i}": "on"}, campaign={"map-{i}": "new"})
    form["default_close_date"] = "2010-11-30"
    assert columns["y"]["values"] == [("no", ""), ("yes", "")]  # most frequent first
    job = run_posted(client, job, form)
    assert job.status == ImportStatus.DONE, (job.message, job.errors[:3])
    assert (job.good_rows, job.bad_rows) == (SAMPLE_ROWS, 0)

    leads = Lead.objects.filter(team=north)
    won = leads.filter(stage=Stage.WON).count()
    assert won + leads.filter(stage=Stage.LOST).count() == SAMPLE_ROWS
    assert won == sum(1 for line in content.splitlines()[1:] if line.endswith(b'"yes"'))
    first = leads.get(external_id="bank-additional-full-1")
    assert first.properties["age"] == 56 and first.properties["job"] == "housemaid"
    assert first.properties["emp_var_rate"] == 1.1 and first.properties["campaign"] == 1
    assert Property.objects.get(key="duration").known_after_contact
    assert Property.objects.filter(entity="lead").count() == 20

    # The same mapping through the API, into another team (ids are unique per team).
    south_manager = UserFactory.with_role(Role.MANAGER, south, username="south_manager")
    login(client, south_manager)
    r = client.post("/api/imports/", {
        "kind": "leads", "team": south.pk, "dry_run": "false", "file": SimpleUploadedFile("bank-additional-full.csv", content),
        "mapping": json.dumps(job.mapping), "value_maps": json.dumps(job.value_maps), "defaults": json.dumps(job.defaults),
    })
    assert r.status_code == 202, r.content
    api_job = run_job(r.json()["id"]) if r.json()["status"] == "pending" else ImportJob.objects.get(pk=r.json()["id"])
    assert (api_job.status, api_job.good_rows, api_job.bad_rows) == (ImportStatus.DONE, SAMPLE_ROWS, 0)
    assert Lead.objects.filter(team=south, stage=Stage.WON).count() == won


@pytest.mark.skipif(not (OLIST / "olist_marketing_qualified_leads_dataset.csv").exists(), reason=f"no Olist data at {OLIST}")
def test_olist_imports_with_zero_refused_rows_from_the_page_and_through_the_api(client, north, maria):
    from qualify.imports.management.commands.import_olist import DEALS_FILE, MQL_FILE, ensure_people

    login(client, maria)
    content = (OLIST / MQL_FILE).read_bytes()
    client.post("/imports/", {"kind": "leads", "team": north.pk, "default_stage": "mql",
                              "file": SimpleUploadedFile(MQL_FILE, content)})
    job = ImportJob.objects.get()
    form = accept_the_proposed_mapping(client, job, origin={"map-{i}": "source"})
    job = run_posted(client, job, form)
    assert job.status == ImportStatus.DONE, (job.message, job.errors[:3])
    assert job.bad_rows == 0 and job.good_rows == content.count(b"\n") - 1
    assert job.mapping["landing_page_id"] == "prop:landing_page_id"
    unknown = Lead.objects.filter(team=north, campaign="unknown")
    assert unknown.count() == 1099 and {l.source for l in unknown[:5]} == {"inbound"}  # kept as the channel
    assert Lead.objects.filter(team=north, properties__has_key="landing_page_id").count() == job.good_rows

    # The closed deals (outcomes) through the API with the mapping the page proposes.
    ensure_people(north, OLIST / DEALS_FILE)
    deals = (OLIST / DEALS_FILE).read_bytes()
    r = client.post("/api/imports/", {
        "kind": "outcomes", "team": north.pk, "dry_run": "false", "file": SimpleUploadedFile(DEALS_FILE, deals),
        "mapping": json.dumps({"mql_id": "external_id", "won_date": "close_date", "sdr_id": "owner", "sr_id": "ae"}),
        "defaults": json.dumps({"stage": "won"}),
    })
    assert r.status_code == 202, r.content
    deals_job = ImportJob.objects.get(pk=r.json()["id"])
    if deals_job.status == ImportStatus.PENDING:
        deals_job = run_job(deals_job.pk)
    assert (deals_job.status, deals_job.bad_rows) == (ImportStatus.DONE, 0), deals_job.errors[:3]
    assert Lead.objects.filter(team=north, stage=Stage.WON).count() == deals.count(b"\n") - 1
