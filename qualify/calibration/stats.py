"""The arithmetic of calibration: plain functions of counts, no database (tested by hand on small sets).

Everything here reads the closed leads as counts: a histogram {score: (leads, won)} for the bands
and thresholds, and (fired, won among fired, eligible, won among eligible) for a rule. "Conversion"
is won / (won + lost + disqualified).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qualify.formatting import show_share

Z95 = 1.959963984540054  # two-sided 95 %


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of k successes in n trials, as fractions (0, 0 when n is 0).
    Unlike the normal approximation it stays inside [0, 1] and is sensible at k = 0 or k = n."""
    if n <= 0:
        return 0.0, 0.0
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # Exactly 0 and 1 at the ends (the formula leaves rounding dust there).
    return (0.0 if k == 0 else max(0.0, centre - half)), (1.0 if k == n else min(1.0, centre + half))


def rate(k: int, n: int) -> float | None:
    return k / n if n else None


@dataclass(frozen=True)
class Band:
    """Closed leads whose score lies in [low, high] (both observed scores)."""

    number: int  # 1..10, the decile the band's lowest score starts in
    low: int
    high: int
    leads: int
    won: int

    @property
    def conversion(self) -> float | None:
        return rate(self.won, self.leads)

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.won, self.leads)


def deciles(histogram: dict[int, tuple[int, int]]) -> list[Band]:
    """Score bands of about a tenth of the closed leads each, lowest first.

    A score value is never split: all leads with one score go to the band of the first of them,
    numbered floor(10 · leads below that score / all leads) + 1. So ties make bands larger and
    leave some deciles empty (those are skipped), and the bands' edges are scores that occur."""
    total = sum(n for n, _ in histogram.values())
    if not total:
        return []
    bands: dict[int, list[int]] = {}  # number -> [low, high, leads, won]
    below = 0
    for score in sorted(histogram):
        n, won = histogram[score]
        if not n:
            continue
        number = min(10, 10 * below // total + 1)
        band = bands.setdefault(number, [score, score, 0, 0])
        band[1] = score
        band[2] += n
        band[3] += won
        below += n
    return [Band(number, lo, hi, n, won) for number, (lo, hi, n, won) in sorted(bands.items())]


def at_or_above(histogram: dict[int, tuple[int, int]], threshold: float) -> tuple[int, int]:
    """(leads, won) with a score at or above `threshold`."""
    leads = won = 0
    for score, (n, w) in histogram.items():
        if score >= threshold:
            leads += n
            won += w
    return leads, won


@dataclass(frozen=True)
class RuleCounts:
    """How a rule did on the closed leads it could have fired on (those scored by a version that
    had it): `fired` of them it fired on, `fired_won` of those were won."""

    eligible: int
    eligible_won: int
    fired: int
    fired_won: int

    @property
    def not_fired(self) -> int:
        return self.eligible - self.fired

    @property
    def not_fired_won(self) -> int:
        return self.eligible_won - self.fired_won

    @property
    def base(self) -> float | None:
        return rate(self.eligible_won, self.eligible)

    @property
    def fired_rate(self) -> float | None:
        return rate(self.fired_won, self.fired)

    @property
    def not_fired_rate(self) -> float | None:
        return rate(self.not_fired_won, self.not_fired)

    @property
    def lift(self) -> float | None:
        """Conversion when the rule fired over the base conversion of all eligible leads."""
        base, fired = self.base, self.fired_rate
        if base is None or fired is None or base == 0:
            return None
        return fired / base

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.fired_won, self.fired)


def round_points(value: float, current: float) -> int:
    """Suggested points rounded the way people write them: to 5 when the rule is worth 10 or
    more, else to 1 (half away from zero)."""
    step = 5 if abs(current) >= 10 else 1
    return int(math.copysign(math.floor(abs(value) / step + 0.5) * step, value))


# A share (0-1) as every page writes a percentage: '19.3%', '2.5%', '—' when unknown.
pct = show_share
