"""Realistic, deterministic demo data: teams, users, accounts, leads, stage history, events, touches,
qualification answers and handoffs. `manage.py seed_demo` (in this app's management/commands) runs it.

`seed()` builds everything in memory from one `random.Random(seed)` (plus seeded Faker instances),
then writes it with `bulk_create` in a single transaction. The same seed always produces the same
companies, people, stages, histories, answers and handoffs; only absolute times (and the dates
written in notes, like a next step's "Thu 14 Mar") move with "now".

Answers and handoffs follow the rules of the app: a lead was handed off only once every required
criterion of its framework was answered, each handoff carries the packet `build_packet` froze at
that moment, and every accept or rejection matches the stage change the lifecycle wrote for it.

The generator is split by what it seeds, one mixin per module over a shared `GeneratorState`
(base.py): cast.py (teams, users, the logins table), accounts.py, leads.py (people, stage paths and
their timing), activity.py (touches and behavioural events), qualification.py (frameworks, answers,
handoffs), workspace.py (routing rules, review plans and queues, the metrics refresh); tables.py
holds the vocabulary they draw from and generator.py runs them in order.

The cast is fixed so docs and browser demos can name people (password `demo` for everyone):
North America: alice, bob (SDRs), erin, ethan (AEs), maria (manager), mark (marketing).
EMEA: charlie, chloe (SDRs), sam (AE), magnus (manager), mia (marketing).
rita: RevOps admin in both teams, staff and superuser.
"""

from importlib import import_module
from typing import Any

# Where each public name lives. Loaded on first use: Django imports this package while it is still
# loading the app registry, before any model module may be imported.
_EXPORTS = {
    "seed": "generator", "has_data": "generator", "print_logins": "cast",
    "DEMO_USERNAMES": "tables", "COUNTRIES": "tables", "MIN_READY": "tables",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"qualify.demo.{_EXPORTS[name]}"), name)
