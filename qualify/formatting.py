"""Template filters every page uses (a builtin: no {% load %}): durations written one way.

`duration` turns a timedelta, or a number with its unit, into "12 h 17 min", "3 d 4 h" or
"7 min": the two largest units, so a glance is enough ("737.2 minutes" is not).
"""

from __future__ import annotations

import datetime

from django import template

register = template.Library()

UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def humanize_duration(value: datetime.timedelta | float | int | None, unit: str = "seconds") -> str:
    """'3 d 4 h', '12 h 17 min', '7 min', 'under 1 min'; '' for None. Rounds down to the minute."""
    if value is None or value == "":
        return ""
    seconds = value.total_seconds() if isinstance(value, datetime.timedelta) else float(value) * UNITS[unit]
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min" if mins else "under 1 min"


@register.filter
def duration(value, unit: str = "seconds") -> str:
    """{{ delta|duration }}, or for a plain number {{ minutes|duration:"minutes" }} ("days", "hours")."""
    return humanize_duration(value, unit)
