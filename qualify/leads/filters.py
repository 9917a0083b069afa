"""Lead list filters, shared by the SDR queue page and the API so both filter identically."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from .models import Lead, Segment, Source, Stage


def search_leads(queryset, value: str):
    """Every word must match the name, email or company; cheap within one owner's queue."""
    for word in value.split()[:5]:
        queryset = queryset.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
            | Q(account__name__icontains=word)
        )
    return queryset


class LeadFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Stage.choices)
    source = django_filters.MultipleChoiceFilter(choices=Source.choices)
    segment = django_filters.MultipleChoiceFilter(field_name="account__segment", choices=Segment.choices)
    q = django_filters.CharFilter(method="filter_q", label="Search name, email or company")
    owner = django_filters.NumberFilter(field_name="owner_id")
    team = django_filters.NumberFilter(field_name="team_id")
    account = django_filters.NumberFilter(field_name="account_id")
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
    external_id = django_filters.CharFilter(field_name="external_id")

    class Meta:
        model = Lead
        fields = ["stage", "source", "segment", "q", "owner", "team", "account", "email", "external_id"]

    def filter_q(self, queryset, name, value):
        return search_leads(queryset, value)
