import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Lead
from tests.conftest import login

CSV = b"First Name,Email Address,Company,Lead Source,Lead Status\nAda,ada@x.example,X,Web,New\nBo,bad-email,X,Web,New\n"
HTMX = {"HTTP_HX_REQUEST": "true"}


def upload(client, team, content=CSV, kind="leads"):
    return client.post("/imports/", {"kind": kind, "team": team.pk, "file": SimpleUploadedFile("leads.csv", content)})


@pytest.mark.parametrize("who", ["alice", "erin"])
def test_sdrs_and_aes_cannot_import(client, north, who, request):
    login(client, request.getfixturevalue(who))
    assert client.get("/imports/").status_code == 403
    assert upload(client, north).status_code == 403
    assert not ImportJob.objects.exists()


def test_marketing_uploads_and_sees_the_proposed_mapping(client, north, mark):
    r = upload(login(client, mark), north)
    job = ImportJob.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/imports/{job.pk}/"
    assert job.mapping == {"First Name": "first_name", "Email Address": "email", "Company": "company",
                           "Lead Source": "source", "Lead Status": "stage"}
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Dry run (write nothing)" in html and "Email Address" in html


OUTCOMES = b"Email Address,Outcome\nada@x.example,won\n"


@pytest.mark.parametrize("kind", ["accounts", "outcomes"])
def test_marketing_cannot_import_accounts_or_outcomes(client, north, mark, kind):
    """They would rewrite existing accounts or move existing leads to won or lost."""
    login(client, mark)
    assert upload(client, north, OUTCOMES, kind=kind).status_code == 403
    r = client.post("/api/imports/", {"kind": kind, "team": north.pk, "file": SimpleUploadedFile("o.csv", OUTCOMES)})
    assert r.status_code == 403
    assert not ImportJob.objects.exists()
    html = client.get("/imports/").content.decode()
    assert 'value="leads"' in html and 'value="outcomes"' not in html and 'value="accounts"' not in html


def test_a_manager_may_import_outcomes(client, north, maria):
    r = upload(login(client, maria), north, OUTCOMES, kind="outcomes")
    assert r.status_code == 302 and ImportJob.objects.get().kind == "outcomes"


def test_cannot_import_into_another_team(client, south, mark):
    r = upload(login(client, mark), south)
    assert r.status_code == 200 and "Choose a team you can import into" in r.content.decode()
    assert not ImportJob.objects.exists()


def test_dry_run_then_import_good_rows_through_the_page(client, north, maria):
    login(client, maria)
    upload(client, north)
    job = ImportJob.objects.get()
    mapping = {f"map-{i}": f for i, f in enumerate(["first_name", "email", "company", "source", "stage"])}
    client.post(f"/imports/{job.pk}/run/", {**mapping, "action": "dry_run", "mode": "all_or_nothing"})
    job.refresh_from_db()
    assert (job.status, job.dry_run, job.bad_rows) == (ImportStatus.DONE, True, 1)
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert "&#x27;bad-email&#x27; is not an email address" in html
    client.post(f"/imports/{job.pk}/run/", {**mapping, "action": "import", "mode": "all_or_nothing"})
    job.refresh_from_db()
    assert job.status == ImportStatus.REFUSED and not Lead.objects.exists()
    client.post(f"/imports/{job.pk}/run/", {**mapping, "action": "import", "mode": "good_rows"})
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and list(Lead.objects.values_list("first_name", flat=True)) == ["Ada"]


def test_job_page_polls_while_running(client, north, maria):
    login(client, maria)
    upload(client, north)
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, processed_rows=1)
    html = client.get(f"/imports/{job.pk}/?poll=1", **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' in html and "1 of 2 rows checked" in html and "<html" not in html


def test_other_peoples_jobs_are_404(client, north, south, maria, charlie):
    from accounts.models import Role
    from tests.factories import UserFactory

    login(client, maria)
    upload(client, north)
    job = ImportJob.objects.get()
    sven = UserFactory.with_role(Role.MANAGER, south, username="sven")
    login(client, sven)
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert client.post(f"/imports/{job.pk}/run/", {"action": "import"}).status_code == 404


def test_api_import_and_poll(client, north, maria):
    login(client, maria)
    r = client.post("/api/imports/", {"kind": "leads", "team": north.pk, "file": SimpleUploadedFile("l.csv", CSV),
                                      "dry_run": "false", "mode": "good_rows", "defaults": json.dumps({"source": "event"})})
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["status"] == "done" and body["good_rows"] == 1 and body["bad_rows"] == 1
    assert body["errors"][0]["line"] == 3
    assert client.get(f"/api/imports/{body['id']}/").json()["created"]["leads"] == 1


def test_api_refuses_bad_input_and_sdrs(client, north, maria, alice):
    login(client, maria)
    r = client.post("/api/imports/", {"kind": "leads", "team": north.pk, "file": SimpleUploadedFile("l.csv", CSV),
                                      "mapping": "{not json"})
    assert r.status_code == 400 and "mapping" in r.json()
    login(client, alice)
    assert client.post("/api/imports/", {"kind": "leads", "team": north.pk,
                                         "file": SimpleUploadedFile("l.csv", CSV)}).status_code == 403
    assert not Lead.objects.exists()


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
PNG_SENTENCE = "This file is a PNG image, not a CSV file."


def test_a_png_through_the_page_is_refused_with_a_sentence_and_no_job(client, north, maria):
    r = upload(login(client, maria), north, content=PNG)
    assert r.status_code == 200 and PNG_SENTENCE in r.content.decode()
    assert not ImportJob.objects.exists()


def test_a_png_through_the_api_is_a_400_with_the_sentence_and_no_job(client, north, maria):
    r = login(client, maria).post("/api/imports/", {"kind": "leads", "team": north.pk, "file": SimpleUploadedFile("a.csv", PNG)})
    assert r.status_code == 400 and PNG_SENTENCE in r.json()["file"][0]
    assert not ImportJob.objects.exists()


def test_a_utf16_excel_file_with_cr_line_endings_imports_through_the_page(client, north, maria, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes("First Name\tEmail\tCompany\tLead Source\rZoë\tzoe@x.example\tSociété Générale\tWeb\r".encode("utf-16"))
    login(client, maria)
    with path.open("rb") as fh:
        client.post("/imports/", {"kind": "leads", "team": north.pk, "file": fh})
    job = ImportJob.objects.get()
    assert job.header == ["First Name", "Email", "Company", "Lead Source"] and job.total_rows == 1
    client.post(f"/imports/{job.pk}/run/", {"map-0": "first_name", "map-1": "email", "map-2": "company", "map-3": "source",
                                            "action": "import", "mode": "all_or_nothing"})
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.errors
    lead = Lead.objects.get()
    assert (lead.first_name, lead.account.name) == ("Zoë", "Société Générale")
