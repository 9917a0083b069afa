import datetime

from django import template

register = template.Library()


@register.filter
def duration_short(value: datetime.timedelta | None) -> str:
    """3d 4h, 5h 12m or 7m: how long a packet has waited, at a glance."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    days, rem = divmod(minutes, 24 * 60)
    hours, mins = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"
