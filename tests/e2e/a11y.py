"""axe-core in the browser tests: `assert_accessible(page)` runs axe on what the page shows now
and fails on any serious or critical violation, naming each rule, its help and the elements.

axe-core comes from npm (package.json, `npm ci` in `make test`), into node_modules/. It is
evaluated through the DevTools protocol, which the Content-Security-Policy does not govern (an
injected <script> would be refused, as it should). Without node_modules/axe-core the checks skip
with the command to run, except under CI (`CI` set), where they fail: a missing tool must not
pass for a clean page.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@functools.cache
def axe_source() -> str | None:
    return AXE.read_text() if AXE.exists() else None


def require_axe() -> str:
    source = axe_source()
    if source is None:
        message = f"axe-core is not installed ({AXE} is missing): run `npm ci` (or `make test`, which does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return source


def violations(page, *, include: str | None = None) -> list[dict]:
    """axe's serious and critical violations on the page as it is now (or inside `include`)."""
    source = require_axe()
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    found = page.evaluate(
        """async (include) => {
            const result = await axe.run(include ? document.querySelector(include) : document, {resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}));
        }""",
        include,
    )
    return [v for v in found if v["impact"] in BLOCKING]


def describe(found: list[dict]) -> str:
    return "\n".join(f"[{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in found)


def assert_accessible(page, where: str = "", *, include: str | None = None) -> None:
    found = violations(page, include=include)
    assert not found, f"axe: serious or critical violations on {where or page.url}:\n{describe(found)}"
