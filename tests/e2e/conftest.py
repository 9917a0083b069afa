"""Real-browser tests: Playwright drives Debian's Chromium against pytest-django's live_server.

Every test under tests/e2e is marked `browser` (deselect with `-m "not browser"`), runs as a
transactional test (the live server answers from another thread, so the test's data must be
committed for it to see it), and runs after all other tests (see pytest_collection_modifyitems).

Browser. `playwright install` cannot download here, so we launch the system Chromium:
$QUALIFY_BROWSER, else /usr/bin/chromium (`apt-get install chromium`). Without one, the whole
directory is skipped with that reason rather than failing.

Data-migration rows. Transactional tests end with a `flush` that empties every table, so the rows
data migrations ship (disqualify reasons, the BANT/MEDDIC/... frameworks, the default scoring
model, beat entries) are gone for every transactional test after the first one (checked: a plain
`django_db(transaction=True)` test saw 11 reasons and 5 frameworks on its first run, 0 and 0 on
its second). pytest-django's `serialized_rollback=True` restores them in an e2e-only run, but not
in the full suite: Playwright's sync API leaves an asyncio loop running in the test thread, and
Django keeps DB connections in a thread-critical asgiref Local, which then hands out *new*
connection objects. The one pytest-django stored the snapshot on (`_test_serialized_contents`,
made at DB creation, before Playwright started) is no longer `connections["default"]`, so nothing
was restored and the journeys failed. So instead, `_data_migration_rows` (autouse here) re-runs
the project's own RunPython forward functions, in migration order, each with the historical
models of its migration (as `migrate` would), at the start of every e2e test. They are all
idempotent (get_or_create, or "if exists: return"), so on an intact database they change nothing.
Measured: once per session ~0.5 s building the historical model states (14 steps today), then
~0.15 s per test (after a flush, recreating every row). A new
data migration must stay idempotent; one that is not fails here loudly (duplicate rows or an
IntegrityError), not silently. test_login.py::test_data_migration_rows_survive_earlier_transactional_tests
runs twice to keep this honest. (tests/conftest.py gives other transactional tests
serialized rollback; that works for them because they run before these, with no loop running.)

Async. Playwright's sync API runs an event loop in the test thread, and Django refuses ORM calls
from a thread with a running loop; DJANGO_ALLOW_ASYNC_UNSAFE lifts that for these tests
(playwright-pytest#29). The environment variable is process-wide, so it is set only when this
directory is collected.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).parent.resolve()
PASSWORD = "pw"
TIMEOUT_MS = 10_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_executable() -> str | None:
    """$QUALIFY_BROWSER, else /usr/bin/chromium, if it exists and is executable."""
    return shutil.which(os.environ.get("QUALIFY_BROWSER") or "/usr/bin/chromium")


def _in_this_directory(item: pytest.Item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_itemcollected(item: pytest.Item) -> None:
    """Mark ours `browser` (early enough for `-m "not browser"`), or skip them without Chromium.

    No django_db marker: the autouse `_data_migration_rows` requests `transactional_db`, which
    makes every test here transactional (and keeps tests/conftest.py's serialized rollback, which
    Playwright defeats, off them)."""
    if not _in_this_directory(item):
        return
    item.add_marker(pytest.mark.browser)
    if chromium_executable() is None:
        where = os.environ.get("QUALIFY_BROWSER") or "/usr/bin/chromium"
        item.add_marker(pytest.mark.skip(
            reason=f"no Chromium at {where}: apt-get install chromium, or set QUALIFY_BROWSER to a Chromium executable"
        ))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run ours last.

    pytest's own fixture-based reordering (which runs after pytest-django's "db tests before
    transactional ones") groups every test parametrized with pytest-playwright's session-scoped
    `browser_name`, and a test elsewhere that names a parameter `page` gets that parametrization
    too: our transactional tests were pulled in among plain `db` tests, whose data-migration rows
    they then flushed. After the browser tests nothing relies on a pristine database, and
    Playwright's running event loop (see above) no longer matters. This hook sees the whole
    session's items: it moves only ours, keeping every other order (and pytest-randomly's) as is.
    """
    ours = [item for item in items if _in_this_directory(item)]
    if ours:
        items[:] = [item for item in items if not _in_this_directory(item)] + ours


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options plus the system Chromium, headless, quiet."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable(),
        "headless": browser_type_launch_args.get("headless", True),
        "args": CHROMIUM_ARGS,
    }


class _InFlight:
    """Counts a browser context's requests that have not finished yet."""

    def __init__(self, context) -> None:
        self.context, self.count = context, 0
        context.on("request", self._started)
        context.on("requestfinished", self._ended)
        context.on("requestfailed", self._ended)

    def _started(self, request) -> None:
        self.count += 1

    def _ended(self, request) -> None:
        self.count -= 1

    def settle(self, timeout_s: float = 5.0) -> None:
        """Wait (bounded) until the server has answered everything this context asked."""
        deadline = time.monotonic() + timeout_s
        while self.count > 0 and self.context.pages and time.monotonic() < deadline:
            self.context.pages[0].wait_for_timeout(50)  # lets Playwright deliver the events


