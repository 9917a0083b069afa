import html

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qualify.leads.models import DisqualifyReason, Lead, Segment, Source, Stage, Touch
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory

QUEUE = "/queue/"


def test_queue_requires_login(client):
    response = client.get(QUEUE)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_sdr_sees_own_open_leads_ranked_by_score(client, alice, bob, north, alices_lead):
    hot = LeadFactory(team=north, owner=alice, score=90, first_name="Hot")
    LeadFactory(team=north, owner=bob, first_name="Bobs")
    LeadFactory(team=north, owner=alice, stage=Stage.WON, first_name="Closed")
    body = login(client, alice).get(QUEUE).content.decode()
    assert "Hot" in body and "Dana" in body
    assert "Bobs" not in body and "Closed" not in body
    assert body.index("Hot") < body.index("Dana")


def test_pool_scope_shows_unassigned_team_leads(client, alice, pool_lead, south):
    LeadFactory(team=south, owner=None, first_name="Southpool")
    body = login(client, alice).get(QUEUE, {"scope": "pool"}).content.decode()
    assert "Paul Pool" in body
    assert "Southpool" not in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stage": "mql"}, {"Mia"}),
        ({"source": "partner"}, {"Pat"}),
        ({"segment": "enterprise"}, {"Eve"}),
        ({"q": "globex"}, {"Eve"}),
        ({"q": "pat@"}, {"Pat"}),
        ({"q": "Mia Moss"}, {"Mia"}),
    ],
)
def test_queue_filters(client, alice, north, params, expected):
    big = AccountFactory(team=north, name="Globex", segment=Segment.ENTERPRISE)
    LeadFactory(team=north, owner=alice, first_name="Mia", last_name="Moss", stage=Stage.MQL)
    LeadFactory(team=north, owner=alice, first_name="Pat", email="pat@initech.example", source=Source.PARTNER)
    LeadFactory(team=north, owner=alice, first_name="Eve", account=big)
    body = login(client, alice).get(QUEUE, params).content.decode()
    shown = {name for name in ("Mia", "Pat", "Eve") if f">{name} " in body}
    assert shown == expected


def test_queue_reads_the_filter_forms_empty_selects_as_any(client, alice, north):
    """The page's filter form (htmx) submits every field; "Any stage" arrives as `stage=`."""
    LeadFactory(team=north, owner=alice, first_name="Mia", last_name="Moss", stage=Stage.MQL)
    LeadFactory(team=north, owner=alice, first_name="Pat", stage=Stage.NEW)
    LeadFactory(team=north, owner=alice, first_name="Nell", stage=Stage.NURTURE)
    login(client, alice)
    form = {"scope": "mine", "q": "", "stage": "", "source": "", "segment": ""}
    names = lambda response: {lead.first_name for lead in response.context["page"].leads}  # noqa: E731
    assert names(client.get(QUEUE, form)) == {"Mia", "Pat"}
    assert names(client.get(QUEUE, {**form, "stage": "mql"})) == {"Mia"}


def test_keyset_pages_cover_everything_once(client, alice, north):
    for i in range(25):
        LeadFactory(team=north, owner=alice, score=i % 7, first_name=f"L{i:02d}")
    login(client, alice)
    seen, after = [], ""
    while True:
        response = client.get(QUEUE, {"per": 10, "after": after})
        page = response.context["page"]
        seen += [lead.pk for lead in page.leads]
        if not page.next_after:
            break
        after = page.next_after
    assert len(seen) == 25 == len(set(seen))


