#!/usr/bin/env python3
"""Screenshots of the main pages for the README: `make screenshots`, or
`python scripts/screenshots.py [URL] [--out docs/screenshots]` against a running `make run`
(default http://127.0.0.1:8000) with the demo data.

Signs in through the login form as each demo role (password `demo`, see the README's demo logins),
opens each page at 1440x900 and saves it as a PNG, 1440 px wide and cut at MAX_HEIGHT px so the
README stays light. A dev tool, not a test: but it stops with a clear message, naming the page,
when a page (or an htmx fragment it loads) answers with an error, or when a sign-in fails, rather
than saving a picture of an error page. Where the fresh demo has nothing to show (no prediction
model trained, no duplicate pairs looked for) it presses the page's own button first, as RevOps
would, and waits for the worker: so it changes the demo data a little.

Browser: $QUALIFY_BROWSER, else /usr/bin/chromium, else Playwright's own Chromium
(`playwright install chromium`). Playwright comes with the dev extras (`pip install -e '.[dev]'`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

WIDTH, HEIGHT = 1440, 900
MAX_HEIGHT = 1800
PASSWORD = "demo"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


class PageFailed(Exception):
    pass


@dataclass(frozen=True)
class Shot:
    name: str  # file name without extension
    user: str
    path: str | Callable[[Page, str], str]  # a path, or a function finding it from the signed-in page
    wait_for: str = "main"  # a selector that is there once the page has rendered
    start: str = ""  # a selector the picture starts at (default: the top of the page)
    prepare: Callable[[Page], None] | None = None  # fills an empty demo page first (see fill_if_empty)


def fill_if_empty(empty: str, button: str, busy: str = "", seconds: int = 150) -> Callable[[Page], None]:
    """When the page shows `empty`, press `button` (as RevOps would: train a prediction model, run
    the duplicate finder; the worker of `make run` does the work) and reload until `empty` and
    `busy` are gone. Changes the demo data: a page that stays empty is photographed as it is."""

    def prepare(page: Page) -> None:
        if not page.locator(empty).count():
            return
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state("networkidle")
        for _ in range(seconds // 3):
            if not page.locator(empty).count() and not (busy and page.locator(busy).count()):
                return
            page.wait_for_timeout(3000)
            visit(page, page.url)
        print(f"  {page.url} still shows {empty!r} after {seconds} s: taken as it is", file=sys.stderr)

    return prepare


def first_link(pattern: str, start: str) -> Callable[[Page, str], str]:
    """The first link on `start` whose href matches `pattern` (e.g. the queue's first lead)."""

    def find(page: Page, base: str) -> str:
        visit(page, base + start)
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            if re.fullmatch(pattern, href or ""):
                return href
        raise PageFailed(f"no link matching {pattern} on {start}: is the demo data seeded (manage.py seed_demo)?")

    return find


SHOTS = [
    Shot("sdr-queue", "alice", "/queue/"),
    Shot("lead", "alice", first_link(r"/leads/\d+/", "/queue/")),
    Shot("account", "alice", first_link(r"/accounts/\d+/", "/queue/")),
    Shot("handoff-inbox", "erin", "/handoffs/"),
    Shot("metrics", "maria", "/metrics/"),
    Shot("reviews", "maria", first_link(r"/reviews/\d+/", "/reviews/")),
    Shot("breaches", "maria", "/sla/breaches/"),
    Shot("notifications", "alice", "/notifications/"),
    Shot("calibration", "rita", "/calibration/"),
    Shot("predictions-quality", "rita", "/predictions/",
         prepare=fill_if_empty("text=No prediction model yet", "Train a new version", busy=".version-progress[hx-get]")),
    Shot("duplicates", "rita", "/duplicates/", prepare=fill_if_empty("td.empty", "Find duplicates", seconds=60)),
    Shot("scoring-admin", "rita", first_link(r"/admin/scoring/scoringmodel/\d+/change/", "/admin/scoring/scoringmodel/"),
         wait_for="#rules-group", start=".rule-effect-note"),
]


def visit(page: Page, url: str) -> None:
    """Go to `url`; fail on an error status or on being sent to the sign-in page."""
    response = page.goto(url, wait_until="networkidle")
    if response is None or response.status >= 400:
        raise PageFailed(f"{url} answered {response.status if response else 'nothing'}")
    if "/login/" in page.url and "/login/" not in url:
        raise PageFailed(f"{url} sent the signed-in user to the sign-in page (no access?)")


def sign_in(page: Page, base: str, user: str) -> None:
    page.context.clear_cookies()
    visit(page, f"{base}/login/")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    try:
        # Signed in: the page has a Sign out button, inside the top bar's account menu (closed, so
        # hidden: attached is enough).
        page.locator("form[action$='/logout/'] button").wait_for(state="attached", timeout=10_000)
    except PlaywrightError:
        raise PageFailed(f"could not sign in as {user!r} with password {PASSWORD!r}: is the demo data seeded?") from None


def take(page: Page, base: str, shot: Shot, out: Path, errors: list[str]) -> Path:
    url = base + (shot.path if isinstance(shot.path, str) else shot.path(page, base))
    errors.clear()
    visit(page, url)
    page.locator(shot.wait_for).first.wait_for(timeout=10_000)
    page.wait_for_load_state("networkidle")
    if shot.prepare:
        shot.prepare(page)
    if errors:
        raise PageFailed(f"{url}: {', '.join(errors)}")
    top = max(0, page.locator(shot.start).first.bounding_box()["y"] - 16) if shot.start else 0
    height = min(page.evaluate("document.documentElement.scrollHeight") - top, MAX_HEIGHT)
    path = out / f"{shot.name}.png"
    page.screenshot(path=str(path), full_page=True, clip={"x": 0, "y": top, "width": WIDTH, "height": height})
    return path


def browser_path() -> str | None:
    return shutil.which(os.environ.get("QUALIFY_BROWSER") or "/usr/bin/chromium")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000", help="the running server (default %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (default docs/screenshots)")
    parser.add_argument("--only", nargs="*", help="names of the shots to take (default: all)")
    args = parser.parse_args(argv)
    base = args.url.rstrip("/")
    shots = [s for s in SHOTS if not args.only or s.name in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=browser_path(), args=["--no-sandbox", "--disable-gpu"])
        except PlaywrightError as exc:
            sys.exit(f"screenshots: no browser: set QUALIFY_BROWSER or run `playwright install chromium` ({exc})")
        page = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}).new_page()
        page.set_default_timeout(30_000)
        # An htmx fragment (a panel, a badge) that fails does not fail the page's own request.
        errors: list[str] = []
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        try:
            visit(page, f"{base}/login/")
        except PlaywrightError as exc:
            sys.exit(f"screenshots: {base} does not answer; start the app with `make run` first ({exc.message.splitlines()[0]})")
        signed_in = None
        for shot in shots:
            try:
                if shot.user != signed_in:
                    sign_in(page, base, shot.user)
                    signed_in = shot.user
                path = take(page, base, shot, args.out, errors)
            except (PageFailed, PlaywrightError) as exc:
                browser.close()
                message = str(exc).splitlines()[0]
                sys.exit(f"screenshots: {shot.name} (as {shot.user}) failed: {message}")
            print(f"{path}  {path.stat().st_size // 1024} KB")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
