import datetime

import pghistory.models
import pytest

from qualify.errors import DomainError
from qualify.imports.jobs import create_job, run_job, start
from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Account, Lead, Stage, StageChange
from tests.factories import LeadFactory

SALESFORCE = (
    "First Name,Last Name,Email,Company,Website,Lead Source,Lead Status,Created Date,Lead Owner,Industry,No. of Employees\n"
    "Ada,Lovelace,ada@analytical.example,Analytical Engines,https://www.analytical.example/about,Web,Working - Contacted,"
    "2026-01-05,alice@example.com,Software,120\n"
    "Grace,Hopper,grace@cobol.example,Cobol Corp,cobol.example,Trade Show,Open - Not Contacted,01/07/2026,bob,Software,51-200\n"
)


def job_for(text, *, team, by, kind="leads", **kw) -> ImportJob:
    return create_job(kind=kind, team=team, by=by, content=text.encode(), filename="export.csv", **kw)


def run(job, *, dry_run=False, mode="all_or_nothing") -> ImportJob:
    return start(job, dry_run=dry_run, mode=mode)


def test_import_creates_leads_accounts_and_history(north, alice, bob, maria):
    job = run(job_for(SALESFORCE, team=north, by=maria))
    assert job.status == ImportStatus.DONE, job.message
    ada = Lead.objects.get(email="ada@analytical.example")
    assert (ada.stage, ada.source, ada.owner, ada.team) == (Stage.WORKING, "inbound", alice, north)
    assert ada.account.domain == "analytical.example" and ada.account.employee_count == 120
    assert list(ada.stage_changes.order_by("at", "id").values_list("from_stage", "to_stage")) == [("", "new"), ("new", "working")]
    grace = Lead.objects.get(email="grace@cobol.example")
    assert (grace.stage, grace.source, grace.owner) == (Stage.NEW, "event", bob)
    assert grace.created_at.date() == datetime.date(2026, 1, 7)  # US month/day/year
    assert grace.account.employee_count == 125
    assert job.created == {"leads": 2, "accounts": 2, "stage changes": 3}


def test_the_import_is_recorded_in_the_audit_history_with_its_job(north, alice, bob, maria):
    job = run(job_for(SALESFORCE, team=north, by=maria))
    assert pghistory.models.Context.objects.filter(metadata__source="import", metadata__import_job=job.pk).exists()


BAD = (
    "First Name,Email,Company,Lead Source,Lead Status,Created Date,Lead Owner\n"
    "Ok,ok@fine.example,Fine Inc,Web,New,2026-01-05,alice\n"
    "Bad1,not-an-email,Fine Inc,Web,New,2026-01-05,alice\n"
    "Bad2,b2@fine.example,Fine Inc,Web,Sleeping,2026-01-05,alice\n"
    "Bad3,b3@fine.example,Fine Inc,Web,Disqualified,2026-01-05,alice\n"
    "Bad4,b4@fine.example,Fine Inc,Web,New,yesterday,alice\n"
    "Bad5,b5@fine.example,Fine Inc,Web,New,2026-01-05,charlie\n"
    "Bad6,b6@fine.example,Fine Inc,Web,Handed off,2026-01-05,alice\n"
    "Bad7,b7@fine.example,Fine Inc,Web,Closed Won,2026-01-05,alice\n"
)


