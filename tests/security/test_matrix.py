"""The permission matrix: every URL of the project, every method it answers, every member of the cast.

The URLs come from the URL configuration (tests/security/urlwalk.py), so a new endpoint fails
`test_every_url_has_expectations` until someone writes down here who may use it. Each URL is built
with the ids of team North's objects (tests/security/world.py) and asked by:

- anon: pages send it to the sign-in page, the API answers 401 or 403;
- alice, bob (SDRs), erin (AE), maria (manager), mark (marketing), rita (RevOps admin) of North:
  those listed for the method are allowed (2xx, 3xx, or 400 for the empty body we send: validity is
  not the point), the others are refused (403 or 404), never a 2xx or 3xx; a refusal by role (on a
  door that names no object, or as ROLE_REFUSED lists) is a 403;
- charlie (SDR) and stella (manager) of South: another team's object is a 404, or a 403 that the
  same person also gets for an id that does not exist (the answer says nothing about the object);
  and nothing they get may contain the name of one of North's objects.

Nobody ever gets a 500. Every request runs in a savepoint that is rolled back, so an allowed POST
(an accept, a revoke) does not change what the next person is asked about.

Marketing (mark) reads its team's leads and metrics, creates leads and accounts, posts events and
imports new leads; it never changes an existing lead, account, stage, owner or handoff (README,
Security).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Team, User
from qualify.frameworks.models import Criterion
from qualify.leads.models import Account, Lead
from qualify.reviews.models import ReviewPlan
from qualify.routing.models import RoutingRule
from qualify.sla.models import Clock
from qualify.webhooks.models import Endpoint
from tests.security.urlwalk import Route, all_routes
from tests.security.world import World, build_world

NORTH = ("alice", "bob", "erin", "maria", "mark", "rita")
SOUTH = ("charlie", "stella")
CAST = ("anon", *NORTH, *SOUTH)

# Shorthands for who is allowed, read as sentences in the table below.
PUBLIC = "anon alice bob erin maria mark rita charlie stella"
SIGNED_IN = "alice bob erin maria mark rita charlie stella"
SEES_LEAD = "alice maria mark rita"  # alice owns North's lead; bob and erin do not see it
CHANGES_LEAD = "alice maria rita"  # marketing reads only
MANAGERS = "maria rita stella"  # managers of their own teams, and RevOps
METRICS = "maria mark rita stella"  # managers and marketing of their own teams, and RevOps
DECIDES_HANDOFF = "erin maria rita"  # the receiving AE, the team's manager, RevOps
REVIEWS_READ = "maria mark rita"
REVIEWS_WRITE = "maria rita"
OWN = "alice"  # alice's own notification, task or token
TASK = "alice maria rita"
MANAGERS_OF_NORTH = "maria rita"

# Who may do what, by URL name and method. A missing URL name fails the test.
EXPECT: dict[str, dict[str, str]] = {
    # --- sign-in, passwords, tokens, home ---------------------------------------------------
    "login": {"GET": PUBLIC, "POST": PUBLIC},
    "logout": {"POST": PUBLIC},
    "password_change": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "password_change_done": {"GET": SIGNED_IN},
    "password_reset": {"GET": PUBLIC, "POST": PUBLIC},
    "password_reset_done": {"GET": PUBLIC},
    "password_reset_confirm": {"GET": PUBLIC, "POST": PUBLIC},
    "password_reset_complete": {"GET": PUBLIC},
    "tokens": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "token_revoke": {"POST": OWN},
    "token_revoke_all": {"POST": SIGNED_IN},
    "home": {"GET": SIGNED_IN},
    # --- leads -------------------------------------------------------------------------------
    "leads:queue": {"GET": SIGNED_IN},
    "leads:export": {"GET": SIGNED_IN},
    "leads:queue_total": {"GET": SIGNED_IN},  # a count of the asker's own scope, as the queue lists it
    "leads:property_filters": {"GET": SIGNED_IN},  # definitions only (labels, kinds, choices), no lead data
    "leads:detail": {"GET": SEES_LEAD},
    "leads:bulk": {"POST": SIGNED_IN},  # each row is checked on its own (tests/leads/test_bulk.py)
    "leads:view_create": {"POST": SIGNED_IN},
    "leads:view_update": {"POST": MANAGERS_OF_NORTH},  # North's team view: its managers change it
    "leads:view_delete": {"POST": MANAGERS_OF_NORTH},
    "leads:touch": {"POST": CHANGES_LEAD},
    "leads:move": {"POST": CHANGES_LEAD},
    "leads:claim": {"POST": CHANGES_LEAD},
    "leads:nurture": {"POST": CHANGES_LEAD},
    "leads:disqualify": {"POST": CHANGES_LEAD},
    # Create: anyone of a team, marketing included (an empty body is a 400); edit: who changes it.
    "leads:lead_create": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "leads:lead_edit": {"GET": CHANGES_LEAD, "POST": CHANGES_LEAD},
    "leads:account_create": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "leads:account_edit": {"GET": "alice bob erin maria rita", "POST": "alice bob erin maria rita"},
    "leads:account": {"GET": "alice bob erin maria mark rita"},  # the team's accounts, like the account API
    "frameworks:answers": {"GET": SEES_LEAD, "POST": CHANGES_LEAD},
    "frameworks:definition": {"GET": SIGNED_IN},
    "scoring:breakdown": {"GET": SEES_LEAD},
    "scoring:run-progress": {"GET": "rita"},
    "routing:reassign": {"POST": "maria rita"},
    # --- handoffs ----------------------------------------------------------------------------
    "handoff:inbox": {"GET": SIGNED_IN},
    "handoff:feedback": {"GET": METRICS},
    "handoff:sent": {"GET": SIGNED_IN},
    "handoff:detail": {"GET": "alice erin maria mark rita"},
    "handoff:accept": {"POST": DECIDES_HANDOFF},
    "handoff:reject": {"POST": DECIDES_HANDOFF},
    "handoff:reassign": {"POST": MANAGERS_OF_NORTH},
    "handoff:hand_off": {"GET": SEES_LEAD, "POST": CHANGES_LEAD},
    # --- SLA and notifications ---------------------------------------------------------------
    "notifications:list": {"GET": SIGNED_IN},
    "notifications:badge": {"GET": SIGNED_IN},
    "notifications:mark_all_read": {"POST": SIGNED_IN},
    "notifications:mark_read": {"POST": OWN},
    "notifications:open": {"GET": OWN, "POST": OWN},  # only the POST marks it read
    "notifications:preferences": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "sla:breaches": {"GET": MANAGERS},
    # --- reviews and tasks -------------------------------------------------------------------
    "reviews:queues": {"GET": METRICS},
    "reviews:queue": {"GET": REVIEWS_READ},
    "reviews:item": {"GET": REVIEWS_READ},
    "reviews:verdict": {"POST": REVIEWS_WRITE},
    "reviews:tasks": {"GET": SIGNED_IN},
    "reviews:task_done": {"POST": TASK},
    "reviews:opportunity_stage": {"POST": CHANGES_LEAD},
    "reviews:resolve_requalification": {"POST": CHANGES_LEAD},
    # --- metrics and imports -----------------------------------------------------------------
    "analytics:funnel": {"GET": METRICS},
    "analytics:marketing": {"GET": METRICS},
    "analytics:velocity": {"GET": METRICS},
    "analytics:handoffs": {"GET": METRICS},
    "analytics:quality": {"GET": METRICS},
    "analytics:refresh": {"POST": METRICS},
    # Calibration: managers of their teams' closed leads and RevOps; only RevOps changes a draft.
    "calibration:report": {"GET": MANAGERS},
    "calibration:leads": {"GET": MANAGERS},
    "calibration:accept": {"POST": "rita"},
    # Prediction quality: managers (their teams' leads in every list) and RevOps; training and approval RevOps.
    "predictions:quality": {"GET": MANAGERS},
    "predictions:version": {"GET": MANAGERS},
    "predictions:progress": {"GET": MANAGERS},
    "predictions:train": {"POST": "rita"},
    "predictions:approve": {"POST": "rita"},
    "predictions:decline": {"POST": "rita"},
    "api:prediction-version-list": {"GET": MANAGERS},
    "api:prediction-version-detail": {"GET": MANAGERS},
    "imports:upload": {"GET": METRICS, "POST": METRICS},
    "imports:job": {"GET": "maria rita"},  # maria uploaded it; mark sees only his own jobs
    "imports:run": {"POST": "maria rita"},
    # --- API: leads and accounts ---------------------------------------------------------------
    "api:api-root": {"GET": SIGNED_IN},
    "api:api-token": {"POST": PUBLIC},
    "api:schema": {"GET": SIGNED_IN},
    "api:api-docs": {"GET": SIGNED_IN},
    "api:api-redoc": {"GET": SIGNED_IN},
    "api:account-list": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api:account-detail": {"GET": "alice bob erin maria mark rita", "PATCH": "alice bob erin maria rita",
                           "PUT": "alice bob erin maria rita"},
    "api:lead-list": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api:lead-detail": {"GET": SEES_LEAD, "PATCH": CHANGES_LEAD, "PUT": CHANGES_LEAD},
    "api:lead-disqualify": {"POST": CHANGES_LEAD},
    "api:lead-history": {"GET": SEES_LEAD},
    "api:lead-move": {"POST": CHANGES_LEAD},
    "api:lead-nurture": {"POST": CHANGES_LEAD},
    "api:lead-touches": {"GET": SEES_LEAD, "POST": CHANGES_LEAD},
    "api:disqualify-reason-list": {"GET": SIGNED_IN},
    "api:disqualify-reason-detail": {"GET": SIGNED_IN},
    "api:framework-list": {"GET": SIGNED_IN},
    "api:framework-detail": {"GET": SIGNED_IN},
    "api:answer-list": {"GET": SIGNED_IN, "POST": SIGNED_IN},  # POST: 400 on the empty body, the lead decides
    "api:answer-completeness": {"GET": SEES_LEAD},
    "api:answer-detail": {"GET": SEES_LEAD},
    "api:scores-detail": {"GET": SEES_LEAD},
    "api:events-list": {"POST": SIGNED_IN},  # events land only on leads the caller sees (scoring/ingest.py)
    # --- API: handoffs, routing, SLA -----------------------------------------------------------
    "api:handoff-list": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api:handoff-detail": {"GET": "alice erin maria mark rita"},
    "api:handoff-accept": {"POST": DECIDES_HANDOFF},
    "api:handoff-reject": {"POST": DECIDES_HANDOFF},
    "api:handoff-reassign": {"POST": MANAGERS_OF_NORTH},
    "api:routing-rule-list": {"GET": MANAGERS},
    "api:routing-rule-detail": {"GET": "maria rita"},
    "api:assignment-list": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api:sla-policy-list": {"GET": SIGNED_IN},
    "api:sla-policy-detail": {"GET": SIGNED_IN},
    "api:sla-clock-list": {"GET": SIGNED_IN},
    "api:sla-clock-detail": {"GET": SEES_LEAD},
    "api:sla-escalation-list": {"GET": MANAGERS},
    "api:sla-escalation-detail": {"GET": "maria rita"},
    "api:notification-list": {"GET": SIGNED_IN},
    "api:notification-read-all": {"POST": SIGNED_IN},
    "api:notification-unread-count": {"GET": SIGNED_IN},
    "api:notification-detail": {"GET": OWN},
    "api:notification-read": {"POST": OWN},
    # --- API: reviews, tasks, requalification --------------------------------------------------
    "api:review-plan-list": {"GET": METRICS},
    "api:review-plan-detail": {"GET": REVIEWS_READ},
    "api:review-queue-list": {"GET": METRICS},
    "api:review-queue-detail": {"GET": REVIEWS_READ},
    "api:review-item-detail": {"GET": REVIEWS_READ},
    "api:review-item-verdict": {"POST": REVIEWS_WRITE},
    "api:follow-up-task-list": {"GET": SIGNED_IN},
    "api:follow-up-task-detail": {"GET": TASK},
    "api:follow-up-task-done": {"POST": TASK},
    "api:opportunity-stage-list": {"GET": SIGNED_IN},
    "api:opportunity-stage-detail": {"GET": SIGNED_IN},
    "api:requalification-list": {"GET": SIGNED_IN},
    "api:requalification-move-sub-stage": {"POST": SIGNED_IN},  # 400 on the empty body; the lead decides
    "api:requalification-detail": {"GET": SEES_LEAD},
    "api:requalification-resolve": {"POST": CHANGES_LEAD},
    # --- API: metrics, imports, tokens ---------------------------------------------------------
    "api:metrics-list": {"GET": METRICS},
    "api:metrics-detail": {"GET": METRICS},
    "api:calibration-list": {"GET": MANAGERS},
    "api:calibration-leads": {"GET": MANAGERS},
    "api:calibration-accept": {"POST": "rita"},
    "api:import-list": {"GET": METRICS, "POST": METRICS},
    "api:import-detail": {"GET": "maria rita"},
    "api:import-run": {"POST": "maria rita"},
    "api:token-list": {"GET": SIGNED_IN, "POST": SIGNED_IN},
    "api:token-revoke-all": {"POST": SIGNED_IN},
    "api:token-detail": {"DELETE": OWN},
    # Merges: whoever may change both records (an empty body is a 400 for them); outsiders 404.
    "api:lead-merge": {"POST": MANAGERS_OF_NORTH},
    "api:account-merge": {"POST": MANAGERS_OF_NORTH},
    # Duplicates: managers of their teams and RevOps; a pair of another team is a 404.
    "dedupe:candidates": {"GET": MANAGERS},
    "dedupe:find": {"POST": MANAGERS},
    "dedupe:candidate": {"GET": "maria rita"},
    "dedupe:merge": {"POST": "maria rita"},
    "dedupe:dismiss": {"POST": "maria rita"},
    "api:duplicate-list": {"GET": MANAGERS},  # stella gets South's pairs (none of North's)
    "api:duplicate-detail": {"GET": "maria rita"},
    "api:duplicate-dismiss": {"POST": "maria rita"},
    # Webhooks: RevOps only, read-only but for replay.
    "api:webhook-endpoint-list": {"GET": "rita"},
    "api:webhook-endpoint-detail": {"GET": "rita"},
    "api:webhook-endpoint-replay": {"POST": "rita"},
    "api:webhook-delivery-list": {"GET": "rita"},
    "api:webhook-delivery-detail": {"GET": "rita"},
    "api:webhook-delivery-replay": {"POST": "rita"},
}

# A door that is not for someone's role is a 403 whatever id they name (README, Security); a 404
# is for objects they may not see (another team's, a teammate's lead). Every refusal on a door that
# names no object is a role's, so a 403; these doors name one, and refuse these people by role.
ROLE_REFUSED = {
    **{name: "alice bob erin mark charlie" for name in ("dedupe:candidate", "dedupe:merge", "dedupe:dismiss",
                                                         "api:duplicate-detail", "api:duplicate-dismiss")},
    **{name: "alice bob erin charlie" for name in ("reviews:queue", "reviews:item", "reviews:verdict",
                                                    "api:review-queue-detail", "api:review-item-detail",
                                                    "api:review-item-verdict")},
}

# Objects every team shares (frameworks, reasons, policies, stages, metrics tables): not North's.
# The Segment-compatible API authenticates by a source's write key only: a session is no key, so
# everyone, signed in or not, is refused with Segment's 401 (or 400 when the body that may carry
# the key is unreadable); tests/segment/ covers the keys themselves.
WRITE_KEY_ONLY = {f"segment:{call}" for call in ("batch", "track", "identify", "page", "screen", "group", "alias")}
EXPECT.update({name: {"POST": ""} for name in WRITE_KEY_ONLY})

SHARED = {"disqualify-reason", "framework", "sla-policy", "opportunity-stage", "metrics"}
# Query strings some doors need to say which lead they are about.
QUERY = {"api:answer-completeness": "lead={lead_id}"}

ROUTES = {r.name: r for r in all_routes()}


def url_for(route: Route, ids: dict[str, int], *, missing: bool = False) -> str:
    kwargs: dict[str, object] = {}
    for key in route.kwargs:
        if key in ("uidb64", "token"):
            kwargs[key] = {"uidb64": "MQ", "token": "set-password"}[key]
        elif route.basename == "metrics":
            kwargs[key] = "funnel"
        elif route.basename in SHARED:
            kwargs[key] = 1
        else:
            kwargs[key] = 99_999_999 if missing else ids[key if key != "pk" else f"pk:{route.basename}"]
    url = reverse(route.url_name, kwargs=kwargs)
    if query := QUERY.get(route.name):
        url += "?" + query.format(**{"lead_id": 99_999_999 if missing else ids["lead_id"]})
    return url


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the whole module, in a transaction rolled back at its end; each test runs in a
    savepoint inside it (pytest-django's db), each request in a savepoint inside that."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            w = build_world()
            sessions = {}
            for name, user in w.users.items():
                client = Client()
                client.force_login(user)
                sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield w, sessions
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _ask(client: Client, method: str, url: str, is_api: bool):
    with transaction.atomic():
        if method == "GET":
            response = client.get(url)
        elif is_api:
            response = client.generic(method, url, data="{}", content_type="application/json")
        else:
            response = client.post(url, {})
        transaction.set_rollback(True)
    return response


def _client(sessions: dict[str, str], name: str) -> Client:
    client = Client()
    if name != "anon":
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[name]
    return client


def test_role_refusals_name_refused_people_of_known_urls():
    for name, who in ROLE_REFUSED.items():
        assert name in EXPECT, f"ROLE_REFUSED names {name}, which is not a URL"
        for method, allowed in EXPECT[name].items():
            assert not set(who.split()) & set(allowed.split()), f"{name} {method}: ROLE_REFUSED names someone allowed"


def test_every_url_has_expectations():
    """A new URL, or a new method on an API route, fails here until the table says who may use it."""
    missing = sorted(set(ROUTES) - set(EXPECT))
    assert not missing, f"Add these URL names to EXPECT in {__file__}: {missing}"
    stale = sorted(set(EXPECT) - set(ROUTES))
    assert not stale, f"No longer in the URL configuration: {stale}"
    for name, route in ROUTES.items():
        if (methods := route.drf_methods) is not None and route.is_api:
            assert methods == set(EXPECT[name]), f"{name} answers {sorted(methods)}, the table says {sorted(EXPECT[name])}"


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_matrix(name, world, db):
    w, sessions = world
    route = ROUTES[name]
    url = url_for(route, w.north.ids)
    has_object = (bool(route.kwargs) and route.basename not in SHARED and name != "password_reset_confirm") or name in QUERY
    problems = []
    for method, allowed_spec in EXPECT[name].items():
        allowed = set(allowed_spec.split())
        for who in CAST:
            response = _ask(_client(sessions, who), method, url, route.is_api)
            status = response.status_code
            case = f"{method} {url} as {who}: {status}"
            if status >= 500:
                problems.append(f"{case} (server error)")
            elif name in WRITE_KEY_ONLY:
                # The key may be in the body, so an unreadable body is refused (400) before it.
                if status not in (400, 401):
                    problems.append(f"{case}, expected 400 or 401 (a write key is the only way in)")
            elif who in allowed:
                if not (200 <= status < 400 or status == 400):
                    problems.append(f"{case}, expected allowed")
            elif who == "anon":
                to_login = status == 302 and response["Location"].startswith(reverse("login"))
                if not (status in (401, 403) if route.is_api else to_login):
                    problems.append(f"{case}, expected {'401/403' if route.is_api else 'a redirect to sign in'}")
            elif who in ROLE_REFUSED.get(name, "").split() or (not has_object and who != "anon"):
                if status != 403:
                    problems.append(f"{case}, expected 403 (the door is not for their role)")
                if who in SOUTH and has_object and status == 403:
                    other = _ask(_client(sessions, who), method, url_for(route, w.north.ids, missing=True), route.is_api)
                    if other.status_code != 403:
                        problems.append(f"{case}, but {other.status_code} for a missing id: the answer tells them it exists")
            elif who in SOUTH and has_object:
                if status == 403:
                    other = _ask(_client(sessions, who), method, url_for(route, w.north.ids, missing=True), route.is_api)
                    if other.status_code != 403:
                        problems.append(f"{case}, but {other.status_code} for a missing id: the answer tells them it exists")
                elif status != 404:
                    problems.append(f"{case}, expected 404 for another team's object")
            elif status not in (403, 404):
                problems.append(f"{case}, expected 403 or 404")
            if who in SOUTH:
                body = response.content.decode(errors="replace")
                problems += [f"{case} shows North's {word!r}" for word in w.north.secrets if word in body]
    assert not problems, "\n".join(problems)


# --- a lead the SDR handed off and the AE accepted ---------------------------------------------
# alice (the SDR who sent it) keeps reading its page and API record, and every change door refuses
# her; bob (her teammate, who did not send it) and South still get a 404 as for any unseen lead.
LEAD_ROUTES = sorted(
    name for name, r in ROUTES.items()
    if "lead_id" in r.kwargs or (r.kwargs == ("pk",) and r.basename == "lead")
)
READ_ONLY_PAGES = {"leads:detail", "api:lead-detail"}


def _taken_url(route: Route, ids: dict[str, int]) -> str:
    return url_for(route, {**ids, "lead_id": ids["taken_lead_id"], "pk:lead": ids["taken_lead_id"]})


def test_lead_routes_cover_the_read_only_doors():
    assert READ_ONLY_PAGES <= set(LEAD_ROUTES) and len(LEAD_ROUTES) > 10, LEAD_ROUTES


@pytest.mark.parametrize("name", LEAD_ROUTES)
def test_sender_reads_a_taken_lead_but_changes_nothing(name, world, db):
    w, sessions = world
    route = ROUTES[name]
    url = _taken_url(route, w.north.ids)
    problems = []
    for method in EXPECT[name]:
        for who in ("alice", "bob", "charlie"):
            status = _ask(_client(sessions, who), method, url, route.is_api).status_code
            case = f"{method} {url} as {who}: {status}"
            if who == "alice" and method == "GET" and name in READ_ONLY_PAGES:
                if status != 200:
                    problems.append(f"{case}, expected 200 (read-only access for the sender)")
            elif who == "alice" and method == "GET":
                if status not in (200, 403):
                    problems.append(f"{case}, expected 200 or 403")
            elif who == "alice":
                if status not in (403, 404):
                    problems.append(f"{case}, expected a refusal (403/404): the sender may only read")
            elif status != 404:
                problems.append(f"{case}, expected 404")
    assert not problems, "\n".join(problems)


# --- filters on related ids: another team's id answers as a missing one --------------------------
# Every filter of every API list that names a related object (`?lead=`, `?to_user=`, `?team=`...),
# asked by South about one of North's objects and about an id that does not exist: the same status
# and the same body, or the answer would tell South which of North's ids exist.


# Rows every team shares (the shipped frameworks' criteria): there is no other team's to hide.
SHARED_MODELS = {Criterion}


def _list_filters() -> list[tuple[str, str, type]]:
    """(URL name, filter, related model) for each filter on a relation, read from the views the way
    the API builds them (the filter backend, a schema-time queryset)."""
    found = []
    for name, route in sorted(ROUTES.items()):
        cls = getattr(route.callback, "cls", None)
        if not route.is_api or route.kwargs or "get" not in (getattr(route.callback, "actions", None) or {}):
            continue
        view = cls(request=None, kwargs={}, format_kwarg=None, action=route.callback.actions["get"])
        view.swagger_fake_view = True
        filterset = getattr(cls, "filterset_class", None)
        if filterset is None and getattr(cls, "filterset_fields", None):
            backend = next(b for b in cls.filter_backends if hasattr(b, "get_filterset_class"))
            filterset = backend().get_filterset_class(view, view.get_queryset())
        for param, f in (filterset.base_filters.items() if filterset else ()):
            try:
                field = filterset._meta.model._meta.get_field(f.field_name.removesuffix("_id"))
            except FieldDoesNotExist:
                continue
            if field.is_relation and field.related_model not in SHARED_MODELS:
                found.append((name, param, field.related_model))
    return found


LIST_FILTERS = _list_filters()


def _north_ids(w: World, model: type) -> list[int]:
    """Ids of North's objects of `model` (some North people, North's team, or one of North's objects)."""
    if model is User:
        return [w.users[name].pk for name in ("alice", "erin", "maria")]
    if model is Team:
        return [w.users["alice"].memberships.get().team_id]
    key = NORTH_OBJECTS.get(model)
    assert key, f"Name one of North's {model.__name__} objects in NORTH_OBJECTS ({__file__})"
    return [w.north.ids[key]]


