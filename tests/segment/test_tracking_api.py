"""/v1/*: Segment's request format, write keys, limits, mapping and dedupe (Django test client)."""

import base64
import gzip
import json
import tracemalloc

import pytest

from qualify.leads.models import Account, Event, Lead
from qualify.scoring.engine import RuleSpec
from qualify.segment.models import PendingEvent, Source
from tests.conftest import login
from tests.factories import LeadFactory


def post(client, path, body, key=None, *, encoding=None):
    data = json.dumps(body).encode()
    headers = {}
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    if encoding == "gzip":
        data = gzip.compress(data)
        headers["HTTP_CONTENT_ENCODING"] = "gzip"
    return client.post(path, data, content_type="application/json", **headers)


def track(message_id, user_id="u-1", event="Report Exported", **kw):
    return {"type": "track", "messageId": message_id, "userId": user_id, "event": event,
            "properties": {"format": "csv"}, "timestamp": "2026-01-05T10:00:00Z", **kw}


def identify(user_id="u-1", **traits):
    return {"type": "identify", "messageId": f"id-{user_id}", "userId": user_id,
            "traits": {"email": "dana@acme.example", "name": "Dana Diaz", "title": "VP Sales",
                       "company": {"name": "Acme", "domain": "acme.example"}, **traits}}


@pytest.fixture
def api(client):
    # Session auth and CSRF play no part: a client that enforces CSRF still gets through.
    from django.test import Client

    return Client(enforce_csrf_checks=True)