def test_dry_run_reports_every_bad_row_with_its_reason_and_writes_nothing(north, alice, charlie, maria):
    job = run(job_for(BAD, team=north, by=maria), dry_run=True)
    assert job.status == ImportStatus.DONE and (job.good_rows, job.bad_rows) == (1, 7)
    by_line = {e["line"]: (e["column"], e["message"]) for e in job.errors}
    assert by_line[3] == ("Email", "'not-an-email' is not an email address")
    assert by_line[4][0] == "Lead Status" and "unknown status 'Sleeping'" in by_line[4][1]
    assert by_line[5] == ("Lead Status", "Disqualified needs a reason")
    assert by_line[6][0] == "Created Date" and "not a date" in by_line[6][1]
    assert by_line[7][0] == "Lead Owner" and "not a rep of this team" in by_line[7][1]
    assert "cannot be imported" in by_line[8][1]
    assert by_line[9][1] == "Won needs a close date"
    assert not Lead.objects.exists() and not Account.objects.exists()
    assert "Nothing was written" in job.message


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(north, alice, charlie, maria):
    job = run(job_for(BAD, team=north, by=maria), mode="all_or_nothing")
    assert job.status == ImportStatus.REFUSED
    assert "nothing was imported" in job.message
    assert not Lead.objects.exists() and not StageChange.objects.exists()
    assert job.imported_at is None


def test_good_rows_mode_writes_the_good_rows_and_lists_the_bad(north, alice, charlie, maria):
    job = run(job_for(BAD, team=north, by=maria), mode="good_rows")
    assert job.status == ImportStatus.DONE
    assert list(Lead.objects.values_list("first_name", flat=True)) == ["Ok"]
    assert job.bad_rows == 7 and "7 bad rows skipped" in job.message


def test_an_imported_file_cannot_be_run_again(north, alice, bob, maria):
    job = run(job_for(SALESFORCE, team=north, by=maria))
    with pytest.raises(DomainError, match="already imported"):
        run(job)
    assert Lead.objects.count() == 2


def test_run_job_claims_once(north, alice, bob, maria):
    job = job_for(SALESFORCE, team=north, by=maria)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING, dry_run=False)
    assert run_job(job.pk) is not None
    assert run_job(job.pk) is None  # already claimed: a redelivered task does nothing
    assert Lead.objects.count() == 2


WON = (
    "Lead ID,First Name,Company,Lead Status,Created Date,MQL Date,Close Date,SDR,AE\n"
    "X1,Wendy,Won Co,Closed Won,2026-01-01,2026-01-02,2026-02-01 10:00:00,alice,erin\n"
    "X2,Otto,Out Co,Working,2026-01-01,,,bob,\n"
)


def test_won_lead_history_walks_the_funnel_with_the_files_dates(north, alice, bob, erin, maria):
    job = run(job_for(WON, team=north, by=maria))
    assert job.status == ImportStatus.DONE, job.errors
    wendy = Lead.objects.get(external_id="X1")
    steps = list(wendy.stage_changes.order_by("at", "id").values_list("to_stage", "at", "by__username", "why"))
    assert [s[0] for s in steps] == ["new", "mql", "working", "handed_off", "accepted", "opportunity", "won"]
    assert steps[1][1].date() == datetime.date(2026, 1, 2)
    assert steps[-1][1] == datetime.datetime(2026, 2, 1, 10, tzinfo=datetime.UTC)
    assert [s[2] for s in steps[2:]] == ["alice", "alice", "erin", "erin", "erin"]
    assert "step inferred" in steps[3][3] and "step inferred" not in steps[-1][3]
    assert (wendy.stage, wendy.owner, wendy.ae) == (Stage.WON, erin, erin)
    otto = Lead.objects.get(external_id="X2")
    # No MQL date and not imported as an MQL: no MQL step is invented.
    assert list(otto.stage_changes.order_by("at", "id").values_list("to_stage", flat=True)) == ["new", "working"]


def test_duplicate_and_existing_external_ids_are_bad_rows(north, alice, maria):
    LeadFactory(team=north, external_id="E1")
    text = "Lead ID,First Name\nE1,Existing\nE2,New\nE2,Twice\n"
    job = run(job_for(text, team=north, by=maria), dry_run=True)
    assert [(e["line"], e["message"]) for e in job.errors] == [
        (2, "a lead with external id E1 already exists in this team"), (4, "external id E2 appears twice in the file")]


OUTCOMES = ("Lead ID,Outcome,Close Date,Lost Reason\nM1,Won,2026-03-01,\nM2,Closed Lost,2026-03-02,No budget\nM3,Won,2026-03-03,\n"
            "M4,Won,,\nNOPE,Won,2026-03-01,\nM5,Won,2026-03-01,\n")


