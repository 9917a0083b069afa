"""Lead list filters, shared by the SDR queue page and the API so both filter identically."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from qualify.api.filters import IdFilter
from qualify.errors import DomainError

from . import properties
from .models import Account, Lead, Segment, Source, Stage
from .panels import queue_filter


def search_leads(queryset, value: str):
    """Every word must match the name, e-mail, title or company; cheap within one owner's queue.

    The company test is `account_id IN (accounts whose name matches)`, not a join condition: the
    matching accounts are found once (a hashed subplan), so Postgres can keep walking the queue
    index in order and stop after one page, instead of hash-joining every account (bench/queue.py
    at 1M leads, an SDR's `stage=mql&q=robotics` page: 73 ms of SQL before, about 35 ms after on a
    busy 2-core machine, most of it matching the 50,000 account names; migration leads.0017 adds a
    trigram index for those where the server has pg_trgm)."""
    for word in value.split()[:5]:
        queryset = queryset.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(title__icontains=word)
            | Q(account_id__in=Account.objects.filter(name__icontains=word).values("pk"))
        )
    return queryset


class LeadFilter(django_filters.FilterSet):
    # distinct=False: none of these can duplicate a lead (own columns, a forward FK), and the
    # SELECT DISTINCT django-filter adds by default makes Postgres read and sort every match
    # before LIMIT instead of walking the queue index for one page.
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices, distinct=False)
    source = django_filters.MultipleChoiceFilter(choices=Source.choices, distinct=False)
    segment = django_filters.MultipleChoiceFilter(field_name="account__segment", choices=Segment.choices, distinct=False)
    q = django_filters.CharFilter(method="filter_q", label="Search name, e-mail, title or company")
    # Whole numbers only: a NumberFilter took "1e1000000", which Django made a million-digit int.
    owner = IdFilter(field_name="owner_id")
    team = IdFilter(field_name="team_id")
    account = IdFilter(field_name="account_id")
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
    external_id = django_filters.CharFilter(field_name="external_id")
    sla = django_filters.ChoiceFilter(
        choices=[("breached", "SLA breached"), ("at_risk", "SLA at risk")], method="filter_sla", label="SLA"
    )

    class Meta:
        model = Lead
        fields = ["stage", "source", "segment", "q", "owner", "team", "account", "email", "external_id", "sla"]

    def is_valid(self) -> bool:
        """The declared filters, then the custom property ones (`prop.<key>=...`, see
        properties.lead_filter); a bad property filter is a form error like any other."""
        valid = super().is_valid()
        try:
            self._properties_q = properties.lead_filter(self.data or {})
        except DomainError as e:
            self._properties_q = Q(pk__in=[])
            self.form.add_error(None, e.message)
            return False
        return valid

    def filter_queryset(self, queryset):
        if not hasattr(self, "_properties_q") and not self.is_valid():
            return queryset.none()  # never the unfiltered list for a refused property filter
        queryset = super().filter_queryset(queryset)
        return queryset.filter(self._properties_q) if self._properties_q is not None else queryset

    def filter_q(self, queryset, name, value):
        return search_leads(queryset, value)

    # The teams the whole filtered list lies within, when scoped_leads knows them (a pool, a
    # manager's team): a filter answered from another concept's table narrows that table first.
    teams: set[int] | None = None
    # True when the list is the user's own leads ("mine"): see panels.QUEUE_FILTERS.
    own: bool = False

    def filter_sla(self, queryset, name, value):
        return queue_filter("sla", queryset, value, teams=self.teams, own=self.own)
