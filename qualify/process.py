"""What a web process does once, after the app is loaded (qualify/wsgi.py)."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Put everything loaded so far (Django, the apps, URLconf, templates: about 250,000 objects)
    out of the cyclic garbage collector's reach, and return how many. They live as long as the
    process, yet every full collection walked them all: a 120-240 ms pause every few dozen queue
    requests at 1M leads (docs/benchmarks.md, SDR queue). Costs one collection at startup; each
    gunicorn worker runs it after the fork, so no memory is shared that a collection would copy."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