def test_outcomes_continue_existing_histories_and_refuse_impossible_moves(north, alice, erin, maria):
    m1 = LeadFactory(team=north, external_id="M1", stage=Stage.MQL, owner=alice)
    m2 = LeadFactory(team=north, external_id="M2", stage=Stage.OPPORTUNITY, owner=erin, ae=erin)
    LeadFactory(team=north, external_id="M3", stage=Stage.DISQUALIFIED)
    LeadFactory(team=north, external_id="M4", stage=Stage.MQL)
    LeadFactory(team=north, external_id="M5", stage=Stage.WON)
    job = run(job_for(OUTCOMES, team=north, by=maria, kind="outcomes"), mode="good_rows")
    assert job.status == ImportStatus.DONE
    assert {e["line"]: e["message"] for e in job.errors} == {
        4: "this lead is Disqualified; it cannot become Won", 5: "an outcome needs a close date",
        6: "no lead of this team has this id or email", 7: "this lead is already Won"}
    m1.refresh_from_db()
    m2.refresh_from_db()
    assert m1.stage == Stage.WON and m2.stage == Stage.LOST and m2.disqualify_reason.name == "No budget"
    assert list(m1.stage_changes.order_by("at", "id").values_list("from_stage", "to_stage")) == [
        ("mql", "working"), ("working", "handed_off"), ("handed_off", "accepted"), ("accepted", "opportunity"), ("opportunity", "won")]
    assert list(m2.stage_changes.values_list("to_stage", flat=True)) == ["lost"]


def test_a_disqualified_outcome_is_one_step_out_of_the_funnel_and_needs_a_reason(north, alice, maria):
    """An MQL that never became a deal closes as Disqualified on its close date, without the
    handoff, acceptance and opportunity a Lost outcome would have to invent."""
    m1 = LeadFactory(team=north, external_id="M1", stage=Stage.MQL, owner=alice)
    m2 = LeadFactory(team=north, external_id="M2", stage=Stage.MQL)
    text = "id,stage,close,reason\nM1,Disqualified,2026-03-01,Bad data\nM2,Disqualified,2026-03-01,\n"
    job = run(job_for(text, team=north, by=maria, kind="outcomes", mapping={
        "id": "external_id", "stage": "stage", "close": "close_date", "reason": "reason"}), mode="good_rows")
    assert {e["line"]: e["message"] for e in job.errors} == {3: "Disqualified needs a reason"}
    m1.refresh_from_db()
    m2.refresh_from_db()
    assert (m1.stage, m1.disqualify_reason.name, m1.stage_changed_at.date().isoformat()) == ("disqualified", "Bad data", "2026-03-01")
    assert list(m1.stage_changes.values_list("from_stage", "to_stage")) == [("mql", "disqualified")]
    assert m2.stage == Stage.MQL and not m2.stage_changes.exists()  # the refused row changed nothing


ACCOUNTS = "Account Name,Website,Industry,Annual Revenue,Country,Segment\nAcme,acme.example,Retail,$12M,United States,Enterprise\nBeta,beta.example,,2B,Atlantis,SMB\n"


def test_accounts_import_creates_and_updates_by_domain(north, maria):
    Account.objects.create(team=north, name="ACME old", domain="acme.example", industry="Old")
    job = run(job_for(ACCOUNTS, team=north, by=maria, kind="accounts"), mode="good_rows")
    assert [(e["line"], e["column"]) for e in job.errors] == [(3, "Country")]
    acme = Account.objects.get(domain="acme.example")
    assert (acme.name, acme.industry, acme.revenue_band, acme.country, acme.segment) == ("Acme", "Retail", "10m_50m", "US", "enterprise")
    assert job.created == {"accounts created": 0, "accounts updated": 1}


