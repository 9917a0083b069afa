"""Import mapping beyond built-in fields: custom properties, value maps, unknown sources, files
without names (qualify/imports/mapping.py)."""

import pytest

from qualify.errors import DomainError
from qualify.imports.jobs import create_job, start
from qualify.imports.models import ImportStatus
from qualify.leads.models import Account, Lead, Property, Stage

MARKETING = (
    "Email,Lead Source,Converted,TotalVisits,Occupation,Newsletter,Close Date\n"
    "a@x.example,Google,1,5,Student,yes,2026-01-10\n"
    "b@x.example,Live chat,0,3.5,Working Professional,no,2026-01-11\n"
    "c@x.example,Referral site,0,,Unemployed,No,2026-01-12\n"
    "d@x.example,Web,1,12,Student,Yes,2026-01-13\n"
)
NEW_PROPS = {
    "total_visits": {"label": "Total visits", "kind": "number"},
    "occupation": {"label": "Occupation", "kind": "choice", "choices": ["Student", "Working Professional", "Unemployed"]},
    "newsletter": {"label": "Newsletter", "kind": "yesno"},
}
MAPPING = {"Email": "email", "Lead Source": "source", "Converted": "stage", "TotalVisits": "prop:total_visits",
           "Occupation": "prop:occupation", "Newsletter": "prop:newsletter", "Close Date": "close_date"}
STAGES = {"stage": {"1": "won", "0": "lost"}}


def job_for(text, *, team, by, kind="leads", filename="leads.csv", **kw):
    return create_job(kind=kind, team=team, by=by, content=text.encode(), filename=filename, **kw)


def test_columns_map_to_new_properties_and_values_to_stages(north, maria):
    job = job_for(MARKETING, team=north, by=maria, mapping=MAPPING, new_properties=NEW_PROPS, value_maps=STAGES)
    job = start(job, dry_run=False, mode="all_or_nothing")
    assert job.status == ImportStatus.DONE, (job.message, job.errors)
    assert job.bad_rows == 0
    a, b, c, d = Lead.objects.order_by("email")
    assert a.properties == {"total_visits": 5, "occupation": "Student", "newsletter": True}
    assert b.properties == {"total_visits": 3.5, "occupation": "Working Professional", "newsletter": False}
    assert c.properties == {"occupation": "Unemployed", "newsletter": False}
    assert [l.stage for l in (a, b, c, d)] == [Stage.WON, Stage.LOST, Stage.LOST, Stage.WON]
    # Unknown sources are kept as the channel, never a bad row; known ones still map.
    assert [(l.source, l.campaign) for l in (a, b, d)] == [("inbound", "Google"), ("inbound", "Live chat"), ("inbound", "")]
    assert set(Property.objects.values_list("key", "kind")) == {
        ("total_visits", "number"), ("occupation", "choice"), ("newsletter", "yesno")}


def test_a_dry_run_or_a_refused_import_defines_no_property(north, maria):
    bad = MARKETING + "e@x.example,Web,1,many,Student,yes,2026-01-14\n"
    job = job_for(bad, team=north, by=maria, mapping=MAPPING, new_properties=NEW_PROPS, value_maps=STAGES)
    dry = start(job, dry_run=True, mode="all_or_nothing")
    assert (dry.good_rows, dry.bad_rows) == (4, 1)
    assert dry.errors[0]["column"] == "TotalVisits" and "must be a number" in dry.errors[0]["message"]
    refused = start(job, dry_run=False, mode="all_or_nothing")
    assert refused.status == ImportStatus.REFUSED
    assert not Property.objects.exists() and not Lead.objects.exists()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"mapping": {"TotalVisits": "prop:nope"}}, "No active lead property"),
        ({"mapping": {"TotalVisits": "prop:v"}, "new_properties": {"v": {"kind": "colour"}}}, "Unknown property kind"),
        ({"mapping": {"TotalVisits": "prop:v"}, "new_properties": {"v": {"kind": "choice", "choices": []}}}, "list of non-empty"),
        ({"mapping": {"TotalVisits": "prop:Bad Key"}, "new_properties": {"Bad Key": {"kind": "text"}}}, "lower-case letters"),
        ({"mapping": {"Converted": "stage"}, "value_maps": {"stage": {"1": "champion"}}}, "is not a stage"),
        ({"mapping": {"Converted": "stage"}, "value_maps": {"owner": {"1": "x"}}}, "can be mapped for stage and source"),
        ({"mapping": {"Converted": "stage"}, "value_maps": {"stage": {str(i): "won" for i in range(501)}}}, "at most 500"),
        ({"mapping": {"Occupation": "prop:x", "Newsletter": "prop:x"}, "new_properties": {"x": {"kind": "text"}}}, "same field"),
    ],
)
def test_a_bad_mapping_is_refused_and_nothing_is_stored(north, maria, kw, message):
    with pytest.raises(DomainError, match=message):
        job_for(MARKETING, team=north, by=maria, **kw)
    assert not Property.objects.exists()
    from qualify.imports.models import ImportJob
    assert not ImportJob.objects.exists()


