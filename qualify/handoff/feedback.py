"""Handoff feedback: acceptance by SDR and source, rejection reasons by source.

This is the loop the brief insists on: marketing and SDRs learn which sources and habits
produce leads AEs accept. Each table is one grouped query over decided handoffs.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from qualify.leads.models import Source

from .models import Handoff, HandoffStatus


@dataclass
class Rate:
    label: str
    handed_off: int
    accepted: int
    rejected: int
    pending: int

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def acceptance_rate(self) -> float | None:
        return round(100 * self.accepted / self.decided, 1) if self.decided else None


def _window(qs: QuerySet[Handoff], start: datetime.date, end: datetime.date) -> QuerySet[Handoff]:
    """Handoffs created in [start, end] (dates inclusive, in the site's time zone)."""
    return qs.filter(created_at__date__gte=start, created_at__date__lte=end)


def _rates(qs: QuerySet[Handoff], key: str, label) -> list[Rate]:
    rows = (
        qs.values(key)
        .annotate(
            n=Count("id"),
            acc=Count("id", filter=Q(status=HandoffStatus.ACCEPTED)),
            rej=Count("id", filter=Q(status=HandoffStatus.REJECTED)),
            pen=Count("id", filter=Q(status=HandoffStatus.PENDING)),
        )
        .order_by("-n")
    )
    return [Rate(label(r[key]), r["n"], r["acc"], r["rej"], r["pen"]) for r in rows]


def acceptance_by_sdr(qs, start, end) -> list[Rate]:
    from accounts.models import User

    rows = _rates(_window(qs, start, end), "from_user", lambda pk: pk)
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[r.label for r in rows])}
    for r in rows:
        r.label = names.get(r.label, "—")
    return rows


def acceptance_by_source(qs, start, end) -> list[Rate]:
    labels = dict(Source.choices)
    return _rates(_window(qs, start, end), "source", lambda v: labels.get(v, v or "—"))


@dataclass
class ReasonShare:
    source: str
    reason: str
    count: int
    share: float  # of this source's rejections, in percent


def rejection_reasons_by_source(qs, start, end) -> list[ReasonShare]:
    labels = dict(Source.choices)
    rows = list(
        _window(qs, start, end)
        .filter(status=HandoffStatus.REJECTED)
        .values("source", "reason__name")
        .annotate(n=Count("id"))
        .order_by("source", "-n", "reason__name")
    )
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["source"]] = totals.get(r["source"], 0) + r["n"]
    return [
        ReasonShare(labels.get(r["source"], r["source"]), r["reason__name"], r["n"], round(100 * r["n"] / totals[r["source"]], 1))
        for r in rows
    ]