def test_another_teams_domain_is_this_teams_new_account_and_is_never_mentioned(north, south, maria):
    """Domains are per team: another team's customer is neither a clash nor something to reveal."""
    Account.objects.create(team=south, name="Theirs", domain="theirs.example")
    job = run(job_for("Company,Website,First Name\nX,theirs.example,Tom\n", team=north, by=maria))
    assert job.errors == [] and job.status == "done"
    assert Account.objects.filter(domain="theirs.example").count() == 2
    assert Lead.objects.get(first_name="Tom").account.team == north


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"a,a\n1,2\n", "same name")],
)
def test_unreadable_files_are_refused(north, maria, content, message):
    with pytest.raises(DomainError, match=message):
        create_job(kind="leads", team=north, by=maria, content=content)
    assert not ImportJob.objects.exists()


def test_large_files_run_in_celery_with_progress(north, maria, monkeypatch, django_capture_on_commit_callbacks):
    from qualify.imports import jobs, tasks

    monkeypatch.setattr(jobs, "INLINE_MAX_ROWS", 1)
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 1)
    sent = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda job_id: sent.append(job_id))
    job = job_for("First Name\nA\nB\nC\n", team=north, by=maria)
    with django_capture_on_commit_callbacks(execute=True):
        job = run(job)
    assert sent == [job.pk] and job.status == ImportStatus.PENDING
    tasks.run_import(job.pk)  # what the worker does
    job.refresh_from_db()
    assert (job.status, job.processed_rows, job.total_rows, job.percent) == (ImportStatus.DONE, 3, 3, 100)
    assert Lead.objects.count() == 3


def test_broken_rows_are_bad_rows_with_their_line_and_the_rest_imports(north, maria):
    text = ('First Name,Email,Company\n'
            'Ada,ada@x.example,"Unclosed\n'
            'Bo,bo@x.example,X,extra\n'
            '\n'
            'Cy,cy@x.example,X\n')
    job = run(job_for(text, team=north, by=maria), mode="good_rows")
    assert job.status == ImportStatus.DONE and (job.good_rows, job.bad_rows) == (1, 2)
    assert [(e["line"], e["message"][:30]) for e in job.errors] == [
        (2, "a quote opened on line 2 is ne"), (3, "4 cells where the header has 3")]
    assert list(Lead.objects.values_list("first_name", flat=True)) == ["Cy"]


def test_imports_keep_values_that_look_like_formulas_as_typed(north, maria):
    job = run(job_for('First Name,Title,Company\n"=HYPERLINK(""http://x.example"",""a"")",+1 VP,@Acme\n', team=north, by=maria))
    assert job.status == ImportStatus.DONE, job.errors
    lead = Lead.objects.get()
    assert (lead.first_name, lead.title, lead.account.name) == ('=HYPERLINK("http://x.example","a")', "+1 VP", "@Acme")


def test_a_deactivated_rep_is_not_an_owner_an_import_may_give_leads_to(north, alice, bob, maria):
    """Deactivating someone leaves their memberships; routing and reassign skip them, and so must
    the importer, or the file's leads sit in the queue of someone who can no longer sign in."""
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    job = run(job_for(SALESFORCE, team=north, by=maria), mode="good_rows")
    assert job.status == ImportStatus.DONE, job.message
    assert not Lead.objects.filter(owner=bob).exists()
    [error] = job.errors
    assert error["column"] == "Lead Owner" and "not a rep of this team" in error["message"]


@pytest.mark.parametrize("employees", ["99999999999", "1e400", "2147483648"])
def test_a_headcount_the_column_cannot_hold_is_that_rows_error_and_the_other_rows_land(north, alice, bob, maria, employees):
    text = SALESFORCE.replace(",Software,120\n", f",Software,{employees}\n")
    job = run(job_for(text, team=north, by=maria), mode="good_rows")
    assert job.status == ImportStatus.DONE, job.message
    assert job.bad_rows == 1 and "too large" in str(job.errors), job.errors
    assert list(Lead.objects.values_list("email", flat=True)) == ["grace@cobol.example"]
