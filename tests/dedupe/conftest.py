"""Helpers for the duplicates tests: two leads with a full history each, and a row counter over
every table that points at a lead."""

from __future__ import annotations

import datetime

import pytest
from django.apps import apps
from django.db.models import ForeignKey, Q
from django.utils import timezone

from qualify.handoff.workflow import hand_off
from qualify.leads.assignment import assign
from qualify.leads.models import Lead, Stage
from qualify.leads.touches import log_touch
from qualify.reviews.models import FollowUpTask, TaskKind
from qualify.scoring.models import ScoreSnapshot, SnapshotKind
from tests.factories import EventFactory, LeadFactory
from tests.handoff.conftest import qualify_fully


def lead_tables() -> list[tuple[type, str]]:
    """(model, column) of every foreign key to Lead in the project, pghistory's own event tables aside."""
    found = []
    for model in apps.get_models():
        if model._meta.app_label == "pghistory" or model.__name__.endswith("Event") and model is not apps.get_model("leads", "Event"):
            continue
        for field in model._meta.get_fields():
            if isinstance(field, ForeignKey) and field.related_model is Lead and field.db_constraint:
                found.append((model, field.attname))
        pk = model._meta.pk
        if getattr(pk, "related_model", None) is Lead:
            found.append((model, pk.attname))
    return sorted(set(found), key=lambda mc: (mc[0]._meta.label, mc[1]))


def counts(ids) -> dict[str, int]:
    """Rows per table (and column) that belong to any of the lead ids."""
    return {f"{m._meta.label}.{col}": m.objects.filter(Q(**{f"{col}__in": list(ids)})).count() for m, col in lead_tables()}


def rich_lead(team, *, owner, ae, first_name, email, events=3, hand=True, **kw) -> Lead:
    """A worked lead with events, touches, answers, a handoff (and its SLA clock), an assignment
    record, a follow-up task and score snapshots."""
    lead = LeadFactory(team=team, owner=None, stage=Stage.WORKING, first_name=first_name, last_name="Doe", email=email, **kw)
    assign(lead, owner=owner, by=owner, why="test")
    for i in range(events):
        EventFactory(lead=lead, type="page_view", properties={"page_category": "pricing"},
                     occurred_at=timezone.now() - datetime.timedelta(hours=i + 1))
    log_touch(lead, by=owner, kind="call", outcome="connected", note=f"Spoke to {first_name}")
    qualify_fully(lead, owner)
    if hand:
        hand_off(lead, to=ae, by=owner, next_step="Demo on Friday 10:00")
    FollowUpTask.objects.create(lead=lead, assignee=owner, kind=list(TaskKind)[0], title="Check budget",
                                due_on=timezone.localdate(), created_by=owner)
    ScoreSnapshot.objects.create(lead=lead, kind=SnapshotKind.DAILY, score=40, on=timezone.localdate() - datetime.timedelta(days=2))
    ScoreSnapshot.objects.create(lead=lead, kind=SnapshotKind.DAILY, score=41, on=timezone.localdate())
    return lead


@pytest.fixture
def erin_is_default_ae(north, erin, shipped_rows):
    north.default_ae = erin
    north.save()
    return erin


@pytest.fixture
def shipped_rows(db):
    """The default frameworks, SLA policies and scoring model (data migrations) that rich_lead's
    verbs read: an earlier transactional test's flush may have removed them."""
    import importlib

    from django.apps import apps as live

    from qualify.frameworks.models import Framework
    from qualify.sla.models import SlaPolicy

    if not Framework.objects.exists():
        importlib.import_module("qualify.frameworks.migrations.0002_default_frameworks").create(live, None)
    if not SlaPolicy.objects.exists():
        importlib.import_module("qualify.sla.migrations.0002_defaults_and_sweep").create(live, None)
    from qualify.scoring.scores import _spec_cache
    from tests.scoring.conftest import ensure_default_model

    ensure_default_model()
    _spec_cache.clear()
