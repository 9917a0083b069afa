"""Real parallel work against the real PostgreSQL, for race tests (transactional_db): each call
runs in its own thread, so its own database connection, and they all start together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test import Client


def at_once(*calls: Callable[[], Any]) -> list:
    """Each call's result, or the exception it raised, in the order given."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def work(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[i] = call()
        except Exception as e:  # noqa: BLE001 — the outcome under test
            outcomes[i] = e
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def posts_at_once(user, path: str, data: dict, times: int, **extra: Any) -> list:
    """`times` POSTs of the same body by `user`, each from its own signed-in client; the responses.
    `extra` goes to Client.post (content_type, headers)."""
    clients = []
    for _ in range(times):
        client = Client()
        if user is not None:
            client.force_login(user)
        clients.append(client)
    return at_once(*(lambda c=c: c.post(path, data, **extra) for c in clients))
