"""A workaround in kombu's Redis transport: restoring unacknowledged messages on a channel whose
connection is already closed.

When the broker connection breaks, Celery closes the kombu Connection, which detaches the
transport from it (`transport.client = None`). A channel closed after that (the task consumer's,
at the consumer's restart or when it is garbage-collected) first drops its Redis connection pool
and then restores the messages it had delivered but not acknowledged; building a new pool reads
the host from `self.connection.client`, now None, and the worker dies with
"AttributeError: 'NoneType' object has no attribute 'hostname'" (issue 12; the same sequence fails
with kombu 5.5.4, 5.6.2 and 5.7.0, tests/test_broker.py). Each channel here remembers the
parameters it last connected with and uses them when its transport has been detached, so the
restore reaches Redis (or fails with a connection error, which kombu and Celery handle: the
messages then stay in Redis's unacked set until the visibility timeout).
"""

from __future__ import annotations

from typing import Any

_installed = False


def install() -> None:
    """Patch kombu.transport.redis.Channel._connparams once per process."""
    global _installed
    if _installed:
        return
    try:
        from kombu.transport import redis as kombu_redis
    except ImportError:  # no redis client installed: the filesystem transport needs no patch
        return
    original = kombu_redis.Channel._connparams

    def _connparams(self: Any, asynchronous: bool = False) -> dict[str, Any]:
        remembered = self.__dict__.setdefault("_qualify_connparams", {})
        if self.connection.client is None and asynchronous in remembered:
            return dict(remembered[asynchronous])
        params = original(self, asynchronous=asynchronous)
        remembered[asynchronous] = dict(params)
        return params

    kombu_redis.Channel._connparams = _connparams
    _installed = True
