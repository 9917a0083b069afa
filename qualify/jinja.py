"""The Jinja2 environment for the templates a page renders once per row (the queue's rows,
`templates/**/*.jinja`); everything else is Django templates.

Why a second engine: Django's template engine spent about 0.2 ms on each queue row (50 variable
lookups through its resolver, 30 escaped outputs), 11 of a page's 35 ms at 1,000,000 leads; Jinja2
compiles the same markup to Python and renders the 50 rows in about 4 ms (README, SDR queue;
bench/probes/queue_stages.py measures it).
The filters below are the few the rows use, written to behave as their Django namesakes do.
Undefined names raise: a row that reads a name nobody set is a bug, not an empty cell.
"""

from __future__ import annotations

from django.utils.timezone import template_localtime
from jinja2 import Environment, StrictUndefined

from qualify.formatting import ago, fastdate


def _fastdate(value, arg: str | None = None) -> str:
    # Django converts a datetime to the current time zone before a `date`-like filter sees it.
    return fastdate(template_localtime(value), arg)


def _percent(value) -> str:
    """{% widthratio value 1 100 %}: a 0-1 probability as a whole percentage, rounded as it rounds."""
    return str(round(float(value) * 100))


def environment(**options) -> Environment:
    options["undefined"] = StrictUndefined
    env = Environment(**options)
    env.filters.update(ago=ago, fastdate=_fastdate, percent=_percent)
    return env
