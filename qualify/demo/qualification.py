"""Qualification: the frameworks in use, the answers SDRs (and AEs who reject or close) wrote,
and the handoffs with the packet `build_packet` froze at each one."""

from __future__ import annotations

import datetime
from typing import Any

from accounts.models import User
from qualify.demo.base import GeneratorState, Plan, business_days_after, note_date, person_name
from qualify.demo.tables import (
    BATCH,
    C,
    COMPELLING_EVENTS,
    CONVERSATIONS,
    COUNTRIES,
    EVIDENCE,
    FAMILY_OF_KEY,
    HEARD_ON,
    MIN_READY,
    N,
    P,
    PAINS,
    READY_SHARE,
    REASON_FAMILY,
    TEAM_TZ,
    U,
)
from qualify.frameworks.completeness import completeness
from qualify.frameworks.models import Answer, AnswerType, CLAIM_STATUSES, Criterion, Framework
from qualify.frameworks.selection import active_frameworks, choose_framework
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.packet import build_packet
from qualify.leads.models import DisqualifyReason, Event, Lead, Persona, ReasonAction, Segment, Seniority, Stage, Touch


class AsOf:
    """A lead as build_packet saw it at the moment it was handed off: its events and touches up to
    then. The seeded history already holds what came later; the real hand_off runs at that moment."""

    def __init__(self, lead: Lead, when: datetime.datetime) -> None:
        self._lead = lead
        self.events = Event.objects.filter(lead=lead, occurred_at__lte=when)
        self.touches = Touch.objects.filter(lead=lead, occurred_at__lte=when)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lead, name)


