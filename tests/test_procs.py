"""scripts/procs.py: on Ctrl-C a Celery worker gets the TERM alone (it stops its pool itself); every
other process gets it on its whole group, as honcho sends it."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")

SPAWN_CHILD = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""


def _procs():
    spec = importlib.util.spec_from_file_location("procs", Path(__file__).parents[1] / "scripts" / "procs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"  # a zombie is gone


def _group(tmp_path: Path, name: str, *args: str) -> tuple[subprocess.Popen, int]:
    """A process started like honcho's (a session of its own) that has a child in its group."""
    script = tmp_path / name
    script.write_text(SPAWN_CHILD)
    leader = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    return leader, int(leader.stdout.readline())


@pytest.mark.parametrize(("name", "args", "child_survives"), [
    ("celery", ("-A", "qualify", "worker"), True),  # the worker's main process stops its pool itself
    ("celery", ("-A", "qualify", "beat"), False),
    ("manage.py", ("runserver",), False),  # the autoreloader's child must not outlive it
])
def test_a_celery_worker_gets_the_term_alone_and_the_rest_their_whole_group(tmp_path, name, args, child_survives):
    leader, child = _group(tmp_path, name, *args)
    try:
        _procs()._Processes().terminate(leader.pid)
        leader.wait(timeout=10)
        time.sleep(0.3)
        assert _alive(child) == child_survives
    finally:
        for pid in (leader.pid, child):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