NORTH_OBJECTS = {
    Lead: "pk:lead", Account: "pk:account", Clock: "pk:sla-clock", ReviewPlan: "pk:review-plan",
    RoutingRule: "pk:routing-rule", Endpoint: "pk:webhook-endpoint",
}


def test_list_filters_are_found():
    assert {("api:handoff-list", "lead"), ("api:sla-escalation-list", "clock"), ("api:assignment-list", "rule"),
            ("api:review-queue-list", "plan"), ("api:account-list", "owner")} <= {(n, p) for n, p, _ in LIST_FILTERS}


@pytest.mark.parametrize(("name", "param", "model"), LIST_FILTERS, ids=[f"{n}?{p}" for n, p, _ in LIST_FILTERS])
def test_filter_answers_alike_for_another_teams_id_and_a_missing_one(name, param, model, world, db):
    w, sessions = world
    url = reverse(ROUTES[name].url_name)
    problems = []
    for who in SOUTH:
        client = _client(sessions, who)
        missing = _ask(client, "GET", f"{url}?{param}=99999999", True)
        for pk in _north_ids(w, model):
            theirs = _ask(client, "GET", f"{url}?{param}={pk}", True)
            if (theirs.status_code, theirs.content) != (missing.status_code, missing.content):
                problems.append(f"{who}: ?{param}={pk} (North's) answers {theirs.status_code} {theirs.content[:100]!r}, "
                                f"a missing id {missing.status_code} {missing.content[:100]!r}")
    assert not problems, "\n".join(problems)
