"""The web process's startup (qualify/process.py, called by qualify/wsgi.py)."""

from __future__ import annotations

import gc

import pytest

from qualify.process import freeze_startup_objects


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_startup_objects_leave_the_collectors_generations(unfrozen):
    """What was loaded before the freeze is no longer walked by a full collection; what comes after is."""
    loaded = [[i] for i in range(1000)]
    frozen = freeze_startup_objects()
    # Not equal: a frozen object freed since (by any thread) leaves the count.
    assert frozen >= 1000 and 0 < gc.get_freeze_count() <= frozen
    assert not any(o is loaded for o in gc.get_objects())
    later = [[]]
    assert any(o is later for o in gc.get_objects())


def test_the_wsgi_module_freezes_after_loading_the_app(unfrozen, monkeypatch, settings):
    """qualify/wsgi.py: the app loads, the static check passes, then the freeze."""
    import importlib
    import sys

    called = []
    monkeypatch.setattr("qualify.checks.require_static_manifest", lambda: called.append("manifest"))
    monkeypatch.setattr("qualify.process.freeze_startup_objects", lambda: called.append("freeze") or 0)
    sys.modules.pop("qualify.wsgi", None)
    importlib.import_module("qualify.wsgi")
    assert called == ["manifest", "freeze"]