@pytest.mark.django_db
def test_identify_creates_the_lead_and_its_account_and_track_becomes_an_event(
    api, north_source, scored, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(api, "/v1/batch", {"batch": [identify(), track("t-1")]}, north_source.key).json() == {"success": True}
    lead = Lead.objects.get(team=north_source.team, external_id="u-1")
    assert (lead.first_name, lead.last_name, lead.email, lead.title) == ("Dana", "Diaz", "dana@acme.example", "VP Sales")
    assert (lead.account.name, lead.account.domain) == ("Acme", "acme.example")
    event = Event.objects.get(lead=lead)
    assert (event.type, event.properties, event.team_id) == ("track", {"format": "csv", "event": "Report Exported"}, north_source.team_id)
    assert [lead.pk] in scored  # the same scoring task as POST /api/events/
    # A later identify edits the same lead (through records.edit_lead).
    post(api, "/v1/identify", {**identify(title="CRO"), "writeKey": north_source.key})
    lead.refresh_from_db()
    assert lead.title == "CRO" and Lead.objects.filter(external_id="u-1").count() == 1
    # Without a userId the email finds the lead; a long messageId still dedupes (hashed into the client id).
    long_id = "m" * 150
    for _ in range(2):
        post(api, "/v1/batch", {"batch": [{**identify(), "userId": None, "anonymousId": "anon-1"},
                                          track(long_id, user_id=None, anonymousId="anon-1")]}, north_source.key)
    assert Lead.objects.count() == 1 and Event.objects.filter(lead=lead).count() == 2


def test_an_engagement_rule_matches_a_track_by_its_event_name():
    rule = RuleSpec(key=1, group=1, label="Exported", points=5, event_type="track", prop="event", value="Report Exported")
    assert rule.catches("track", {"event": "Report Exported"})
    assert not rule.catches("track", {"event": "Signed Up"})


@pytest.mark.django_db
def test_the_write_key_may_be_in_the_body_and_a_wrong_key_is_a_401(api, north_source):
    assert post(api, "/v1/identify", {**identify(), "writeKey": north_source.key}).status_code == 200
    wrong = post(api, "/v1/batch", {"batch": [track("w-1")]}, "qk_not-a-key")
    assert wrong.status_code == 401
    assert wrong.json()["success"] is False and wrong.json()["code"] == "invalid_write_key"
    assert post(api, "/v1/batch", {"batch": [track("w-2")]}).status_code == 401
    north_source.active = False
    north_source.save()
    assert post(api, "/v1/batch", {"batch": [track("w-3")]}, north_source.key).status_code == 401
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_the_key_is_stored_hashed_and_rotation_retires_the_old_one(api, north_source):
    assert north_source.key not in {north_source.key_hash, north_source.key_hint}
    assert not Source.objects.filter(key_hash=north_source.key).exists()
    old = north_source.key
    new = north_source.issue_key()
    north_source.save()
    assert post(api, "/v1/identify", identify(), old).status_code == 401
    assert post(api, "/v1/identify", identify(), new).status_code == 200


@pytest.mark.django_db
def test_gzip_bodies_are_accepted(api, north_source):
    assert post(api, "/v1/batch", {"batch": [identify(), track("g-1")]}, north_source.key, encoding="gzip").status_code == 200
    assert Event.objects.filter(client_id=f"seg:{north_source.pk}:g-1").exists()


def gzip_post(client, path, members: list[bytes], key):
    """A body of several gzip members, one after another, as `cat a.gz b.gz` and some SDKs make."""
    return client.post(path, b"".join(members), content_type="application/json", HTTP_CONTENT_ENCODING="gzip",
                       HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{key}:".encode()).decode())


@pytest.mark.django_db
def test_a_gzip_body_of_several_members_is_read_whole(api, north_source):
    data = json.dumps({"batch": [identify(), track("m-1"), track("m-2")]}).encode()
    cut = data.index(b'"m-2"')  # the batch's messages span both members
    response = gzip_post(api, "/v1/batch", [gzip.compress(data[:cut]), gzip.compress(data[cut:])], north_source.key)
    assert response.status_code == 200, response.json()
    assert sorted(Event.objects.values_list("client_id", flat=True)) == [f"seg:{north_source.pk}:m-1", f"seg:{north_source.pk}:m-2"]
    # Zero bytes between or after members are padding, as gzip(1) reads them.
    padded = [gzip.compress(data[:cut]), b"\0" * 7, gzip.compress(data[cut:]), b"\0" * 3]
    assert gzip_post(api, "/v1/batch", padded, north_source.key).status_code == 200
    # A second member cut short, or followed by what is not gzip, is refused like any bad gzip.
    for bad in ([gzip.compress(data[:cut]), gzip.compress(data[cut:])[:-9]], [gzip.compress(data), b"junk"]):
        response = gzip_post(api, "/v1/batch", bad, north_source.key)
        assert (response.status_code, response.json()["code"]) == (400, "invalid_request")


@pytest.mark.django_db
def test_a_gzip_bomb_in_a_later_member_is_refused_without_inflating_it(api, north_source):
    data = json.dumps({"batch": [identify(), track("b-1")]}).encode()
    bomb = gzip.compress(b" " * 64 * 1024 * 1024)  # 64 MB of JSON whitespace in about 64 KB
    tracemalloc.start()
    try:
        response = gzip_post(api, "/v1/batch", [gzip.compress(data), bomb], north_source.key)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (response.status_code, response.json()["code"]) == (400, "payload_too_large")
    assert peak < 16 * 1024 * 1024
    # Many members, each small, are over the limit together.
    many = [gzip.compress(data)] + [gzip.compress(b" " * 100 * 1024)] * 5
    assert gzip_post(api, "/v1/batch", many, north_source.key).json()["code"] == "payload_too_large"
    # So is a body of empty members over twice the limit: refused unread, not member by member.
    empties = [gzip.compress(data)] + [gzip.compress(b"")] * 60_000
    assert gzip_post(api, "/v1/batch", empties, north_source.key).json()["code"] == "payload_too_large"
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_malformed_body_is_a_segment_style_400(api, north_source):
    response = api.post("/v1/batch", b"{not json", content_type="application/json",
                        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{north_source.key}:".encode()).decode())
    assert response.status_code == 400 and response.json() == {
        "success": False, "code": "invalid_json", "message": "The body is not valid JSON."}
    bad_gzip = api.post("/v1/batch", b"not gzip", content_type="application/json", HTTP_CONTENT_ENCODING="gzip")
    assert bad_gzip.status_code == 400 and bad_gzip.json()["code"] == "invalid_request"
    assert post(api, "/v1/batch", {"batch": "nope"}, north_source.key).status_code == 400


@pytest.mark.django_db
def test_bad_and_oversize_messages_are_refused_alone_and_the_good_ones_land(api, north_source):
    batch = [
        identify(),
        track("ok-1"),
        track("big", properties={"blob": "x" * 33_000}),  # over 32 KB
        track("nul", event="Signed\x00Up"),
        {"type": "track", "messageId": "no-ids", "event": "X"},
        {"type": "track", "messageId": "no-name", "userId": "u-1"},
        {"type": "teleport", "messageId": "type", "userId": "u-1"},
        "not an object",
        track("ok-2", timestamp="2026-01-05T11:00:00Z"),
        # Year 1 at +05:00 is 1 BC in UTC: PostgreSQL would store it and Python could not read it back.
        track("bc", timestamp="0001-01-01T00:00:00+05:00"),
    ]
    response = post(api, "/v1/batch", {"batch": batch}, north_source.key)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["code"] == "invalid_messages"
    assert [e["index"] for e in body["errors"]] == [2, 3, 4, 5, 6, 7, 9]
    assert "32 KB" in body["errors"][0]["message"]
    assert body["errors"][-1]["message"] == "timestamp is before 1970."
    assert sorted(Event.objects.values_list("client_id", flat=True)) == [f"seg:{north_source.pk}:ok-1", f"seg:{north_source.pk}:ok-2"]


@pytest.mark.django_db
def test_a_batch_over_500_kb_and_a_single_call_over_32_kb_are_refused(api, north_source):
    batch = [track(f"b-{i}", properties={"blob": "x" * 30_000}) for i in range(18)]
    response = post(api, "/v1/batch", {"batch": batch}, north_source.key)
    assert response.status_code == 400 and response.json()["code"] == "payload_too_large"
    single = post(api, "/v1/track", track("s-1", properties={"blob": "x" * 33_000}), north_source.key)
    assert single.status_code == 400 and single.json()["code"] == "payload_too_large"
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_a_retried_message_id_counts_once_and_another_teams_id_never_collides(api, north_source, south_source):
    for _ in range(2):
        assert post(api, "/v1/batch", {"batch": [identify(), track("same-id")]}, north_source.key).status_code == 200
        assert post(api, "/v1/batch", {"batch": [identify(), track("same-id")]}, south_source.key).status_code == 200
    assert Event.objects.filter(team=north_source.team).count() == 1
    assert Event.objects.filter(team=south_source.team).count() == 1
    assert Lead.objects.filter(external_id="u-1").count() == 2  # one per team


@pytest.mark.django_db
def test_anonymous_events_wait_for_identify_and_are_attached_then(api, north_source, pricing_rule, scored):
    early = [
        {"type": "page", "messageId": "p-1", "anonymousId": "anon-7", "name": "Pricing",
         "properties": {"path": "/pricing/enterprise", "url": "https://x.example/pricing/enterprise"}},
        {"type": "track", "messageId": "t-1", "anonymousId": "anon-7", "event": "Calculator Used"},
    ]
    assert post(api, "/v1/batch", {"batch": early}, north_source.key).status_code == 200
    assert PendingEvent.objects.count() == 2 and not Event.objects.exists()
    assert post(api, "/v1/batch", {"batch": early}, north_source.key).status_code == 200  # a retry
    assert PendingEvent.objects.count() == 2
    post(api, "/v1/identify", {**identify(), "anonymousId": "anon-7"}, north_source.key)
    lead = Lead.objects.get(external_id="u-1")
    assert not PendingEvent.objects.exists()
    page = Event.objects.get(lead=lead, type="page_view")
    assert page.properties["page_category"] == "pricing" and page.properties["name"] == "Pricing"
    assert Event.objects.filter(lead=lead, type="track").exists()
    # Later events from the anonymous id go straight to the lead.
    post(api, "/v1/page", {"messageId": "p-2", "anonymousId": "anon-7", "properties": {"path": "/docs"}}, north_source.key)
    assert Event.objects.filter(lead=lead).count() == 3
    assert "page_category" not in Event.objects.get(client_id=f"seg:{north_source.pk}:p-2").properties


@pytest.mark.django_db
def test_one_batch_lands_known_senders_keeps_unknown_ones_pending_and_refuses_bad_properties(
    api, north_source, scored, django_capture_on_commit_callbacks
):
    post(api, "/v1/identify", {**identify(), "anonymousId": "anon-1"}, north_source.key)
    lead = Lead.objects.get(external_id="u-1")
    batch = [
        {"type": "track", "messageId": "k-1", "anonymousId": "anon-1", "event": "Seen"},
        {"type": "track", "messageId": "k-2", "userId": "u-1", "event": "Seen"},
        {"type": "track", "messageId": "big", "userId": "u-1", "event": "Seen", "properties": {"blob": "x" * 5000}},
        {"type": "track", "messageId": "nan", "userId": "u-1", "event": "Seen", "properties": {"n": float("inf")}},
        {"type": "page", "messageId": "w-1", "anonymousId": "anon-new", "properties": {"path": "/docs"}},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, "/v1/batch", {"batch": batch}, north_source.key)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 2, "messageId": "big", "message": "properties: At most 4096 bytes of properties."},
        {"index": 3, "messageId": "nan", "message": "properties: Numbers must be finite."},
    ]
    assert sorted(Event.objects.filter(lead=lead).values_list("client_id", flat=True)) == [
        f"seg:{north_source.pk}:k-1", f"seg:{north_source.pk}:k-2"]
    assert list(PendingEvent.objects.values_list("client_id", "anonymous_id")) == [
        (f"seg:{north_source.pk}:w-1", "anon-new")]
    assert scored == [[lead.pk]]


@pytest.mark.django_db
def test_alias_links_an_anonymous_id_to_a_user_identified_later(api, north_source):
    post(api, "/v1/track", {"messageId": "a-1", "anonymousId": "anon-9", "event": "Signed Up"}, north_source.key)
    post(api, "/v1/alias", {"messageId": "al-1", "previousId": "anon-9", "userId": "u-9"}, north_source.key)
    assert PendingEvent.objects.count() == 1
    post(api, "/v1/identify", identify("u-9"), north_source.key)
    assert Event.objects.get(lead__external_id="u-9").properties == {"event": "Signed Up"}
    assert not PendingEvent.objects.exists()


@pytest.mark.django_db
def test_group_creates_or_updates_the_account_and_links_the_lead(api, north_source):
    post(api, "/v1/identify", identify(company={}, email="dana@gmail.example"), north_source.key)
    post(api, "/v1/group", {"messageId": "g-1", "userId": "u-1", "groupId": "org-1",
                            "traits": {"name": "Globex", "website": "https://www.globex.example/", "industry": "Energy",
                                       "employees": 1200}}, north_source.key)
    lead = Lead.objects.select_related("account").get(external_id="u-1")
    assert (lead.account.name, lead.account.domain, lead.account.industry, lead.account.employee_count) == (
        "Globex", "globex.example", "Energy", 1200)
    post(api, "/v1/group", {"messageId": "g-2", "userId": "u-1", "traits": {"domain": "globex.example", "industry": "Utilities"}},
         north_source.key)
    assert Account.objects.get(pk=lead.account_id).industry == "Utilities"
    assert Account.objects.filter(domain="globex.example").count() == 1


@pytest.mark.django_db
def test_screen_is_a_page_view_named_by_the_screen(api, north_source, pricing_rule):
    from qualify.segment.models import PageRule

    PageRule.objects.create(field=PageRule.Field.NAME, op=PageRule.Op.EQUALS, value="Plans", category="pricing")
    post(api, "/v1/batch", {"batch": [identify(), {"type": "screen", "messageId": "s-1", "userId": "u-1", "name": "Plans"}]},
         north_source.key)
    assert Event.objects.get(type="page_view").properties == {"screen": "Plans", "page_category": "pricing"}


@pytest.mark.django_db
def test_a_free_mail_identify_without_a_company_is_not_filed_under_the_providers_domain(api, north_source):
    post(api, "/v1/identify", identify("u-1", email="dana@gmail.com", company={}), north_source.key)
    post(api, "/v1/identify", identify("u-2", email="sam@gmail.com", company={}), north_source.key)
    dana, sam = (Lead.objects.select_related("account").get(external_id=u) for u in ("u-1", "u-2"))
    assert not Account.objects.filter(domain="gmail.com").exists()
    # Each person gets an account of their own (named by the address), not one shared "gmail.com".
    assert (dana.account.name, dana.account.domain) == ("dana@gmail.com", "")
    assert dana.account_id != sam.account_id
    # A company named without a domain keeps no free-mail domain either; a company address still names one.
    post(api, "/v1/identify", identify("u-3", email="kim@yahoo.com", company={"name": "Initech"}), north_source.key)
    post(api, "/v1/identify", identify("u-4", email="lee@hooli.example", company={}), north_source.key)
    kim, lee = (Lead.objects.select_related("account").get(external_id=u).account for u in ("u-3", "u-4"))
    assert (kim.name, kim.domain) == ("Initech", "")
    assert lee.domain == "hooli.example"


def test_the_segment_door_and_dedupe_read_one_free_mail_list():
    from qualify.dedupe import rules
    from qualify.segment import tracking

    assert tracking.FREE_MAIL is rules.FREE_MAIL


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["not-an-email", "dana@", "@acme.example", "dana@acme", "a@b@acme.example",
                                 "dana@acme.example<script>", 12345, "x" * 250 + "@acme.example"])
