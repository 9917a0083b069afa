"""API throttles: per user when signed in, per address otherwise, and a scope of its own for event
ingestion. Counters live in the default cache (shared Redis in production, see settings).

DRF's classes copy the rates into a class attribute when they are imported; these read them on every
request instead, so a rate set in settings (or changed by a test) applies at once.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _LiveRates:
    @property
    def THROTTLE_RATES(self) -> dict[str, str | None]:  # noqa: N802 (DRF's name)
        rates = api_settings.DEFAULT_THROTTLE_RATES
        return {scope: None if str(rate).lower() in ("", "none", "off") else rate for scope, rate in rates.items()}


class AnonThrottle(_LiveRates, AnonRateThrottle):
    pass


class UserThrottle(_LiveRates, UserRateThrottle):
    pass


class IngestThrottle(_LiveRates, UserRateThrottle):
    """`POST /api/events/`: 1,000-event batches several times a second per client, counted apart
    from (and instead of) the general per-user rate."""

    scope = "ingest"