def test_load_more_returns_only_the_next_rows(client, alice, north):
    leads = [LeadFactory(team=north, owner=alice, score=i) for i in range(3)]
    body = login(client, alice).get(QUEUE, {"per": 1, "after": f"2:{leads[2].pk}"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in body and "<thead" not in body
    assert f'id="lead-{leads[1].pk}"' in body and f'id="lead-{leads[2].pk}"' not in body
    assert 'id="load-more"' in body


def test_queue_query_count_does_not_grow_with_page_size(client, alice, north):
    for i in range(60):
        LeadFactory(team=north, owner=alice, score=i)
    login(client, alice)
    counts = []
    for per in (5, 50):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(QUEUE, {"per": per}).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    # session, user, memberships, decayed-score refresh, rows, SLA badges, saved views and the bulk
    # bar's reasons, account signals. The total is a request of its own (/queue/total/).
    assert counts[0] <= 9


def test_queue_query_count_does_not_grow_with_returned_leads(client, alice, north):
    """A lead an AE sent back to Working shows its reason in the row: read with the page, not per row."""
    reason = DisqualifyReason.objects.get(name="No authority")
    LeadFactory(team=north, owner=alice, stage=Stage.WORKING, disqualify_reason=reason)
    login(client, alice)
    with CaptureQueriesContext(connection) as one:
        assert "↩ No authority" in client.get(QUEUE).content.decode()
    for _ in range(5):
        LeadFactory(team=north, owner=alice, stage=Stage.WORKING, disqualify_reason=reason)
    with CaptureQueriesContext(connection) as six:
        assert client.get(QUEUE).content.decode().count("↩ No authority") == 6
    assert len(six) == len(one)


def test_queue_rows_escape_what_people_typed(client, alice, north):
    """The rows are Jinja2 (qualify/jinja.py), not Django templates: they must escape as Django does."""
    account = AccountFactory(team=north, name='<img src=x onerror="alert(2)">', region="<i>EMEA</i>")
    LeadFactory(team=north, owner=alice, account=account, first_name="<script>alert(1)</script>",
                last_name="O'Hara", title="<b>VP</b>")
    body = login(client, alice).get(QUEUE).content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x" not in body and "<b>VP</b>" not in body and "<i>EMEA</i>" not in body
    assert "O&#39;Hara" in body


def test_logging_a_touch_inline_rerenders_the_row(client, alice, alices_lead):
    response = login(client, alice).post(
        reverse("leads:touch", args=[alices_lead.pk]),
        {"kind": "call", "outcome": "voicemail", "note": "Left a message"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="lead-{alices_lead.pk}"' in body and "Logged: Call: Left voicemail" in body
    assert "<html" not in body
    alices_lead.refresh_from_db()
    assert alices_lead.stage == Stage.WORKING
    assert Touch.objects.get(lead=alices_lead).note == "Left a message"


def test_touch_without_javascript_redirects_back(client, alice, alices_lead):
    response = login(client, alice).post(
        reverse("leads:touch", args=[alices_lead.pk]), {"kind": "email", "outcome": "sent", "next": "/queue/"}
    )
    assert response.status_code == 302 and response["Location"] == "/queue/"


def test_touch_with_bad_input_changes_nothing(client, alice, alices_lead):
    response = login(client, alice).post(
        reverse("leads:touch", args=[alices_lead.pk]), {"kind": "pigeon", "outcome": "sent"}, HTTP_HX_REQUEST="true"
    )
    # The row is Jinja2, which writes ' as &#39; where Django writes &#x27;: compare the text.
    assert "'pigeon' is not a kind of touch." in html.unescape(response.content.decode())
    assert not Touch.objects.exists()


def test_too_long_touch_note_is_told_so_and_kept_in_the_row(client, alice, alices_lead):
    note = ("Called twice, " * 1500).strip()  # 20,999 characters
    response = login(client, alice).post(
        reverse("leads:touch", args=[alices_lead.pk]), {"kind": "call", "outcome": "connected", "note": note},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "The note is too long: 20,999 characters; keep it to 5,000." in html
    assert "kind" not in html.split('role="alert">')[1].split("</div>")[0]  # names the real problem only
    assert 'class="inline-action" open' in html and 'value="Called twice, Called twice,' in html
    # The kind and outcome chosen come back too, not the first of each list.
    assert '<option value="call" selected>' in html and '<option value="connected" selected>' in html
    assert html.count(" selected>") == 2
    assert not Touch.objects.exists()


def test_refused_touch_on_the_lead_page_shows_the_form_as_typed(client, alice, alices_lead):
    note = "x" * 20_000
    response = login(client, alice).post(
        reverse("leads:touch", args=[alices_lead.pk]), {"kind": "email", "outcome": "sent", "note": note}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "The note is too long: 20,000 characters; keep it to 5,000." in html
    assert '<option value="email" selected>' in html and note in html
    assert not Touch.objects.exists()


def test_outsider_cannot_touch_or_see_lead(client, charlie, alices_lead):
    login(client, charlie)
    assert client.get(reverse("leads:detail", args=[alices_lead.pk])).status_code == 404
    response = client.post(reverse("leads:touch", args=[alices_lead.pk]), {"kind": "call", "outcome": "connected"})
    assert response.status_code == 404
    assert not Touch.objects.exists()


def test_marketing_reads_but_cannot_touch(client, mark, alices_lead):
    login(client, mark)
    assert client.get(reverse("leads:detail", args=[alices_lead.pk])).status_code == 200
    response = client.post(reverse("leads:touch", args=[alices_lead.pk]), {"kind": "call", "outcome": "connected"})
    assert response.status_code == 403
    assert not Touch.objects.exists()


def test_marketing_opens_on_the_whole_team_with_no_actions_to_be_refused_by(client, mark, maria, alices_lead, pool_lead):
    """Marketing reads the team's leads and changes none: no row action, checkbox or bulk bar."""
    body = login(client, mark).get("/queue/").content.decode()
    assert 'aria-selected="true" class="active">Whole team' in body
    assert f'id="lead-{alices_lead.pk}"' in body and f'id="lead-{pool_lead.pk}"' in body
    assert "Read only" in body
    for offered in ('name="ids"', "Log touch", "Move to", ">Claim<", 'id="bulk-form"'):
        assert offered not in body, offered
    # A manager of the same team still gets them all.
    body = login(client, maria).get("/queue/").content.decode()
    assert 'name="ids"' in body and "Log touch" in body and ">Claim<" in body and 'id="bulk-form"' in body
    assert "Read only" not in body


def test_inline_move_to_allowed_stage(client, alice, alices_lead):
    response = login(client, alice).post(
        reverse("leads:move", args=[alices_lead.pk]), {"to": "mql", "expect": "new"}, HTTP_HX_REQUEST="true"
    )
    assert "Moved to MQL" in response.content.decode()
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.MQL


def test_inline_illegal_move_shows_error_and_changes_nothing(client, alice, alices_lead):
    response = login(client, alice).post(
        reverse("leads:move", args=[alices_lead.pk]), {"to": "won", "expect": "new"}, HTTP_HX_REQUEST="true"
    )
    assert "cannot move from New to Won" in response.content.decode()
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.NEW


def test_claiming_a_pool_lead(client, alice, bob, pool_lead):
    login(client, alice).post(reverse("leads:claim", args=[pool_lead.pk]), HTTP_HX_REQUEST="true")
    pool_lead.refresh_from_db()
    assert pool_lead.owner == alice
    response = login(Client(), bob).post(reverse("leads:claim", args=[pool_lead.pk]))
    assert response.status_code == 404  # no longer in bob's pool
    assert Lead.objects.get(pk=pool_lead.pk).owner == alice


def test_posts_need_a_csrf_token(alice, alices_lead):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("leads:touch", args=[alices_lead.pk]), {"kind": "call", "outcome": "connected"})
    assert response.status_code == 403
    assert not Touch.objects.exists()


def test_lead_page_shows_account_and_timeline(client, alice, alices_lead):
    from qualify.leads.touches import log_touch
    from tests.factories import EventFactory

    EventFactory(lead=alices_lead, type="demo_request", properties={})
    log_touch(alices_lead, by=alice, kind="meeting", outcome="meeting_booked", note="Discovery booked for Tue")
    body = login(client, alice).get(reverse("leads:detail", args=[alices_lead.pk])).content.decode()
    assert alices_lead.account.name in body
    assert "Demo request" in body and "Discovery booked for Tue" in body and "Working" in body


def test_disqualify_from_lead_page_needs_a_reason_note(client, alice, alices_lead):
    from qualify.leads.models import DisqualifyReason

    other = DisqualifyReason.objects.get(name="Other")
    response = login(client, alice).post(
        reverse("leads:disqualify", args=[alices_lead.pk]), {"reason": other.pk, "note": "short"}, HTTP_HX_REQUEST="true"
    )
    assert "at least 40 characters" in response.content.decode()
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.NEW


def test_a_refused_disqualify_without_javascript_keeps_the_note(client, alice, alices_lead):
    """Without htmx the refusal was a redirect with a flash, and the note typed was lost (the touch
    and hand-off forms already came back as typed)."""
    from qualify.leads.models import DisqualifyReason

    other = DisqualifyReason.objects.get(name="Other")
    response = login(client, alice).post(
        reverse("leads:disqualify", args=[alices_lead.pk]), {"reason": other.pk, "note": "Tiny agency, no"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "at least 40 characters" in page and ">Tiny agency, no</textarea>" in page
    assert f'<option value="{other.pk}" selected>' in page
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.NEW


def test_claiming_marks_the_lead_changed_for_metrics(client, alice, pool_lead):
    before = pool_lead.updated_at
    login(client, alice).post(reverse("leads:claim", args=[pool_lead.pk]))
    pool_lead.refresh_from_db()
    assert pool_lead.owner == alice and pool_lead.updated_at > before


def test_the_filter_menus_keep_what_was_chosen(client, maria, alice, bob, north):
    """The stage, source, segment and rep menus are built in Python (views.select_options): what the
    request chose stays selected, and nothing else is."""
    page = login(client, maria).get(
        QUEUE, {"scope": "team", "stage": ["mql", "working"], "source": "partner", "segment": "enterprise", "owner": bob.pk}
    ).content.decode()
    for value in ("mql", "working", "partner", "enterprise"):
        assert f'<option value="{value}" selected>' in page
    assert f'<option value="{bob.pk}" selected>Bob Brown</option>' in page
    assert f'<option value="{alice.pk}">Alice Adams</option>' in page
    assert page.count(" selected>") == 5
