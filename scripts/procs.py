#!/usr/bin/env python3
"""`honcho start`, with time for a clean stop: `python scripts/procs.py start -f Procfile.dev`.

On Ctrl-C honcho sends SIGTERM to every process and SIGKILLs whatever is still alive 5 seconds
later. An idle Celery worker on the filesystem broker needs about 4-6 seconds for its warm shutdown
(it finishes its 2-second broker poll, then closes the pool), so plain honcho often kills it.
"""

import sys

import honcho.manager
from honcho.command import main

honcho.manager.KILL_WAIT = 20

if __name__ == "__main__":
    sys.exit(main())
