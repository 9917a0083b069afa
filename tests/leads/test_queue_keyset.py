"""The queue's fast paths keep its meaning: scopes that skip restating the access rule still list
only visible leads, and the row-comparison cursor walks ties in exact (score, id) order."""

from django.http import QueryDict

from accounts.models import Role
from qualify.leads.models import Lead, Stage
from qualify.leads.queue import load_queue, queue_scopes
from tests.factories import LeadFactory, UserFactory


def _walk(user, per: int, **params) -> list[int]:
    seen, after = [], ""
    while True:
        query = QueryDict(mutable=True)
        query.update({"per": str(per), **params})
        if after:
            query["after"] = after
        page = load_queue(user, query)
        seen += [lead.pk for lead in page.leads]
        if not page.next_after:
            return seen
        after = page.next_after


def test_every_scope_of_every_role_lists_only_visible_leads(alice, bob, erin, maria, mark, charlie, rita, north, south):
    LeadFactory(team=north, owner=alice, score=40)
    LeadFactory(team=north, owner=bob, score=50)
    LeadFactory(team=north, owner=None, score=60)
    LeadFactory(team=south, owner=None, score=70)
    LeadFactory(team=south, owner=charlie, score=80)
    LeadFactory(team=north, owner=alice, ae=erin, stage=Stage.HANDED_OFF, score=90)
    # A manager who owns a lead in a team she does not manage: "mine" must not reveal it.
    LeadFactory(team=south, owner=maria, score=99)
    for user in (alice, bob, erin, maria, mark, charlie, rita):
        visible = set(Lead.objects.visible_to(user).values_list("pk", flat=True))
        for scope in queue_scopes(user):
            listed = set(_walk(user, 2, scope=scope))
            assert listed <= visible, (user.username, scope, listed - visible)


def test_manager_mine_scope_hides_her_lead_in_another_team(maria, south):
    hidden = LeadFactory(team=south, owner=maria, score=99)
    assert hidden.pk not in _walk(maria, 50, scope="mine")


def test_cursor_walks_ties_in_exact_score_then_id_order(alice, north):
    for i in range(23):
        LeadFactory(team=north, owner=alice, score=[7, 7, 3][i % 3])
    expected = list(
        Lead.objects.filter(owner=alice).order_by("-score", "-id").values_list("pk", flat=True)
    )
    for per in (1, 4, 7):
        assert _walk(alice, per) == expected


def test_pool_walk_covers_the_pool_once(alice, north, south):
    pool = {LeadFactory(team=north, owner=None, score=i % 4).pk for i in range(11)}
    LeadFactory(team=south, owner=None, score=3)  # another team's pool
    walked = _walk(alice, 3, scope="pool")
    assert len(walked) == len(set(walked)) and set(walked) == pool


def test_a_garbled_cursor_starts_from_the_top(alice, north):
    top = LeadFactory(team=north, owner=alice, score=9)
    for bad in ("9", "x:y", "9:1:2:3", ""):
        page = load_queue(alice, QueryDict(f"after={bad}"))
        assert page.leads[0].pk == top.pk


def test_inactive_user_gets_no_pool(north):
    sdr = UserFactory.with_role(Role.SDR, north, username="gone", is_active=False)
    LeadFactory(team=north, owner=None)
    assert load_queue(sdr, QueryDict("scope=pool")).leads == []


def test_filtered_page_has_no_distinct_and_still_finds_by_company(alice, north):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import AccountFactory

    robots = AccountFactory(team=north, name="Acme Robotics")
    hit = LeadFactory(team=north, owner=alice, account=robots, stage=Stage.MQL, first_name="Ann")
    LeadFactory(team=north, owner=alice, stage=Stage.MQL, first_name="Bo")  # another company
    LeadFactory(team=north, owner=alice, account=robots, stage=Stage.NEW, first_name="Cy")  # other stage
    with CaptureQueriesContext(connection) as ctx:
        page = load_queue(alice, QueryDict("stage=mql&q=robot"))
    assert [lead.pk for lead in page.leads] == [hit.pk]
    lead_sql = [q["sql"] for q in ctx.captured_queries if 'FROM "leads_lead"' in q["sql"]]
    assert lead_sql and not any("DISTINCT" in sql for sql in lead_sql)
