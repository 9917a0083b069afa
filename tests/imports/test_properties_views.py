"""The mapping step of the Import page and POST /api/imports/ with properties and value maps."""

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Lead, Property, Stage
from accounts.models import Role
from tests.conftest import login
from tests.factories import UserFactory

CSV = (b"Email,Lead Source,Converted,TotalVisits,Close Date\n"
       b"a@x.example,Google,1,5,2026-01-10\nb@x.example,Live chat,0,2,2026-01-11\n")


def upload(client, team):
    r = client.post("/imports/", {"kind": "leads", "team": team.pk, "file": SimpleUploadedFile("mkt.csv", CSV)})
    assert r.status_code == 302
    return ImportJob.objects.latest("pk")


def test_the_mapping_page_proposes_a_new_property_with_its_inferred_kind_and_the_values(client, north, maria):
    job = upload(login(client, maria), north)
    html = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'name="kind-3"' in html and '<option value="number" selected>Number</option>' in html
    assert "Map values to stages or sources" in html and 'name="vk-2-0" value="1"' in html


def form_for(job, **extra):
    data = {"mode": "all_or_nothing", "action": "import", "map-0": "email", "map-1": "source", "map-2": "stage",
            "map-3": "new", "label-3": "Total visits", "kind-3": "number", "map-4": "close_date",
            "vk-2-0": "1", "vm-2-0": "won", "vk-2-1": "0", "vm-2-1": "lost"}
    return {**data, **extra}


def test_a_column_mapped_to_a_new_property_and_values_to_stages_import_from_the_page(client, north, maria):
    job = upload(login(client, maria), north)
    r = client.post(f"/imports/{job.pk}/run/", form_for(job))
    assert r.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, (job.message, job.errors)
    assert job.mapping["TotalVisits"] == "prop:total_visits" and job.value_maps == {"stage": {"1": "won", "0": "lost"}}
    a, b = Lead.objects.order_by("email")
    assert (a.stage, a.properties, a.campaign) == (Stage.WON, {"total_visits": 5}, "Google")
    assert (b.stage, b.properties) == (Stage.LOST, {"total_visits": 2})
    assert Property.objects.get().label == "Total visits"


def test_a_wrong_kind_for_a_new_property_refuses_the_rows_and_defines_nothing(client, north, maria):
    job = upload(login(client, maria), north)
    client.post(f"/imports/{job.pk}/run/", form_for(job, **{"map-1": "new", "label-1": "Channel", "kind-1": "number"}))
    job.refresh_from_db()
    assert job.status == ImportStatus.REFUSED and job.bad_rows == 2
    assert not Property.objects.exists() and not Lead.objects.exists()


def test_another_team_cannot_run_or_see_the_job(client, north, south, maria):
    job = upload(login(client, maria), north)
    login(client, UserFactory.with_role(Role.MANAGER, south, username="southern_manager"))
    assert client.post(f"/imports/{job.pk}/run/", form_for(job)).status_code == 404
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED and not Lead.objects.exists() and not Property.objects.exists()


def test_the_same_mapping_through_the_api(client, north, south, maria):
    login(client, maria)
    body = {
        "kind": "leads", "team": north.pk, "dry_run": "false", "file": SimpleUploadedFile("mkt.csv", CSV),
        "mapping": json.dumps({"Email": "email", "Lead Source": "source", "Converted": "stage",
                               "TotalVisits": "prop:total_visits", "Close Date": "close_date"}),
        "properties": json.dumps({"total_visits": {"label": "Total visits", "kind": "number"}}),
        "value_maps": json.dumps({"stage": {"1": "won", "0": "lost"}}),
    }
    r = client.post("/api/imports/", body)
    assert r.status_code == 202, r.content
    assert r.json()["status"] == "done" and r.json()["bad_rows"] == 0
    assert Lead.objects.get(email="a@x.example").properties == {"total_visits": 5}
    # Another team's job: 404 on run, nothing changes.
    login(client, UserFactory.with_role(Role.MANAGER, south, username="southern_manager"))
    job = ImportJob.objects.get()
    assert client.post(f"/api/imports/{job.pk}/run/", {"dry_run": False}, content_type="application/json").status_code == 404


def test_a_bad_property_definition_through_the_api_is_a_400_and_stores_nothing(client, north, maria):
    login(client, maria)
    body = {"kind": "leads", "team": north.pk, "file": SimpleUploadedFile("mkt.csv", CSV),
            "mapping": json.dumps({"TotalVisits": "prop:v"}), "properties": json.dumps({"v": {"kind": "x" * 10_000}})}
    r = client.post("/api/imports/", body)
    assert r.status_code == 400 and "Unknown property kind" in r.content.decode()
    assert not ImportJob.objects.exists() and not Property.objects.exists()


def test_a_lone_surrogate_in_a_json_form_field_is_a_400_and_stores_nothing(client, north, maria):
    """The multipart upload's JSON fields are parsed here, not by the API's JSON parser: "\\ud800"
    without its pair in a mapping or value map must be refused as the parser refuses it."""
    login(client, maria)
    for field, value in (("mapping", {"Email": "email", "\ud800": "source"}), ("value_maps", {"stage": {"1": "\udc00"}})):
        body = {"kind": "leads", "team": north.pk, "file": SimpleUploadedFile("mkt.csv", CSV), field: json.dumps(value)}
        r = client.post("/api/imports/", body)
        assert r.status_code == 400 and field in r.json(), (field, r.content[:300])
    assert not ImportJob.objects.exists()