def test_an_invalid_email_trait_is_skipped_and_the_rest_of_the_identify_lands(api, north_source, bad):
    response = post(api, "/v1/batch", {"batch": [identify(email=bad), track("t-1")]}, north_source.key)
    # Segment's answer for a batch it took: 200. The skipped field is said, by index and messageId.
    assert response.status_code == 200
    assert response.json() == {"success": True, "warnings": [
        {"index": 0, "messageId": "id-u-1", "message": "traits.email is not a valid email address; it was not stored."}]}
    lead = Lead.objects.get(team=north_source.team, external_id="u-1")
    assert (lead.first_name, lead.last_name, lead.email, lead.title) == ("Dana", "Diaz", "", "VP Sales")
    assert (lead.account.name, lead.account.domain) == ("Acme", "acme.example")
    assert Event.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db
def test_an_invalid_email_never_overwrites_a_stored_one(api, north_source):
    assert post(api, "/v1/identify", identify(), north_source.key).json() == {"success": True}
    response = post(api, "/v1/identify", identify(email="oops", title="CRO"), north_source.key)
    assert response.status_code == 200 and [w["index"] for w in response.json()["warnings"]] == [0]
    lead = Lead.objects.get(team=north_source.team, external_id="u-1")
    assert (lead.email, lead.title) == ("dana@acme.example", "CRO")


