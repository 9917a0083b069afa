"""Geometry of the quality page's two charts, as plain numbers for server-rendered SVG (the same
approach as analytics/charts.py: no JavaScript, printable, testable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qualify.formatting import show_share

SIZE, PAD = 300, 36


@dataclass
class Square:
    """A unit square plot: x and y from 0 to 1 (or 0 to 100 %)."""

    title: str
    x_label: str
    y_label: str
    size: int = SIZE
    pad: int = PAD
    line: str = ""  # the measured curve
    diagonal: str = ""  # perfect calibration, or random ranking
    dots: list[tuple[float, float, str]] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)

    @property
    def width(self) -> int:
        return self.size + 2 * self.pad

    def at(self, x: float, y: float) -> tuple[float, float]:
        return self.pad + x * self.size, self.pad + (1 - y) * self.size


def _square(title: str, x_label: str, y_label: str, points: list[tuple[float, float, str]]) -> Square:
    chart = Square(title, x_label, y_label)
    chart.diagonal = " ".join(f"{x:.1f},{y:.1f}" for x, y in (chart.at(0, 0), chart.at(1, 1)))
    placed = [(*chart.at(x, y), text) for x, y, text in points]
    chart.line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in placed)
    chart.dots = placed
    chart.ticks = [(k / 4, f"{25 * k}%") for k in range(5)]
    return chart


def reliability_chart(table: list[dict[str, Any]]) -> Square:
    """Observed conversion against mean predicted probability per bin; on the diagonal is perfect."""
    points = [(r["predicted"], r["observed"], f"{r['count']:,} leads: predicted {show_share(r['predicted'])}, "
               f"won {show_share(r['observed'])}") for r in table if r["count"]]
    return _square("Reliability", "Predicted probability", "Observed conversion", points)


def capture_chart(capture: list[dict[str, Any]]) -> Square:
    """Share of conversions in the top k % of leads by predicted probability; the diagonal is a
    random order."""
    points = [(0.0, 0.0, "")] + [(c["top_pct"] / 100, c["share"], f"Top {c['top_pct']}% of leads hold "
                                  f"{show_share(c['share'])} of conversions") for c in capture]
    return _square("Capture", "Top leads by prediction", "Share of conversions", points)