@pytest.fixture
def new_context(new_context):
    """pytest-playwright's context factory, whose contexts go quiet before the test's teardown.

    A request still running in the live server (a debounced htmx search, a navigation) when the
    test ends writes while the teardown flush truncates: Postgres reported a deadlock. So before
    pytest-playwright closes the contexts, wait until each has had all its answers."""
    trackers = []

    def make(**kwargs):
        context = new_context(**kwargs)
        trackers.append(_InFlight(context))
        return context

    yield make
    for tracker in trackers:
        tracker.settle()


@pytest.fixture
def page(page):
    """pytest-playwright's page with bounded waits: a broken page fails in seconds, not minutes."""
    page.set_default_timeout(TIMEOUT_MS)
    return page


@pytest.fixture(autouse=True, scope="session")
def _expect_timeout():
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="session")
def _data_migrations() -> list:
    """(forward function, historical model state) for each RunPython operation of this project's
    migrations (third-party apps' excluded), in the order `migrate` runs them."""
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations.special import RunPython
    from django.db.migrations.state import ProjectState

    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan, seen = [], set()
    for leaf in sorted(loader.graph.leaf_nodes()):
        for node in loader.graph.forwards_plan(leaf):
            if node not in seen:
                seen.add(node)
                plan.append(node)
    base = Path(settings.BASE_DIR).resolve()
    state = ProjectState(real_apps=loader.unmigrated_apps)
    steps = []
    for node in plan:
        migration = loader.graph.nodes[node]
        ours = base in Path(sys.modules[type(migration).__module__].__file__).resolve().parents
        for operation in migration.operations:
            if ours and isinstance(operation, RunPython) and operation.code is not RunPython.noop:
                steps.append((operation.code, state.clone()))
            operation.state_forwards(migration.app_label, state)
    return steps


@pytest.fixture(autouse=True)
def _data_migration_rows(_data_migrations, transactional_db):
    """Put back what an earlier transactional test's flush removed (see the module docstring)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    # The flush also recreated the content types under new ids; the process-wide cache would hand
    # the old ones to the admin's change log (a foreign-key error, a 500 in the browser).
    ContentType.objects.clear_cache()
    with connection.schema_editor() as schema_editor:
        for forward, state in _data_migrations:
            forward(state.apps, schema_editor)


@pytest.fixture
def e2e_cast(transactional_db):
    """The cast of tests/conftest.py, committed so the live server sees it; password "pw".

    North: alice, bob (SDRs), erin (AE, the team's default AE), maria (manager), mark (marketing).
    South: charlie (SDR), sam (AE, South's default). rita: RevOps admin, staff.
    """
    from accounts.models import Role
    from tests.factories import TeamFactory, UserFactory

    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    people = {
        "alice": (Role.SDR, north, "Alice", "Adams", {}),
        "bob": (Role.SDR, north, "Bob", "Brown", {}),
        "erin": (Role.AE, north, "Erin", "Evans", {}),
        "maria": (Role.MANAGER, north, "Maria", "Moreno", {}),
        "mark": (Role.MARKETING, north, "Mark", "Miller", {}),
        "charlie": (Role.SDR, south, "Charlie", "Chen", {}),
        "sam": (Role.AE, south, "Sam", "Scott", {}),
        "rita": (Role.REVOPS, north, "Rita", "Ross", {"is_staff": True}),
    }
    cast = SimpleNamespace(north=north, south=south)
    for username, (role, team, first, last, extra) in people.items():
        user = UserFactory.with_role(role, team, username=username, first_name=first, last_name=last, password=PASSWORD, **extra)
        setattr(cast, username, user)
    north.default_ae = cast.erin
    north.save(update_fields=["default_ae"])
    south.default_ae = cast.sam
    south.save(update_fields=["default_ae"])
    return cast


def login_as(page, live_server, username: str, password: str = PASSWORD):
    """Sign in through the real login form and wait until the signed-in page has loaded."""
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(account_menu(page)).to_be_visible()
    return page


def account_menu(page):
    """The top bar's account menu button (a <summary>): the signed-in person's name."""
    return page.locator(".topbar .account-menu > summary")


def open_account_menu(page):
    """Open the account menu (Password, API tokens, API, Admin, Sign out) and return its panel."""
    from playwright.sync_api import expect

    account_menu(page).click()
    panel = page.locator(".topbar .account-panel")
    expect(panel).to_be_visible()
    return panel


@pytest.fixture
def page_for(new_context, live_server):
    """A second (third...) person in their own browser context: `erin = page_for("erin")`."""

    def open_as(username: str):
        other = new_context().new_page()
        other.set_default_timeout(TIMEOUT_MS)
        return login_as(other, live_server, username)

    return open_as


def url_path(page) -> str:
    """The path of the page's current URL, for assertions like `url_path(page) == "/queue/"`."""
    return re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]