@pytest.mark.django_db
def test_a_valid_email_is_stored_lower_cased_with_no_warning(api, north_source):
    response = post(api, "/v1/identify", identify(email="  Dana.Diaz+crm@Acme.Example "), north_source.key)
    assert response.json() == {"success": True}
    assert Lead.objects.get(team=north_source.team, external_id="u-1").email == "dana.diaz+crm@acme.example"


@pytest.mark.django_db
def test_a_refused_message_and_a_skipped_email_are_both_said(api, north_source):
    response = post(api, "/v1/batch", {"batch": [identify(email="nope"), {"type": "track", "messageId": "x", "event": "X"}]},
                    north_source.key)
    assert response.status_code == 400
    body = response.json()
    assert [e["index"] for e in body["errors"]] == [1] and [w["index"] for w in body["warnings"]] == [0]
    assert Lead.objects.get(team=north_source.team, external_id="u-1").email == ""


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.django_db
@pytest.mark.parametrize("nul", [False, True], ids=["plain", "with-a-nul"])
def test_properties_nested_hundreds_deep_are_refused_alone_and_the_lead_page_still_opens(api, client, north_source, alice, nul):
    """JSON that Python parses at the door (depth ~900) was stored, and every page listing the
    lead's events then failed reading it back deeper in the stack (RecursionError, a 500); with a
    NUL anywhere in the body, the NUL walk recursed and the request itself was a 500."""
    lead = LeadFactory(team=north_source.team, owner=alice, external_id="u-1")
    good = json.dumps(track("ok-1"))
    for depth in (400, 900):
        deep = '{"type":"track","messageId":"deep-%d","userId":"u-1","event":"X","properties":{"a":%s}%s}' % (
            depth, _nested(depth), ',"note":"\\u0000"' if nul else "")
        body = '{"batch":[%s,%s],"writeKey":"%s"}' % (good, deep, north_source.key)
        response = api.post("/v1/batch", body, content_type="application/json")
        assert response.status_code == 400, depth
        assert [(e["index"], e["message"]) for e in response.json()["errors"]] == [
            (1, "The message is nested more than 32 levels deep.")]
    assert list(Event.objects.values_list("client_id", flat=True)) == [f"seg:{north_source.pk}:ok-1"]
    login(client, alice)
    assert client.get(f"/leads/{lead.pk}/").status_code == 200


