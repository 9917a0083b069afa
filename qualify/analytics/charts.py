"""Chart geometry for server-rendered SVG: plain functions of plain numbers.

Templates in templates/analytics/charts/ draw what these return, so charts need no JavaScript and
no CDN, print well, and tests can assert on them.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field

from qualify.formatting import show_percent

WIDTH = 640
WIDE = 1100  # columns charts span a whole card


@dataclass
class Bar:
    label: str
    value: float
    text: str
    x: float
    y: float
    w: float
    h: float
    inside: bool = True  # the value text is drawn on the bar; False: after it, where a short bar leaves room

    @property
    def x2(self) -> float:
        return self.x + self.w

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass
class Chart:
    title: str
    width: int
    height: int
    bars: list[Bar]
    line: str = ""  # polyline points, for Pareto cumulative share or a rate line
    dots: list[tuple[float, float, str]] = field(default_factory=list)
    axis: list[tuple[float, str]] = field(default_factory=list)  # (x or y, label) ticks
    label_width: int = 0
    plot_top: float = 0
    plot_bottom: float = 0
    label_chars: int = 14  # columns: the longest label under a column, longer ones end in "…"
    # columns with a rate line: the line's own axis on the right, (y, "20%") ticks, and the names of both axes
    rate_axis: list[tuple[float, str]] = field(default_factory=list)
    rate_name: str = ""
    count_name: str = ""
    plot_right: float = 0

    @property
    def empty(self) -> bool:
        return not self.bars


# About how wide a character of the charts' 11-unit value text is (bold system-ui digits and
# letters average under 6.5 units): enough to tell whether a text fits on its bar.
CHAR_W = 6.5


def text_width(text: str) -> float:
    return len(text) * CHAR_W


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or float(v).is_integer() else f"{v:,.1f}"


def nice_axis(vmax: float, ticks: int = 4) -> tuple[float, float]:
    """(top, step) of a count axis people read at a glance: steps of 1, 2, 2.5 or 5 times a power of
    ten (at least 1), at most `ticks` of them, the top the first step at or above vmax (642 → 0,
    200 ... 800)."""
    raw = max(vmax, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = max(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw), 1)  # counts: whole steps
    return step * math.ceil(max(vmax, 1) / step), step


def hbars(title: str, rows: list[tuple[str, float, str]], *, label_width: int = 170, row_h: int = 22,
          max_value: float | None = None) -> Chart:
    """Horizontal bars, one per (label, value, text), scaled to the largest value (or max_value)."""
    top = max([max_value or 0] + [v for _, v, _ in rows]) or 1
    span = WIDTH - label_width - 150  # room for the value text after the longest bar
    bars = [
        Bar(label, value, text, label_width, i * row_h + 4, max(span * value / top, 0.5 if value else 0), row_h - 7)
        for i, (label, value, text) in enumerate(rows)
    ]
    return Chart(title, WIDTH, len(rows) * row_h + 8, bars, label_width=label_width)


def funnel(title: str, steps: list[tuple[str, int]]) -> Chart:
    """Centred bars narrowing step by step; each says its count and conversion from the step above."""
    row_h, label_w = 34, 110
    top = max([n for _, n in steps] + [1])
    span = WIDTH - label_w - 10
    bars, prev = [], None
    for i, (label, n) in enumerate(steps):
        w = max(span * n / top, 2 if n else 0)
        text = f"{n:,} · {show_percent(100 * n / prev)} of previous" if prev else f"{n:,}"
        # On the bar when it fits with some margin; a short bar's text goes beside it, to its right.
        inside = text_width(text) + 12 <= w
        bars.append(Bar(label, n, text, label_w + (span - w) / 2, i * row_h + 4, w, row_h - 8, inside))
        prev = n or None
    return Chart(title, WIDTH, len(steps) * row_h + 8, bars, label_width=label_w)


# About how wide a character of a column's 10-unit label is.
TICK_CHAR_W = 6.0


def columns(title: str, cols: list[tuple[str, float]], *, rate: list[float | None] | None = None,
            width: int = WIDE, count_name: str = "", rate_name: str = "", rate_top: float | None = None) -> Chart:
    """Vertical columns (e.g. leads per month) against the count axis on the left, and an optional
    rate line (percentages) against an axis of its own on the right, from 0 % to a round top at or
    above its largest rate (or `rate_top`). `count_name`, `rate_name`: what each axis measures,
    written above it. `width`: WIDE for a whole card, WIDTH for half of one (drawn at about their
    own size, so the text stays readable)."""
    height, top_pad, bottom_pad, left = 240, 30 if count_name or rate_name else 18, 30, 48
    right = 44 if rate is not None else 10
    plot_h = height - top_pad - bottom_pad
    n = max(len(cols), 1)
    slot = (width - left - right) / n
    vmax, step = nice_axis(max([v for _, v in cols] + [1]))
    bars = []
    for i, (label, v) in enumerate(cols):
        h = plot_h * v / vmax
        bars.append(Bar(label, v, _fmt(v), left + i * slot + slot * 0.15, top_pad + plot_h - h, slot * 0.7, h))
    chart = Chart(title, width, height, bars, plot_top=top_pad, plot_bottom=top_pad + plot_h, label_width=left,
                  label_chars=max(4, int(slot / TICK_CHAR_W)), count_name=count_name, rate_name=rate_name,
                  plot_right=width - right)
    chart.axis = [(top_pad + plot_h * (1 - k * step / vmax), _fmt(k * step)) for k in range(round(vmax / step) + 1)]
    if rate is not None:
        rtop, rstep = (rate_top, rate_top / 4) if rate_top else nice_axis(max([r for r in rate if r is not None] + [1]))
        chart.rate_axis = [(top_pad + plot_h * (1 - k * rstep / rtop), show_percent(k * rstep))
                           for k in range(round(rtop / rstep) + 1)]
        points = [
            (left + i * slot + slot / 2, top_pad + plot_h * (1 - r / rtop), show_percent(r))
            for i, r in enumerate(rate) if r is not None
        ]
        chart.line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        chart.dots = points
    return chart


def pareto_chart(title: str, bars_in: list[tuple[str, int, float]], *, width: int = WIDE) -> Chart:
    """Pareto: counts sorted descending as columns, cumulative share (0-100 %) as a line on its own axis."""
    return columns(title, [(label, n) for label, n, _ in bars_in], rate=[cum for _, _, cum in bars_in], width=width,
                   rate_top=100)
