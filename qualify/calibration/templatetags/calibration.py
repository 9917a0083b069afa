"""Intervals, widths and lifts as the calibration page writes them (shares: the builtin |share)."""

from django import template

from qualify.formatting import show_share

register = template.Library()


@register.filter
def width(value: float | None) -> str:
    """A share as a CSS width (inline styles are allowed by the CSP; scripts are not)."""
    return f"{100 * (value or 0):.1f}%"


@register.filter
def span(interval: tuple[float, float]) -> str:
    return f"{100 * (interval[1] - interval[0]):.1f}%"


@register.filter
def interval(value: tuple[float, float]) -> str:
    return f"{show_share(value[0])}–{show_share(value[1])}"


@register.filter
def lift(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


@register.filter
def get_item(mapping: dict, key: str):
    return mapping.get(key, "")