@pytest.mark.django_db
def test_an_api_event_cannot_take_a_segment_client_id_ahead_of_its_message(api, client, north_source, alice, north):
    """Client ids are unique per team, and `seg:<source>:` was meant to keep the sources' apart from
    POST /api/events/ ones: any member could post `seg:<source>:<messageId>` on a lead of theirs,
    and the Segment message of that id, about someone else's lead, was then dropped as a retry."""
    mine = LeadFactory(team=north, owner=alice)
    theirs = LeadFactory(team=north, external_id="u-2")
    claimed = f"seg:{north_source.pk}:t-9"
    body = login(client, alice).post("/api/events/", [{"lead_id": mine.pk, "client_id": claimed, "type": "page_view",
                                                       "occurred_at": "2026-01-05T10:00:00Z"}], content_type="application/json").json()
    assert body["results"][0]["status"] == "error" and "client_id" in body["results"][0]["errors"]
    assert post(api, "/v1/track", {**track("t-9", user_id="u-2"), "writeKey": north_source.key}).json() == {"success": True}
    assert list(Event.objects.values_list("lead_id", "client_id")) == [(theirs.pk, claimed)]


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["userId", "anonymousId", "messageId", "event", "traits", "properties", "raw-utf8"])
def test_a_lone_surrogate_is_refused_alone_and_the_good_messages_land(api, north_source, where):
    """JSON may escape half a surrogate pair ("\\ud800"), which Python parses into a string that
    UTF-8 cannot encode: psycopg failed on it (userId, traits, a pending event's ids) or PostgreSQL
    refused the jsonb (properties), and the whole request was a 500."""
    bad = {"type": "track", "messageId": "bad", "userId": "u-1", "event": "X", "properties": {"a": "ok"}}
    text = json.dumps(bad)
    text = {
        "userId": text.replace('"u-1"', '"u-\\ud800"'),
        "anonymousId": text.replace('"userId": "u-1"', '"anonymousId": "anon-\\udc00"'),
        "messageId": text.replace('"bad"', '"bad-\\uD83D"'),
        "event": text.replace('"X"', '"X\\ud800"'),
        "traits": '{"type": "identify", "messageId": "bad", "userId": "u-2", "traits": {"title": "\\ud800"}}',
        "properties": text.replace('"ok"', '"\\udc00"'),
        "raw-utf8": text.replace('"ok"', '"\\u00e9"').replace("\\u00e9", "\xed\xa0\x80"),
    }[where]
    body = '{"batch":[%s,%s,%s]}' % (json.dumps(identify()), text, json.dumps(track("ok-1")))
    data = body.encode("latin-1") if where == "raw-utf8" else body.encode()
    response = api.post("/v1/batch", data, content_type="application/json",
                        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{north_source.key}:".encode()).decode())
    assert response.status_code == 400
    assert [(e["index"], e["message"]) for e in response.json()["errors"]] == [
        (1, "The message contains a lone surrogate (\\ud800-\\udfff), which is no character and cannot be stored.")]
    assert list(Event.objects.values_list("client_id", flat=True)) == [f"seg:{north_source.pk}:ok-1"]
    assert not PendingEvent.objects.exists() and Lead.objects.count() == 1


@pytest.mark.django_db
def test_a_pair_of_surrogates_is_one_character_and_lands(api, north_source):
    body = '{"batch":[%s,%s]}' % (json.dumps(identify()), json.dumps(track("emoji", event="Liked \U0001F600")))
    assert "\\ud83d\\ude00" in body  # json.dumps writes the emoji as an escaped pair
    response = api.post("/v1/batch", body, content_type="application/json",
                        HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{north_source.key}:".encode()).decode())
    assert response.json() == {"success": True}
    assert Event.objects.get().properties["event"] == "Liked \U0001F600"


@pytest.mark.django_db
def test_a_write_key_with_a_lone_surrogate_is_a_401(api, north_source):
    response = api.post("/v1/batch", b'{"batch":[],"writeKey":"qk_\\ud800"}', content_type="application/json")
    assert response.status_code == 401 and response.json()["code"] == "invalid_write_key"


@pytest.mark.django_db
def test_a_long_free_mail_address_names_its_account_within_the_column(api, north_source):
    """A free-mail person's account is named by their address, which may be 254 characters: one
    over 200 (Account.name) was a DataError, a 500, and the lead was not created."""
    email = "d" * 200 + "@gmail.com"
    response = post(api, "/v1/identify", {"userId": "u-9", "traits": {"email": email}}, north_source.key)
    assert response.json() == {"success": True}
    lead = Lead.objects.get(team=north_source.team, external_id="u-9")
    assert lead.email == email and lead.account.name == email[:200] and lead.account.domain == ""
