"""Writing scores: the incremental path (new events → affected leads) and the bulk path (a batch of
lead ids → one SQL statement per model version), plus MQL promotion. Both write the same columns
with the same arithmetic (engine.py / sql.py), and tests hold them equal.

Locking protocol (what makes "a retried request never counts twice" and "no event is missed"):
  - ingestion takes FOR SHARE on the leads it adds events to, *before* inserting them, so event ids
    for a lead are allocated while no scorer holds that lead;
  - both scoring paths take FOR NO KEY UPDATE on the leads first (this waits for in-flight
    ingestions of those leads and blocks new ones), then read events, then write. Every event of a
    locked lead is therefore committed and visible, and any later event gets a higher id; so
    `score_watermark` (the highest event id counted) splits "counted" from "new" exactly.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from django.db import connection, transaction
from django.utils import timezone

from qualify.errors import DomainError
from qualify.leads import lifecycle
from qualify.leads.models import Event, Lead, Stage

from . import engine, sql
from .engine import Ev, ModelSpec
from .models import ModelVersion, ScoringModel
from .ranking import to_us

log = logging.getLogger(__name__)

# Stages from which crossing the threshold makes an MQL (lifecycle.ALLOWED has New→MQL, Nurture→MQL).
MQL_FROM = (Stage.NEW, Stage.NURTURE)


# --- which model scores a lead ----------------------------------------------------------------------


_spec_cache: dict[int, ModelSpec] = {}


def spec_for_version(version: ModelVersion) -> ModelSpec:
    """Versions are immutable, so their parsed specs are cached per process."""
    if version.pk not in _spec_cache:
        _spec_cache[version.pk] = version.as_spec()
    return _spec_cache[version.pk]


def live_specs() -> list[ModelSpec]:
    """The published version of every active model. Costs 1 query."""
    models = ScoringModel.objects.filter(active=True, current_version__isnull=False).select_related("current_version")
    return [spec_for_version(m.current_version) for m in models]


def version_spec(version_id: int) -> ModelSpec:
    if version_id not in _spec_cache:
        _spec_cache[version_id] = ModelVersion.objects.get(pk=version_id).as_spec()
    return _spec_cache[version_id]


# --- incremental ------------------------------------------------------------------------------------


@dataclass
class Result:
    lead_id: int
    value: float
    fired: set[int]
    spec: ModelSpec


def _ev(row: tuple) -> Ev:
    """(id, occurred_at or epoch µs, type, properties) → Ev; raw cursors hand jsonb over as text."""
    props = row[3]
    if isinstance(props, str):
        props = json.loads(props)
    t = row[1] if isinstance(row[1], int) else to_us(row[1])
    return Ev(row[0], t, row[2], props or {})


# Epoch microseconds computed by Postgres: exact, and no datetime parsing per row in Python.
T_US = "(extract(epoch FROM e.occurred_at) * 1000000)::bigint"


def score_leads(lead_ids: Iterable[int], *, now: datetime.datetime | None = None, promote: bool = True) -> list[Result]:
    """Bring the stored scores of `lead_ids` up to date with their new events, and promote the
    ones that became MQLs. Idempotent: a second call finds no new events and rewrites the same values.

    Reads only new events (id > watermark) and the events in the windows they fall in, never the
    whole history, except for a lead switching model version (first score, new version, new segment).
    Costs ~5 queries for any number of leads, plus 3 per MQL promotion.
    """
    ids = sorted(set(int(i) for i in lead_ids))
    if not ids:
        return []
    now = now or timezone.now()
    at_us = to_us(now)
    specs = live_specs()
    if not specs:
        return []
    results: list[Result] = []
    with transaction.atomic():
        leads = list(
            Lead.objects.select_for_update(no_key=True, of=("self",)).select_related("account").filter(pk__in=ids).order_by("pk")
        )
        plans: dict[int, ModelSpec] = {}
        rescan, delta = [], []
        for lead in leads:
            spec = engine.choose_model(specs, sql.lead_facts(lead))
            if spec is None:
                continue
            plans[lead.pk] = spec
            (delta if lead.score_version_id == spec.version_id else rescan).append(lead)

        updates: list[tuple] = []
        # Leads changing version: every event, once.
        if rescan:
            events: dict[int, list[Ev]] = defaultdict(list)
            for row in Event.objects.filter(lead_id__in=[l.pk for l in rescan]).values_list(
                "lead_id", "id", "occurred_at", "type", "properties"
            ):
                events[row[0]].append(_ev(row[1:]))
            for lead in rescan:
                spec = plans[lead.pk]
                s = engine.score(spec, sql.lead_facts(lead), events[lead.pk], at_us)
                wm = max((e.id for e in events[lead.pk]), default=0)
                updates.append((lead, spec, s.fit, s.engagement, wm))
                results.append(Result(lead.pk, s.value(), s.fired, spec))

        # Leads on the same version: the stored engagement, decayed, plus the change in the windows
        # the new events fall in (recomputed before/after from the raw events of just those windows).
        if delta:
            new: dict[int, list[Ev]] = defaultdict(list)
            with connection.cursor() as cur:
                cur.execute(
                    f"""SELECT e.lead_id, e.id, {T_US}, e.type, e.properties
                       FROM leads_lead l JOIN leads_event e ON e.lead_id = l.id AND e.id > l.score_watermark
                       WHERE l.id = ANY(%s)""",
                    [[l.pk for l in delta]],
                )
                for row in cur.fetchall():
                    new[row[0]].append(_ev(row[1:]))
            windows: dict[int, dict[tuple[int, int], None]] = {}
            since: dict[int, int] = {}
            for lead in delta:
                spec = plans[lead.pk]
                units = engine.window_parts(spec, new.get(lead.pk, []))
                windows[lead.pk] = dict.fromkeys(units)
                if units:
                    since[lead.pk] = min(b * spec.group(g).window_us for g, b in units)
            in_windows: dict[int, list[Ev]] = defaultdict(list)
            if since:
                with connection.cursor() as cur:
                    cur.execute(
                        f"""SELECT e.lead_id, e.id, {T_US}, e.type, e.properties
                           FROM unnest(%s::bigint[], %s::timestamptz[]) AS w(lead_id, since)
                           JOIN leads_event e ON e.lead_id = w.lead_id AND e.occurred_at >= w.since""",
                        [list(since), [_from_us(v) for v in since.values()]],
                    )
                    for row in cur.fetchall():
                        in_windows[row[0]].append(_ev(row[1:]))
            for lead in delta:
                spec = plans[lead.pk]
                fit, _ = engine.fit_lines(spec, sql.lead_facts(lead))
                old_at = to_us(lead.score_engagement_at) if lead.score_engagement_at else at_us
                eng = engine.decayed(lead.score_engagement, old_at, at_us, spec.half_life_s)
                fired: set[int] = set()
                all_events = in_windows.get(lead.pk, [])
                before_events = [e for e in all_events if e.id <= lead.score_watermark]
                after_parts = engine.window_parts(spec, all_events)
                before_parts = engine.window_parts(spec, before_events)
                for gkey, b in windows[lead.pk]:
                    eng += engine.unit_value(spec, gkey, b, after_parts.get((gkey, b), {}), at_us)
                    eng -= engine.unit_value(spec, gkey, b, before_parts.get((gkey, b), {}), at_us)
                rules = {r.key: r for r in spec.engagement_rules()}
                for (gkey, b), parts in engine.window_parts(spec, new.get(lead.pk, [])).items():
                    window = spec.group(gkey).window_us
                    for key, part in parts.items():
                        if rules[key].hard_trigger and part.last_us > at_us - window:
                            fired.add(key)
                wm = max([lead.score_watermark, *(e.id for e in new.get(lead.pk, []))])
                updates.append((lead, spec, fit, eng, wm))
                value = engine.combine(spec.engagement_cap, spec.total_cap, fit, eng)
                results.append(Result(lead.pk, value, fired, spec))

        _write(updates, now)
        if promote:
            by_id = {lead.pk: lead for lead in leads}
            for r in results:
                lead = by_id[r.lead_id]
                if lead.stage in MQL_FROM and (r.value >= r.spec.mql_threshold or r.fired):
                    promote_to_mql(lead.pk, r.spec, now=now)
    return results


def _from_us(us: int) -> datetime.datetime:
    return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(microseconds=us)


def _write(updates: list[tuple], now: datetime.datetime) -> None:
    """One UPDATE … FROM unnest(arrays) for the whole batch."""
    if not updates:
        return
    cols: dict[str, list] = defaultdict(list)
    for lead, spec, fit, eng, wm in updates:
        value = engine.combine(spec.engagement_cap, spec.total_cap, fit, eng)
        cols["id"].append(lead.pk)
        cols["version"].append(spec.version_id)
        cols["fit"].append(fit)
        cols["eng"].append(eng)
        cols["hl"].append(spec.half_life_days)
        cols["ecap"].append(None if spec.engagement_cap is None else float(spec.engagement_cap))
        cols["cap"].append(None if spec.total_cap is None else float(spec.total_cap))
        cols["grade"].append(engine.grade(spec, fit))
        cols["wm"].append(wm)
        cols["score"].append(engine.display(value))
    with connection.cursor() as cur:
        cur.execute(
            """UPDATE leads_lead l SET score_version_id = v.version, score_fit = v.fit, score_engagement = v.eng,
                   score_engagement_at = %s, score_half_life_days = v.hl, score_engagement_cap = v.ecap,
                   score_cap = v.cap, fit_grade = v.grade, score_watermark = v.wm, score = v.score,
                   score_changes_at = scoring_next_change(v.fit, v.eng, %s, v.hl, v.ecap, v.cap, %s),
                   score_computed_at = %s
               FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::float8[], %s::float8[], %s::float8[],
                           %s::float8[], %s::text[], %s::bigint[], %s::int[])
                    AS v(id, version, fit, eng, hl, ecap, cap, grade, wm, score)
               WHERE l.id = v.id""",
            [now, now, now, now, cols["id"], cols["version"], cols["fit"], cols["eng"], cols["hl"], cols["ecap"], cols["cap"],
             cols["grade"], cols["wm"], cols["score"]],
        )


# --- bulk -------------------------------------------------------------------------------------------


def recompute_ids(ids: list[int], specs: list[ModelSpec], *, now: datetime.datetime | None = None,
                  promote: bool = True) -> tuple[int, int]:
    """Score `ids` set-based: lock them, assign each to its model, one UPDATE per version.
    Returns (leads written, MQLs made). Call inside a transaction."""
    if not ids or not specs:
        return 0, 0
    now = now or timezone.now()
    by_version = {s.version_id: s for s in specs}
    written = mqls = 0
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id FROM leads_lead WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE", [ids]
        )
        cur.execute(sql.assign_sql(specs), {"ids": ids})
        groups: dict[int, list[int]] = defaultdict(list)
        for lead_id, version_id in cur.fetchall():
            if version_id is not None:
                groups[version_id].append(lead_id)
        candidates = []
        for version_id, vids in groups.items():
            spec = by_version[version_id]
            cur.execute(sql.update_sql(spec), {"ids": vids, "at_us": to_us(now), "at": now})
            rows = cur.fetchall()
            written += len(rows)
            if promote:
                candidates += [
                    (lead_id, spec) for lead_id, value, fired, stage in rows
                    if stage in MQL_FROM and (value >= spec.mql_threshold or fired)
                ]
    for lead_id, spec in candidates:
        if promote_to_mql(lead_id, spec, now=now):
            mqls += 1
    return written, mqls


# --- MQL ------------------------------------------------------------------------------------------


def promote_to_mql(lead_id: int, spec: ModelSpec, *, now: datetime.datetime | None = None) -> bool:
    """Move a lead to MQL through the lifecycle, recording the rules that did it. Returns False
    (changing nothing) if the lifecycle refuses, e.g. someone moved the lead meanwhile."""
    from .explain import explain

    lead = Lead.objects.select_related("account", "score_version").get(pk=lead_id)
    if lead.stage not in MQL_FROM:
        return False
    ex = explain(lead, now=now)
    top = sorted((line for line in ex.lines if line.points > 0), key=lambda line: -line.points)[:6]
    fired = [line.label for line in ex.lines if line.hard_trigger and line.rule in ex.fired]
    if fired:
        head = f"Hard trigger: {', '.join(fired)}."
    else:
        head = f"Score {ex.total} reached the MQL threshold {spec.mql_threshold:g}."
    reasons = "; ".join(f"{line.label} {engine.display(line.points):+d}" for line in top)
    why = f"{head} {spec.label}: {reasons}" if reasons else f"{head} {spec.label}."
    try:
        lifecycle.move_stage(lead, to=Stage.MQL, by=None, why=why, expect=lead.stage)
    except DomainError as exc:
        log.info("Lead %s not promoted to MQL: %s", lead_id, exc.message)
        return False
    return True
