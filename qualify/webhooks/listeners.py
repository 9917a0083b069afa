"""Webhooks' listeners on the lead core (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

Every topic a webhook event comes from writes its outbox rows inside the change's transaction
(IN_TRANSACTION): a rolled-back change leaves no row, a committed one always has its rows, and
delivery.kick runs after commit. One endpoint query per batch; nothing more when nobody subscribes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from qualify.leads.changes import IN_TRANSACTION, listen

from . import outbox
from .events import BY_TOPIC, Event


def _writer(translate: Callable[[list[Any]], Iterator[Event]]) -> Callable[[list[Any]], None]:
    def write(batch: list[Any]) -> None:
        outbox.write(translate(batch))

    write.__qualname__ = f"webhooks.{translate.__name__}"
    return write


for _topic, _translate in BY_TOPIC.items():
    listen(_topic, when=IN_TRANSACTION)(_writer(_translate))
