"""The API's filter backend: `filterset_fields` as django-filter builds them, except that a related
object is filtered by its id alone.

django-filter turns a foreign key in `filterset_fields` into a ModelChoiceFilter over every row of
the related table: another team's lead id was accepted (200, an empty list) while an id that does
not exist was a 400, so any signed-in user could tell which ids exist in other teams. Here every
relation is an IdFilter instead, like `/api/leads/?owner=` (qualify/leads/filters.py): any whole
number is a valid value, and since each list is already scoped to what the caller may see (its
get_queryset), another team's id and a missing one both answer 200 with nothing in it.
"""

from __future__ import annotations

from django import forms
from django.db import models
from django_filters import rest_framework as filters

from qualify.ids import MAX_ID


class IdFilter(filters.Filter):
    """A related object's id, checked as a whole number only (never against the related table);
    beyond bigint's largest (MAX_ID) a 400, whoever asks and whatever exists."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -MAX_ID)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


_RELATIONS = (
    models.ForeignKey, models.OneToOneField, models.ManyToManyField,
    models.OneToOneRel, models.ManyToOneRel, models.ManyToManyRel,
)


class IdFilterSet(filters.FilterSet):
    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        # A to-many relation can match a row several times: keep django-filter's DISTINCT there.
        **{relation: {"filter_class": IdFilter, "extra": lambda f: {"distinct": f.many_to_many or f.one_to_many}}
           for relation in _RELATIONS},
    }


class FilterBackend(filters.DjangoFilterBackend):
    """DjangoFilterBackend building `filterset_fields` on IdFilterSet (settings.REST_FRAMEWORK)."""

    filterset_base = IdFilterSet
