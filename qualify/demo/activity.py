"""Activity on each lead: the SDRs' and AEs' touches while they worked it, and the behavioural
events (page views, e-mails, webinars, product usage) that drove its score."""

from __future__ import annotations

import datetime
from typing import Any

from accounts.models import User
from qualify.demo.base import GeneratorState, Plan, pick
from qualify.demo.tables import (
    EMAIL_CAMPAIGNS,
    EVENTS_PER_STAGE,
    INBOUND_CAMPAIGNS,
    NEXT_STEPS,
    OUTBOUND_SEQUENCES,
    PAINS,
    TEAM_TZ,
)
from qualify.leads.models import Event, EventType, Lead, Seniority, Source, Stage, Touch, TouchKind, TouchOutcome


class ActivityMixin(GeneratorState):
    def plan_touches(self, plan: Plan) -> None:
        """SDR touches while Working (the first one is what moved it to Working), AE touches after acceptance."""
        rng, steps = self.rng, plan.steps
        tz = TEAM_TZ.get(plan.lead.team.name, datetime.UTC)
        for i, step in enumerate(steps):
            end = steps[i + 1].at if i + 1 < len(steps) else self.now
            raw_end = steps[i + 1].raw if i + 1 < len(steps) else self.now
            nxt = steps[i + 1].to if i + 1 < len(steps) else ""
            if step.to == Stage.WORKING and plan.sdr is not None:
                first_touch = steps[i - 1].to in (Stage.NEW, Stage.MQL)
                span = (raw_end - step.raw).total_seconds()  # unshifted times: same count whatever "now" is
                n = rng.randint(1, max(1, min(8, int(span / 86400 / 2.5) + 1)))
                times = sorted(self.work_moment(step.at, end, tz) for _ in range(n))
                if first_touch:
                    kind, outcome = self.sdr_touch()
                    step.why = f"First touch: {TouchKind(kind).label}: {TouchOutcome(outcome).label}"
                    self.touch(plan, plan.sdr, step.at, kind, outcome)
                for j, when in enumerate(times):
                    kind, outcome = self.sdr_touch()
                    if j == len(times) - 1 and nxt == Stage.HANDED_OFF:
                        kind, outcome = rng.choice((TouchKind.CALL, TouchKind.EMAIL)), TouchOutcome.MEETING_BOOKED
                    elif j == len(times) - 1 and nxt in (Stage.NURTURE, Stage.DISQUALIFIED) and rng.random() < 0.5:
                        kind, outcome = TouchKind.CALL, TouchOutcome.NOT_INTERESTED
                    self.touch(plan, plan.sdr, when, kind, outcome)
            elif step.to in (Stage.ACCEPTED, Stage.OPPORTUNITY) and plan.ae is not None:
                span = (raw_end - step.raw).total_seconds()
                n = rng.randint(1, max(1, min(6, int(span / 86400 / 6) + 1)))
                for when in sorted(self.work_moment(step.at, end, tz) for _ in range(n)):
                    kind = pick(rng, ((TouchKind.MEETING, 5), (TouchKind.EMAIL, 3), (TouchKind.CALL, 2)))
                    outcome = {TouchKind.MEETING: TouchOutcome.CONNECTED, TouchKind.CALL: TouchOutcome.CONNECTED}.get(
                        kind, rng.choice((TouchOutcome.SENT, TouchOutcome.REPLIED)))
                    self.touch(plan, plan.ae, when, kind, outcome, ae=True)

        plan.touches.sort(key=lambda t: t.occurred_at)

    def sdr_touch(self) -> tuple[str, str]:
        rng = self.rng
        kind = pick(rng, ((TouchKind.CALL, 45), (TouchKind.EMAIL, 35), (TouchKind.LINKEDIN, 15), (TouchKind.OTHER, 2)))
        if kind == TouchKind.CALL:
            outcome = pick(rng, ((TouchOutcome.NO_ANSWER, 34), (TouchOutcome.VOICEMAIL, 28),
                                  (TouchOutcome.CONNECTED, 28),
                                  (TouchOutcome.WRONG_CONTACT, 4), (TouchOutcome.NOT_INTERESTED, 6)))
        elif kind == TouchKind.OTHER:
            outcome = TouchOutcome.CONNECTED
        else:
            outcome = pick(rng, ((TouchOutcome.SENT, 72), (TouchOutcome.REPLIED, 28)))
        return kind, outcome

    def touch(self, plan: Plan, author: User, when: datetime.datetime, kind: str, outcome: str,
              ae: bool = False) -> None:
        when = min(when, self.now)
        plan.touches.append(Touch(lead=plan.lead, author=author, kind=kind, outcome=outcome,
                                  note=self.touch_note(plan.lead, kind, outcome, ae), occurred_at=when))

    def touch_note(self, lead: Lead, kind: str, outcome: str, ae: bool) -> str:
        rng, first = self.rng, lead.first_name
        if ae:
            if kind == TouchKind.MEETING:
                return rng.choice((
                    f"Discovery with {first}: {rng.choice(PAINS)}; decision by end of quarter.",
                    f"Demo for {first} and two SDR managers; asked about Salesforce sync.",
                    f"Pricing walkthrough with {first} and finance; they want annual terms.",
                    f"Security review kickoff with {first}'s IT team.",
                    f"Mutual action plan agreed with {first}; {rng.choice(NEXT_STEPS)}.",
                ))
            if kind == TouchKind.CALL:
                return rng.choice((f"Checked in with {first} on procurement timeline.",
                                   f"Call with {first}: legal redlines next week."))
            if outcome == TouchOutcome.REPLIED:
                return rng.choice((f"{first} replied with the security questionnaire.",
                                   f"{first} replied: legal is reviewing the MSA.",
                                   f"{first} replied: needs a reference customer in {lead.account.industry.lower()}."))
            return rng.choice(("Sent proposal and order form.", "Sent recap and mutual action plan.",
                               "Sent ROI model for their CFO."))
        notes = {
            TouchOutcome.CONNECTED: (
                f"Spoke with {first} for 15 min: {rng.choice(PAINS)}.",
                f"Connected; {first} is evaluating options this quarter.",
                f"{first} confirmed {rng.randint(4, 30)} SDRs and a {rng.choice(('Salesforce', 'HubSpot'))} stack.",
            ),
            TouchOutcome.VOICEMAIL: (
                "Left voicemail referencing their pricing page visits.", "Left VM; follow-up email queued.", "",
            ),
            TouchOutcome.NO_ANSWER: ("No answer; retry tomorrow morning.", "", "Straight to switchboard, no answer."),
            TouchOutcome.SENT: (
                "Sent customer story: 60% faster speed to lead.", "Follow-up #2 in sequence.",
                "Shared the SLA benchmark report.", "",
            ),
            TouchOutcome.REPLIED: (
                f"{first} replied: interested, asked for pricing.",
                f"{first} replied: looping in their RevOps lead.",
                f"{first} replied: not before next month, asked to reconnect.",
            ),
            TouchOutcome.MEETING_BOOKED: (
                f"Discovery call booked with {first} and their {rng.choice(('VP of Sales', 'RevOps lead', 'CRO'))}.",
                f"Meeting booked: demo for {first}'s team.",
            ),
            TouchOutcome.NOT_INTERESTED: (
                "Not a priority this year; happy with the current process.", f"{first} asked not to be contacted again.",
            ),
            TouchOutcome.WRONG_CONTACT: (
                "Not the right person; pointed us to the Head of Sales Ops.", "Left the company; new contact found.",
            ),
        }
        return rng.choice(notes[outcome])

    # --- events ------------------------------------------------------------------------------

    def plan_events(self, plan: Plan) -> None:
        rng, lead, steps = self.rng, plan.lead, plan.steps
        stage = lead.stage
        student = lead.seniority == Seniority.STUDENT
        n = round(EVENTS_PER_STAGE[stage] * rng.uniform(0.5, 1.5) * (0.4 if student else 1.0))
        lo = max(self.window_start, lead.created_at - datetime.timedelta(days=14))
        closed = stage in (Stage.WON, Stage.LOST, Stage.DISQUALIFIED)
        hi = min(self.now, lead.stage_changed_at + datetime.timedelta(days=10)) if closed else self.now
        span = max((hi - lo).total_seconds(), 60)
        worked_from = next((s.at for s in steps if s.to == Stage.WORKING), None)
        deep = stage in (Stage.HANDED_OFF, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON, Stage.LOST)
        # Open leads: activity clusters in recent days ("why now"); nurtured ones have gone quiet.
        skew = 1.0 if closed else 1.6 if stage == Stage.NURTURE else 0.6

        def add(kind: str, when: datetime.datetime, props: dict[str, Any]) -> None:
            when = min(max(when, self.window_start), self.now).replace(microsecond=0)
            received = min(self.now, when + datetime.timedelta(seconds=rng.randint(1, 90)))
            plan.events.append(Event(lead=lead, type=kind, properties=props, occurred_at=when, received_at=received))

        # Anchors: what created the lead, and the demo request that made it an MQL.
        if lead.source == Source.INBOUND:
            add(EventType.FORM_FILL, lead.created_at,
                {"form": "ebook" if lead.campaign.startswith("Ebook") else "contact",
                                                       "campaign": lead.campaign})
        elif lead.source == Source.EVENT and lead.campaign.startswith("Webinar"):
            add(EventType.WEBINAR_REGISTERED, lead.created_at - datetime.timedelta(days=rng.uniform(2, 10)),
                {"webinar": lead.campaign})
            add(EventType.WEBINAR_ATTENDED, lead.created_at, {"webinar": lead.campaign, "minutes": rng.randint(12, 55)})
        elif lead.source == Source.PRODUCT_LED:
            add(EventType.PRODUCT_USAGE, lead.created_at, {"action": "signed_up", "plan": "free"})
        if plan.mql_trigger:
            mql_at = next(s.at for s in steps if s.to == Stage.MQL)
            add(EventType.DEMO_REQUEST, mql_at - datetime.timedelta(minutes=rng.randint(1, 20)),
                {"form": "demo", "page": "/demo"})

        types = [
            (EventType.PAGE_VIEW, 50), (EventType.EMAIL_OPEN, 22), (EventType.EMAIL_CLICK, 9),
            (EventType.FORM_FILL, 2), (EventType.WEBINAR_REGISTERED, 2), (EventType.WEBINAR_ATTENDED, 1),
            (EventType.INTENT_SURGE, 2 if not student else 0),
            (EventType.PRODUCT_USAGE, 22 if lead.source == Source.PRODUCT_LED else 1),
            (EventType.EMAIL_REPLY, 3 if worked_from else 0),
            (EventType.DEMO_REQUEST, 1 if deep else 0),
        ]
        if student:
            pages = (("careers", 45), ("blog", 45), ("product", 10))
        elif deep:
            pages = (("pricing", 24), ("product", 34), ("competitor_comparison", 14), ("blog", 25), ("careers", 3))
        else:
            pages = (("pricing", 12), ("product", 32), ("competitor_comparison", 8), ("blog", 40), ("careers", 8))
        for _ in range(n):
            kind = pick(rng, types)
            when = lo + datetime.timedelta(seconds=span * rng.random() ** skew)
            u = rng.random()
            if kind == EventType.EMAIL_REPLY and worked_from is not None and worked_from < hi:
                when = worked_from + (hi - worked_from) * u  # replies only once someone wrote to them
            props: dict[str, Any]
            if kind == EventType.PAGE_VIEW:
                category = pick(rng, pages)
                dwell = int(rng.lognormvariate(3.7 if category != "pricing" else 4.3, 0.9))
                props = {"page_category": category, "url": self.url(category),
                         "dwell_seconds": max(3, min(dwell, 1800))}
            elif kind in (EventType.EMAIL_OPEN, EventType.EMAIL_CLICK, EventType.EMAIL_REPLY):
                sequence = lead.source == Source.OUTBOUND and rng.random() < 0.6
                props = {"campaign": rng.choice(OUTBOUND_SEQUENCES if sequence else EMAIL_CAMPAIGNS)}
                if kind == EventType.EMAIL_CLICK:
                    props["url"] = self.url(rng.choice(("pricing", "product", "blog")))
            elif kind == EventType.FORM_FILL:
                props = {"form": rng.choice(("ebook", "ebook", "contact")), "campaign": rng.choice(INBOUND_CAMPAIGNS)}
            elif kind in (EventType.WEBINAR_REGISTERED, EventType.WEBINAR_ATTENDED):
                props = {"webinar": rng.choice(("Webinar: MEDDIC without the paperwork", "Webinar: Handoffs AEs accept",
                                                "Webinar: Scoring models that sales trusts"))}
            elif kind == EventType.DEMO_REQUEST:
                props = {"form": "demo", "page": "/demo"}
            elif kind == EventType.PRODUCT_USAGE:
                props = {"action": rng.choice(("created_scoring_rule", "imported_csv", "invited_teammate",
                                               "opened_queue",
                                               "configured_sla", "connected_crm")),
                         "active_users": rng.randint(1, 12)}
            else:  # intent surge
                props = {"topic": rng.choice(("lead scoring software", "sales engagement", "revenue operations",
                                              "lead routing")), "strength": rng.choice(("medium", "high"))}
            add(kind, when, props)

    def url(self, category: str) -> str:
        return self.rng.choice({
            "pricing": ("/pricing", "/pricing#enterprise"),
            "product": ("/product/scoring", "/product/handoffs", "/product/sla", "/product/routing"),
            "blog": ("/blog/what-is-an-mql", "/blog/bant-vs-meddic", "/blog/speed-to-lead",
                     "/blog/sdr-handoff-checklist"),
            "careers": ("/careers", "/careers/sdr"),
            "competitor_comparison": ("/compare/spreadsheets", "/compare/crm-add-ons"),
        }[category])

    # --- qualification answers ---------------------------------------------------------------
