#!/usr/bin/env python3
"""`honcho start`, with a clean stop: `python scripts/procs.py start -f Procfile.dev`.

On Ctrl-C honcho sends SIGTERM to each process's whole group and SIGKILLs whatever is still alive
5 seconds later. A Celery worker's pool children then die of the TERM at once, the worker's main
process starts new ones during its warm shutdown, they take messages, and the stop hung until the
SIGKILL. So a Celery worker (exec'd by Procfile.dev, so honcho's pid is its main process) gets the
TERM alone and stops its pool itself, as Celery's docs ask; the rest get it as honcho sends it.
KILL_WAIT is 20 s: an idle worker on the filesystem broker needs 4-6 s (its 2-second poll, then the
pool).
"""

import os
import signal
import sys

import honcho.manager
from honcho.command import main
from honcho.compat import ProcessManager

honcho.manager.KILL_WAIT = 20


def _is_celery_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:  # no /proc (macOS) or already gone: honcho's way
        return False
    return any(a.endswith(b"celery") for a in argv[:2]) and b"worker" in argv


class _Processes(ProcessManager):
    def terminate(self, pid: int) -> None:
        if _is_celery_worker(pid):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        else:
            super().terminate(pid)


honcho.manager.ProcessManager = _Processes

if __name__ == "__main__":
    sys.exit(main())