class QualificationMixin(GeneratorState):
    def configure_frameworks(self) -> None:
        """Load the active frameworks and their criteria once. On an untouched install (only the
        default BANT active) MEDDIC is switched on for Enterprise accounts, so the demo shows a
        second framework at work; an admin's own set-up is left as it is."""
        if not Framework.objects.filter(active=True, is_default=False).exists():
            meddic = Framework.objects.filter(slug="meddic", active=False, segments=[], teams__isnull=True).first()
            if meddic is not None:
                meddic.active, meddic.segments = True, [Segment.ENTERPRISE]
                meddic.save(update_fields=["active", "segments"])
                self.say("  MEDDIC now applies to Enterprise accounts (BANT to the rest)")
        self.frameworks = active_frameworks()
        criteria = Criterion.objects.filter(framework__in=self.frameworks, active=True).order_by("position", "id")
        self.criteria: dict[int, list[Criterion]] = {f.pk: [] for f in self.frameworks}
        for criterion in criteria:
            self.criteria[criterion.framework_id].append(criterion)

    def framework(self, lead: Lead) -> Framework | None:
        return choose_framework(self.frameworks, team_id=lead.team_id, segment=lead.account.segment)

    def plan_answers(self, plans: list[Plan]) -> list[list[Answer]]:
        """Every worked lead's answers, in time order, one list per plan.

        Draws from its own random stream, after everything else is planned, and never as many times
        as a time dictates, so the same seed gives the same answers (and the same leads, touches and
        events as without them) whatever day it is.
        """
        rng = self.qual_rng
        working = [p for p in plans if p.lead.stage == Stage.WORKING and p.sdr is not None]
        ready: set[int] = set()
        for i, p in enumerate(working):
            if rng.random() < READY_SHARE and self.conversations(p, len(p.steps) - 1):
                ready.add(i)
        for sdr in {p.sdr.pk: p.sdr for p in working}.values():
            mine = [i for i, p in enumerate(working) if p.sdr == sdr]
            for i in [i for i in mine if i not in ready][: max(0, MIN_READY - sum(i in ready for i in mine))]:
                ready.add(i)
        ready_plans = {id(working[i]) for i in ready}
        return [self.answers_for(p, ready=id(p) in ready_plans) for p in plans]

    def conversations(self, plan: Plan, index: int) -> list[Touch]:
        """The SDR's touches that reached the person, while the lead was in the Working stage at `index`."""
        steps = plan.steps
        start, end = steps[index].at, steps[index + 1].at if index + 1 < len(steps) else self.now
        return [t for t in plan.touches
                if t.author == plan.sdr and t.outcome in CONVERSATIONS and start <= t.occurred_at <= end]

    def answers_for(self, plan: Plan, *, ready: bool) -> list[Answer]:
        """The SDR qualifies while Working: every required criterion before a handoff, part of them
        otherwise. Nurturing or disqualifying writes the answer the reason contradicts (No budget ->
        Budget negative); an AE who rejects or closes a lead writes it too, just before."""
        framework = self.framework(plan.lead)
        criteria = self.criteria.get(framework.pk, []) if framework else []
        if not criteria or plan.sdr is None:
            return []
        rng, steps = self.qual_rng, plan.steps
        context = self.evidence_context(plan)
        current: dict[int, Answer] = {}
        out: list[Answer] = []

        def write(criterion: Criterion, status: str, at: datetime.datetime, by: User, evidence: str) -> None:
            status_type = criterion.answer_type == AnswerType.STATUS
            value = "" if status_type else self.value_for(criterion)
            answer = Answer(lead=plan.lead, criterion=criterion, criterion_version=criterion.version,
                            question_text=criterion.question, status=status if status_type else "", value=value,
                            evidence=evidence.strip(), author=by, created_at=at.replace(microsecond=0))
            current[criterion.pk] = answer
            out.append(answer)

        for i, step in enumerate(steps):
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            if step.actor == "ae" and step.reason is not None:
                # The AE writes down what the rejection or close is about, minutes before it.
                criterion = self.criterion_for(step.reason, criteria)
                if criterion is not None and criterion.answer_type == AnswerType.STATUS:
                    gap = (step.at - steps[i - 1].at) / 2
                    at = step.at - min(datetime.timedelta(minutes=rng.randint(2, 25)), gap)
                    status = U if step.reason.action == ReasonAction.BACK_TO_SDR else N
                    write(criterion, status, at, plan.ae, step.why)
            if step.to != Stage.WORKING:
                continue
            complete = nxt is None and ready or nxt is not None and nxt.to == Stage.HANDED_OFF
            # Handed off too early: the criterion the AE will send it back for is only partly answered.
            weak = None
            if complete and nxt is not None and i + 2 < len(steps) and steps[i + 2].to == Stage.WORKING:
                weak = self.criterion_for(steps[i + 2].reason, criteria)
            redo = None  # back from the AE: the SDR answers what was missing
            if step.actor == "ae" and step.reason is not None:
                redo = self.criterion_for(step.reason, criteria) or rng.choice(criteria)
            talks = self.conversations(plan, i)
            todo = self.period_answers(criteria, current, talks=len(talks), complete=complete, weak=weak, redo=redo)
            end = nxt.at if nxt is not None else self.now
            for (criterion, status), (at, touch) in zip(todo, self.answer_times(plan, step.at, end, talks, len(todo)),
                                                        strict=True):
                family = self.family(criterion, context)
                templates = EVIDENCE[family].get(status) or EVIDENCE["other"][status]
                write(criterion, status, at, plan.sdr, self.evidence(rng.choice(templates), context, criterion, at,
                                                                     touch))
            if nxt is not None and nxt.to in (Stage.NURTURE, Stage.DISQUALIFIED) and nxt.actor == "sdr":
                criterion = self.criterion_for(nxt.reason, criteria)
                if criterion is not None and criterion.answer_type == AnswerType.STATUS:
                    last = out[-1].created_at if out else step.at
                    at = max(nxt.at - datetime.timedelta(minutes=rng.randint(2, 25)), last + (nxt.at - last) / 2)
                    write(criterion, N, at, plan.sdr, nxt.why)
        return out

    def period_answers(self, criteria: list[Criterion], current: dict[int, Answer], *, talks: int, complete: bool,
                       weak: Criterion | None, redo: Criterion | None) -> list[tuple[Criterion, str]]:
        """What the SDR answers in one stretch of Working, in order: (criterion, status).

        `complete`: every required criterion ends satisfied (confirmed, or partial with evidence),
        some after an earlier unknown or partial answer. Otherwise one required criterion stays
        open, so the lead is not ready to hand off yet.
        """
        rng = self.qual_rng
        required = [c for c in criteria if c.required_for_handoff]
        held = None
        early: list[tuple[Criterion, str]] = []
        final: list[tuple[Criterion, str]] = []
        if not complete and required:
            still_open = [c for c in required if c != redo and not self.satisfied(current.get(c.pk))]
            held = rng.choice(still_open or required)
            if not still_open and held.answer_type == AnswerType.STATUS:
                final.append((held, U))  # reopened: what was confirmed before needs asking again
        for c in criteria:
            done = self.satisfied(current.get(c.pk))
            roll, pick = rng.random(), rng.random()
            if c == redo:
                final.append((c, C))
            elif c == weak:
                final.append((c, P))
            elif done:
                continue
            elif complete and c.required_for_handoff:
                if c.pk not in current and roll < 0.3 and c.answer_type == AnswerType.STATUS:
                    early.append((c, U if pick < 0.5 else P))
                final.append((c, C if pick < 0.8 else P))
            elif roll < min(0.85, (0.3 if c.required_for_handoff else 0.1) + 0.2 * talks):
                status = U if c == held else C if pick < 0.55 else P if pick < 0.8 else U
                if status == U and c.answer_type != AnswerType.STATUS:
                    continue  # a value-type criterion has no "unknown": it is simply not answered
                final.append((c, status))
        return early + final

    def answer_times(self, plan: Plan, start: datetime.datetime, end: datetime.datetime, talks: list[Touch],
                     n: int) -> list[tuple[datetime.datetime, Touch | None]]:
        """`n` increasing moments in (start, end), each just after a conversation when there was one."""
        rng = self.qual_rng
        tz = TEAM_TZ.get(plan.lead.team.name, datetime.UTC)
        limit = min(end, self.now) - datetime.timedelta(seconds=1)
        moments = []
        for _ in range(n):
            if talks:
                touch = talks[rng.randrange(len(talks))]
                at = touch.occurred_at + datetime.timedelta(minutes=rng.uniform(2, 45))
                if at >= limit:
                    at = touch.occurred_at + (limit - touch.occurred_at) / 2
                moments.append((at, touch))
            else:
                moments.append((self.work_moment(start, limit, tz), None))
        return sorted(moments, key=lambda m: m[0])

    def evidence_context(self, plan: Plan) -> dict[str, Any]:
        """The facts a lead's answers keep repeating (one budget figure, one buyer), drawn once."""
        rng, lead = self.qual_rng, plan.lead
        segment = lead.account.segment
        low, high, step = {Segment.SMB: (10, 30, 5), Segment.MID_MARKET: (30, 90, 5)}.get(segment, (80, 300, 10))
        buyer = rng.choice({Segment.SMB: ("CEO", "COO"), Segment.MID_MARKET: ("CFO", "VP of Sales", "CRO")}.get(
            segment, ("CFO", "CRO", "SVP of Sales")))
        fake = self.fakers[COUNTRIES[lead.account.country][3]]
        buyer_name = " ".join(person_name(fake))
        is_buyer = lead.persona == Persona.ECONOMIC_BUYER and lead.seniority in (Seniority.C_LEVEL, Seniority.VP)
        if is_buyer:
            buyer, buyer_name = lead.title, lead.full_name
        return {
            "first": lead.first_name, "title": lead.title or "our contact", "pain": rng.choice(PAINS),
            "amount": rng.randrange(low, high + 1, step), "buyer": buyer, "buyer_name": buyer_name,
            "crm": rng.choice(("Salesforce", "HubSpot")), "hours": rng.randint(6, 40), "n": rng.randint(40, 400),
            "event": rng.choice(COMPELLING_EVENTS), "weeks": rng.randint(4, 16), "is_buyer": is_buyer,
            "tz": TEAM_TZ.get(lead.team.name, datetime.UTC),
        }

    def evidence(self, template: str, context: dict[str, Any], criterion: Criterion, at: datetime.datetime,
                 touch: Touch | None) -> str:
        day = at.astimezone(context["tz"]).date()
        src = f"{HEARD_ON[touch.kind]}, {note_date(day)}" if touch is not None else f"notes, {note_date(day)}"
        when = note_date(business_days_after(day, 5 * context["weeks"]))
        return template.format(**context, src=src, when=when, dimension=criterion.dimension.lower())

    def family(self, criterion: Criterion, context: dict[str, Any]) -> str:
        family = FAMILY_OF_KEY.get(criterion.key, "other")
        return "authority-self" if family == "authority" and context["is_buyer"] else family

    def criterion_for(self, reason: DisqualifyReason | None, criteria: list[Criterion]) -> Criterion | None:
        """The criterion a reason contradicts: same dimension name, else the same kind of question."""
        dimension = (reason.dimension if reason is not None else "").strip().lower()
        if not dimension:
            return None
        same = [c for c in criteria if c.dimension.lower() == dimension]
        kind = REASON_FAMILY.get(dimension)
        return (same or [c for c in criteria if kind and FAMILY_OF_KEY.get(c.key) == kind] or [None])[0]

    def value_for(self, criterion: Criterion) -> str:
        """An answer to a criterion that takes a value (admins' own criteria; the shipped ones take a status)."""
        rng = self.qual_rng
        if criterion.answer_type == AnswerType.CHOICE:
            return rng.choice(criterion.choices)
        if criterion.answer_type == AnswerType.NUMBER:
            return str(rng.randint(1, 100))
        return f"Discussed {criterion.dimension.lower()} in detail; see the call notes."

    @staticmethod
    def satisfied(answer: Answer | None) -> bool:
        if answer is None:
            return False
        if answer.criterion.answer_type == AnswerType.STATUS:
            return answer.status in CLAIM_STATUSES
        return bool(answer.value)

    # --- handoffs ----------------------------------------------------------------------------

    def write_answers_and_handoffs(self, plans: list[Plan], answers: list[list[Answer]]) -> tuple[int, int]:
        """Insert the answers and one Handoff per hand-off in each lead's history.

        Each packet is built with build_packet from completeness() as of its handoff, so answers go
        in in phases: those before every lead's first handoff, then the first handoffs' packets,
        then the answers up to the second handoff, and so on (a lead sent back and handed off again
        has two). Costs 4 queries per handoff (criteria, answers, events, touches) and a few
        bulk inserts.
        """
        phases: dict[int, list[Answer]] = {}
        due: dict[int, list[tuple[Plan, int]]] = {}
        for plan, mine in zip(plans, answers, strict=True):
            handed = [i for i, s in enumerate(plan.steps) if s.to == Stage.HANDED_OFF]
            for rank, i in enumerate(handed):
                due.setdefault(rank, []).append((plan, i))
            for answer in mine:
                phase = sum(plan.steps[i].at <= answer.created_at for i in handed)
                phases.setdefault(phase, []).append(answer)
        handoffs: list[Handoff] = []
        for phase in range(max([*phases, *due], default=-1) + 1):
            Answer.objects.bulk_create(phases.get(phase, []), batch_size=BATCH)
            handoffs += [self.handoff(plan, i) for plan, i in due.get(phase, [])]
        Handoff.objects.bulk_create(handoffs, batch_size=BATCH)
        n_answers = sum(len(a) for a in answers)
        pending = sum(h.status == HandoffStatus.PENDING for h in handoffs)
        self.say(f"  {n_answers} qualification answers")
        self.say(f"  {len(handoffs)} handoffs ({pending} waiting for an AE)")
        return n_answers, len(handoffs)

    def handoff(self, plan: Plan, i: int) -> Handoff:
        """The Handoff that hand_off wrote at step `i`, decided as the next step says."""
        lead, step = plan.lead, plan.steps[i]
        nxt = plan.steps[i + 1] if i + 1 < len(plan.steps) else None
        framework = self.framework(lead)
        progress = completeness(lead, framework=framework) if framework else completeness(lead)
        handoff = Handoff(
            lead=lead, team_id=lead.team_id, from_user=plan.sdr, to_user=plan.ae, created_at=step.at,
            next_step=step.why, note=step.note, packet=build_packet(AsOf(lead, step.at), progress),
            source=lead.source,
        )
        if nxt is not None:
            handoff.decided_at, handoff.decided_by, handoff.decision_note = nxt.at, plan.ae, nxt.why
            if nxt.to == Stage.ACCEPTED:
                handoff.status = HandoffStatus.ACCEPTED
            else:  # back to the SDR, to nurture or out: the reason the stage change carries
                handoff.status, handoff.reason = HandoffStatus.REJECTED, nxt.reason
        return handoff