def test_an_existing_property_is_reused_not_redefined(north, maria):
    Property.objects.create(key="occupation", label="Occupation", kind="text")
    with pytest.raises(DomainError, match="already exists: map the column to it"):
        job_for(MARKETING, team=north, by=maria, mapping={"Occupation": "prop:occupation"},
                new_properties={"occupation": {"kind": "text"}})
    job = job_for(MARKETING, team=north, by=maria, mapping={"Email": "email", "Occupation": "prop:occupation"})
    job = start(job, dry_run=False, mode="all_or_nothing")
    assert job.status == ImportStatus.DONE and Property.objects.count() == 1
    assert Lead.objects.get(email="a@x.example").properties == {"occupation": "Student"}


UCI_LIKE = (
    '"age";"job";"y"\n'
    '56;"housemaid";"no"\n'
    '41;"admin.";"yes"\n'
)


def test_a_file_without_names_gets_generated_ids_and_a_second_import_is_refused_as_duplicates(north, maria):
    kw = {"mapping": {"age": "prop:age", "job": "prop:job", "y": "stage"},
          "new_properties": {"age": {"kind": "number"}, "job": {"kind": "choice", "choices": ["housemaid", "admin."]}},
          "value_maps": {"stage": {"yes": "won", "no": "lost"}}, "defaults": {"close_date": "2014-11-30"}}
    job = start(job_for(UCI_LIKE, team=north, by=maria, filename="bank.csv", **kw), dry_run=False, mode="all_or_nothing")
    assert job.status == ImportStatus.DONE, job.errors
    leads = list(Lead.objects.order_by("external_id"))
    assert [(l.external_id, l.stage, l.properties) for l in leads] == [
        ("bank-1", Stage.LOST, {"age": 56, "job": "housemaid"}), ("bank-2", Stage.WON, {"age": 41, "job": "admin."})]
    assert leads[0].full_name == "Lead bank-1"
    assert {l.account.name for l in leads} == {"Individuals from bank.csv"}  # one account, not one each
    again = start(job_for(UCI_LIKE, team=north, by=maria, filename="bank.csv", mapping=kw["mapping"], value_maps=kw["value_maps"],
                          defaults=kw["defaults"]), dry_run=True, mode="all_or_nothing")
    assert again.bad_rows == 2 and "already exists" in again.errors[0]["message"]


def test_accounts_import_sets_account_properties(north, maria):
    text = "Company,Website,Tier\nAcme,acme.example,Gold\n"
    job = job_for(text, team=north, by=maria, kind="accounts", mapping={"Company": "company", "Website": "domain", "Tier": "prop:tier"},
                  new_properties={"tier": {"kind": "text"}})
    assert start(job, dry_run=False, mode="all_or_nothing").status == ImportStatus.DONE
    assert Account.objects.get().properties == {"tier": "Gold"}
    assert Property.objects.get().entity == "account"


def test_outcomes_imports_refuse_properties(north, maria):
    with pytest.raises(DomainError, match="does not set properties"):
        job_for("Email,Status,X\na@x.example,Won,1\n", team=north, by=maria, kind="outcomes",
                mapping={"Email": "email", "Status": "stage", "X": "prop:x"}, new_properties={"x": {"kind": "number"}})
