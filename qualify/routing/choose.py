"""Pure routing choices: who gets the lead, given candidates and whose turn it was.

Plain values in, a user id out, so fairness and skipping rules are tested exhaustively without a
database (tests/routing/test_choose.py) and the engine only gathers the facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    user_id: int
    load: int = 0  # open leads (New, MQL, Working) the rep owns now
    cap: int | None = None  # most open leads they may hold; None = no cap
    away: bool = False  # out of office today
    on_team: bool = True  # may own leads of the lead's team
    active: bool = True  # an account not deactivated (a named user's, an account owner's)

    @property
    def available(self) -> bool:
        return self.active and self.on_team and not self.away and (self.cap is None or self.load < self.cap)

    def why_not(self) -> str:
        if not self.active:
            return "deactivated"
        if not self.on_team:
            return "not on the lead's team"
        if self.away:
            return "out of office"
        if self.cap is not None and self.load >= self.cap:
            return f"at capacity ({self.load}/{self.cap})"
        return ""


def _turn_order(candidates: Sequence[Candidate], last_user_id: int | None) -> list[Candidate]:
    """Candidates by id, starting with the first one after `last_user_id` (wrapping around)."""
    ordered = sorted(candidates, key=lambda c: c.user_id)
    if last_user_id is None:
        return ordered
    after = [c for c in ordered if c.user_id > last_user_id]
    return after + [c for c in ordered if c.user_id <= last_user_id]


def round_robin(candidates: Sequence[Candidate], last_user_id: int | None) -> int | None:
    """The next available rep after the last one served; unavailable reps lose their turn."""
    return next((c.user_id for c in _turn_order(candidates, last_user_id) if c.available), None)


def least_loaded(candidates: Sequence[Candidate], last_user_id: int | None) -> int | None:
    """The available rep with the fewest open leads; ties go round-robin after the last one served,
    so equal reps alternate instead of the lowest id always winning."""
    order = _turn_order(candidates, last_user_id)
    pool = [c for c in order if c.available]
    if not pool:
        return None
    fewest = min(c.load for c in pool)
    return next(c.user_id for c in pool if c.load == fewest)


def single(candidate: Candidate | None) -> int | None:
    """A named user or the account owner: them if available, else nobody (the next rule decides)."""
    return candidate.user_id if candidate is not None and candidate.available else None
