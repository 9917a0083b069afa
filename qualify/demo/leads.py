"""Leads: who each person is, which stage they reached and the allowed path that led there (with
reasons and notes), when each step happened (working hours of the team), and a first rough score."""

from __future__ import annotations

import datetime
import math
import re

from accounts.models import User
from qualify.dedupe.rules import phone_key
from qualify.demo.base import (
    GeneratorState, Plan, Step, business_days_after, fold_ascii, log_uniform, note_date, person_name, pick,
)
from qualify.demo.tables import (
    CLOSE_EARLY,
    COMPETITORS,
    COUNTRIES,
    EVENT_CAMPAIGNS,
    GENERIC_NOTES,
    ICP_INDUSTRIES,
    INBOUND_CAMPAIGNS,
    LOSS_NOTES,
    NA,
    NEXT_STEPS,
    PAINS,
    PARTNERS,
    PERSONAL_DOMAINS,
    REASON_NOTES,
    SENIORITY_ORDER,
    SENIORITY_WEIGHTS,
    SOURCES,
    STAGE_WEIGHTS,
    STUDENT_STAGE_WEIGHTS,
    TAIL_DAYS,
    TEAM_TZ,
    TITLES,
    TZ_LABEL,
    UNASSIGNED_SHARE,
)
from qualify.leads.history import Handover
from qualify.leads.models import (
    Account,
    DisqualifyReason,
    EventType,
    Lead,
    Persona,
    ReasonAction,
    Segment,
    Seniority,
    Source,
    Stage,
)


class LeadsMixin(GeneratorState):
    def load_reasons(self) -> None:
        self.reasons: dict[str, list[DisqualifyReason]] = {}
        for action in ReasonAction.values:
            found = list(DisqualifyReason.objects.filter(action=action, active=True).order_by("position", "name"))
            if not found:  # the data migration ships them; an admin may have retired all of one kind
                found = [DisqualifyReason.objects.get_or_create(
                    name=f"Demo: {ReasonAction(action).label}", defaults=dict(action=action, note_required=False),
                )[0]]
            self.reasons[action] = found

    def reason(self, action: str, prefer: tuple[str, ...] = ()) -> DisqualifyReason:
        options = self.reasons[action]
        preferred = [r for r in options if r.name in prefer]
        if preferred and self.rng.random() < 0.8:
            return self.rng.choice(preferred)
        return self.rng.choice(options)

    def note(self, reason: DisqualifyReason) -> str:
        notes = REASON_NOTES.get(reason.name) or GENERIC_NOTES[reason.action]
        note = self.rng.choice(notes)
        if len(note) < reason.min_note_length:
            note = f"{note} (see activity timeline for details)"
        return note

    # --- accounts ----------------------------------------------------------------------------

    def plan_leads(self, accounts: list[Account]) -> list[Plan]:
        rng = self.rng
        # Every account gets a lead when there are enough; bigger companies get more of the rest.
        targets = list(accounts[: self.n_leads])
        weights = [(a.employee_count or 10) ** 0.35 for a in accounts]
        targets += rng.choices(accounts, weights=weights, k=self.n_leads - len(targets))
        rng.shuffle(targets)
        emails: set[str] = set()
        plans = [self.plan_lead(account, emails) for account in targets]
        self.say("  planned leads, histories, touches and events")
        return plans

    def plan_lead(self, account: Account, emails: set[str]) -> Plan:
        rng = self.rng
        team_name = account.team.name
        locale = COUNTRIES[account.country][3]
        fake = self.fakers[locale if rng.random() < 0.85 else rng.choice(("en_US", "en_GB"))]
        first, last = person_name(fake)
        source = pick(rng, SOURCES)
        seniority = SENIORITY_ORDER[rng.choices(range(6), weights=SENIORITY_WEIGHTS[source])[0]]
        title, department, personas = rng.choice(TITLES[seniority])
        persona = pick(rng, personas) if rng.random() > 0.05 else Persona.UNKNOWN
        student = seniority == Seniority.STUDENT

        email = self.email(first, last, account.domain, personal=student or rng.random() < 0.02, taken=emails)
        campaign = partner_name = partner_contact = ""
        if source == Source.INBOUND:
            campaign = rng.choice(INBOUND_CAMPAIGNS)
        elif source == Source.EVENT:
            campaign = rng.choice(EVENT_CAMPAIGNS[team_name])
            if not campaign.startswith("Webinar"):
                campaign = f"{campaign} {self.year}"
        elif source == Source.PARTNER:
            partner_name, partner_domain = rng.choice(PARTNERS)
            contact = self.fakers["en_US" if team_name == NA else "en_GB"]
            pfirst, plast = person_name(contact)
            handle = ".".join(re.sub(r"[^a-z]", "", fold_ascii(part)) for part in (pfirst, plast))
            partner_contact = f"{pfirst} {plast} <{handle}@{partner_domain}>"

        stage = pick(rng, list((STUDENT_STAGE_WEIGHTS if student else STAGE_WEIGHTS).items()))
        sdr = rng.choice(self.sdrs[team_name])
        ae = account.owner or (self.default_ae[team_name] if rng.random() < 0.6 else rng.choice(self.aes[team_name]))
        steps, mql_trigger = self.path(stage, source, student, first)
        to_stages = [s.to for s in steps]
        accepted = Stage.ACCEPTED in to_stages
        system_only = all(s.actor == "system" for s in steps)
        unassigned = system_only and (stage in (Stage.NEW, Stage.MQL) and rng.random() < UNASSIGNED_SHARE
                                      or stage == Stage.DISQUALIFIED)
        lead = Lead(
            first_name=first, last_name=last, email=email,
            phone=self.phone(fake) if rng.random() < 0.7 and not student else "",
            title=title, seniority=seniority, department=department, persona=persona, source=source,
            campaign=campaign, partner_name=partner_name, partner_contact=partner_contact,
            account=account, team=account.team, stage=stage,
            owner=None if unassigned else ae if accepted else sdr,
            # A rejected handoff clears the AE (workflow.reject); an accepted one makes them the owner.
            ae=ae if accepted or stage == Stage.HANDED_OFF else None,
        )
        plan = Plan(lead=lead, steps=steps, sdr=None if unassigned else sdr, ae=ae, mql_trigger=mql_trigger)
        self.schedule(plan)
        last = steps[-1]
        lead.created_at, lead.stage_changed_at = steps[0].at, last.at
        tz = TEAM_TZ.get(team_name, datetime.UTC)
        for step in steps:  # the next step's date, now that the handoff has a time
            if step.to == Stage.HANDED_OFF:
                meeting = business_days_after(step.at.astimezone(tz).date(), step.meet_in)
                step.why = step.why.format(date=note_date(meeting), tz=TZ_LABEL[team_name])
        if stage == Stage.NURTURE:
            recycle = last.at.date() + datetime.timedelta(days=last.reason.recycle_days or 60)
            if recycle <= self.today:  # it would have been recycled already; the rep pushed the date out
                recycle = self.today + datetime.timedelta(days=self.time_rng.randint(3, 45))
            lead.recycle_on = recycle
        for step in steps:  # the reason field follows the same rules as lifecycle.move_stage
            if step.to in (Stage.NURTURE, Stage.DISQUALIFIED) or step.reason is not None:
                lead.disqualify_reason = step.reason
            elif step.to in (Stage.NEW, Stage.MQL, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON):
                lead.disqualify_reason = None
        self.plan_touches(plan)
        self.plan_events(plan)
        lead.last_touch_at = max((t.occurred_at for t in plan.touches), default=None)
        lead.score = self.score(plan)
        return plan

    def email(self, first: str, last: str, domain: str, *, personal: bool, taken: set[str]) -> str:
        rng = self.rng
        f, l = re.sub(r"[^a-z]", "", fold_ascii(first)) or "info", re.sub(r"[^a-z]", "", fold_ascii(last)) or "contact"
        if personal:
            local = rng.choice((f"{f}.{l}", f"{f}{l}{rng.randint(1, 99)}", f"{f[0]}{l}{rng.randint(80, 99)}"))
            domain = rng.choice(PERSONAL_DOMAINS)
        else:
            local = rng.choice((f"{f}.{l}", f"{f}.{l}", f"{f[0]}{l}", f"{f}"))
        email, n = f"{local}@{domain}", 2
        while email in taken:
            email, n = f"{local}{n}@{domain}", n + 1
        taken.add(email)
        return email

    def phone(self, fake) -> str:
        """A phone number no other seeded lead has (by the duplicate rule's key, its last 9 digits):
        Faker's fictional UK numbers vary in 3 digits only, and a shared number made strangers look
        like one person on /duplicates/. Another draw, a few times, then none."""
        for _ in range(8):
            number = fake.phone_number()
            key = phone_key(number)
            if key and key not in self.phones:
                self.phones.add(key)
                return number
        return ""

    def path(self, stage: str, source: str, student: bool, first: str) -> tuple[list[Step], str]:
        """An allowed route from New to `stage`, with who moved it and why."""
        rng = self.rng
        origin = {Source.INBOUND: "web form", Source.OUTBOUND: "SDR prospecting", Source.PARTNER: "partner referral",
                  Source.PRODUCT_LED: "product sign-up", Source.EVENT: "event list import"}[source]
        steps = [Step(Stage.NEW, "system", f"Created from {origin}")]
        trigger = ""

        def to_mql() -> None:
            nonlocal trigger
            if source in (Source.INBOUND, Source.PRODUCT_LED, Source.EVENT) and rng.random() < 0.3:
                trigger = "demo_request"
                steps.append(Step(Stage.MQL, "system", "Hard trigger: demo request"))
            else:
                threshold = rng.choice((50, 60, 65))
                steps.append(Step(Stage.MQL, "system",
                                   f"Score {threshold + rng.randint(1, 25)} crossed the MQL threshold ({threshold})"))

        def to_working() -> None:
            if source != Source.OUTBOUND and rng.random() < 0.75:
                to_mql()
            steps.append(Step(Stage.WORKING, "sdr", "First touch"))  # completed by plan_touches
            detour = rng.random()
            if detour < 0.07:  # handed off too early; the AE sent it back
                steps.append(self.handoff_step(first))
                r = self.reason(ReasonAction.BACK_TO_SDR, ("Not enough discovery", "No authority"))
                steps.append(Step(Stage.WORKING, "ae", self.note(r), r))
            elif detour < 0.12:  # parked in nurture, then re-engaged
                r = self.reason(ReasonAction.NURTURE)
                steps.append(Step(Stage.NURTURE, "sdr", self.note(r), r))
                steps.append(Step(Stage.WORKING, "sdr", "Re-engaged: replied to a nurture email"))

        def to_handed_off() -> None:
            to_working()
            steps.append(self.handoff_step(first))

        def to_accepted() -> None:
            to_handed_off()
            steps.append(Step(Stage.ACCEPTED, "ae", rng.choice((
                "Accepted: budget and timeline confirmed on discovery.",
                "Accepted: champion confirmed, economic buyer identified.",
                "Accepted: clear pain and a compelling event this quarter.",
            ))))

        def to_opportunity() -> None:
            to_accepted()
            seats = rng.choice((10, 15, 25, 40, 60, 120))
            steps.append(Step(Stage.OPPORTUNITY, "ae",
                               f"Opportunity created: {seats} seats, next step {rng.choice(NEXT_STEPS)}."))

        if stage == Stage.NEW:
            pass
        elif stage == Stage.MQL:
            to_mql()
        elif stage == Stage.WORKING:
            to_working()
        elif stage == Stage.HANDED_OFF:
            to_handed_off()
        elif stage == Stage.ACCEPTED:
            to_accepted()
        elif stage == Stage.OPPORTUNITY:
            to_opportunity()
        elif stage == Stage.WON:
            to_opportunity()
            steps.append(Step(Stage.WON, "ae", rng.choice((
                "Closed won: annual contract signed.", "Closed won: two-year deal, starts next month.",
                "Closed won: signed after security review.",
            ))))
        elif stage == Stage.LOST:
            (to_opportunity if rng.random() < 0.75 else to_accepted)()
            steps.append(Step(Stage.LOST, "ae", rng.choice(LOSS_NOTES).format(competitor=rng.choice(COMPETITORS))))
        elif stage == Stage.NURTURE:
            base = Stage.NEW if student else pick(rng, ((Stage.NEW, 12), (Stage.MQL, 22), (Stage.WORKING, 44),
                                                         (Stage.HANDED_OFF, 12), (Stage.LOST, 10)))
            actor = "sdr"
            if base == Stage.MQL:
                to_mql()
                actor = "system" if rng.random() < 0.4 else "sdr"
            elif base == Stage.WORKING:
                to_working()
            elif base == Stage.HANDED_OFF:
                to_handed_off()
                actor = "ae"
            elif base == Stage.LOST:
                (to_opportunity if rng.random() < 0.6 else to_accepted)()
                steps.append(Step(Stage.LOST, "ae", rng.choice(LOSS_NOTES).format(competitor=rng.choice(COMPETITORS))))
                actor = "ae"
            r = self.reason(ReasonAction.NURTURE, ("Nurture — recycle later",) if actor == "system" else ())
            why = "Engagement decayed below the MQL threshold" if actor == "system" else self.note(r)
            steps.append(Step(Stage.NURTURE, actor, why, r))
        elif stage == Stage.DISQUALIFIED:
            base = Stage.NEW if student else pick(rng, ((Stage.NEW, 28), (Stage.MQL, 10), (Stage.WORKING, 37),
                                                         (Stage.HANDED_OFF, 12), (Stage.ACCEPTED, 5),
                                                         (Stage.OPPORTUNITY, 8)))
            actor, prefer = "sdr", ("No ICP fit", "Compliance blocker", "Bad data")
            if base == Stage.NEW:
                actor, prefer = ("system" if rng.random() < 0.5 else "sdr"), CLOSE_EARLY
            elif base == Stage.MQL:
                to_mql()
                prefer = CLOSE_EARLY
            elif base == Stage.WORKING:
                to_working()
            elif base == Stage.HANDED_OFF:
                to_handed_off()
                actor, prefer = "ae", ("No ICP fit", "Compliance blocker")
            elif base == Stage.ACCEPTED:
                to_accepted()
                actor, prefer = "ae", ("Compliance blocker", "No ICP fit")
            else:
                to_opportunity()
                actor, prefer = "ae", ("Compliance blocker",)
            if student:
                prefer = ("No ICP fit", "Bad data")
            r = self.reason(ReasonAction.CLOSE, prefer)
            steps.append(Step(Stage.DISQUALIFIED, actor, self.note(r), r))
        return steps, trigger

    def handoff_step(self, first: str) -> Step:
        """The SDR's hand-off: the next step (with a `{date}` and `{tz}` filled in once the handoff has
        a time; hand_off records it as the stage change's why) and a note for the AE."""
        rng = self.rng
        who = rng.choice(("VP of Sales", "RevOps lead", "CRO", "Head of Sales Ops", "CFO"))
        at = rng.choice(("9:30", "10:00", "11:00", "13:30", "14:00", "15:30", "16:00"))
        next_step = rng.choice((
            f"Discovery call with {first} and their {who}, {{date}} {at} {{tz}}",
            f"Demo for {first}'s team on {{date}} at {at} {{tz}}; {first} is bringing their {who}",
            f"Pricing call with {first} and finance, {{date}} {at} {{tz}}",
            f"Technical deep dive with their Salesforce admin, {{date}} {at} {{tz}}; {first} attends",
            f"Intro call: {first} + {who}, booked for {{date}} {at} {{tz}}",
        ))
        note = rng.choice((
            f"Pain: {rng.choice(PAINS)}. {first} wants it fixed this quarter.",
            f"{first} described {rng.choice(PAINS)} and pulled in their {who}.",
            f"Pain: {rng.choice(PAINS)}. Budget owner engaged; {rng.choice(NEXT_STEPS)} after the call.",
            "",
        ))
        return Step(Stage.HANDED_OFF, "sdr", next_step, note=note, meet_in=rng.randint(1, 6))

    # --- time --------------------------------------------------------------------------------

    def gap_days(self, before: str, after: str) -> float:
        """How long a lead typically sits in `before` before moving to `after` (days)."""
        rng, S = self.rng, Stage
        if after == S.MQL:
            return log_uniform(rng, 0.01, 3)
        if after == S.WORKING and before in (S.NEW, S.MQL):
            return log_uniform(rng, 0.01, 1.5)
        if after == S.WORKING:
            return log_uniform(rng, 0.1, 2) if before == S.HANDED_OFF else log_uniform(rng, 7, 40)
        if after == S.HANDED_OFF:
            return log_uniform(rng, 2, 21)
        if before == S.HANDED_OFF:
            return log_uniform(rng, 0.05, 2)
        if after == S.OPPORTUNITY:
            return log_uniform(rng, 1, 10)
        if after in (S.WON, S.LOST):
            return log_uniform(rng, 3, 20) if before == S.ACCEPTED else log_uniform(rng, 10, 60)
        if after == S.NURTURE:
            return log_uniform(rng, 1, 14) if before == S.LOST else log_uniform(rng, 3, 30)
        if after == S.DISQUALIFIED:
            return log_uniform(rng, 0.02, 5) if before == S.NEW else log_uniform(rng, 2, 25)
        return log_uniform(rng, 0.5, 10)  # pragma: no cover

    def schedule(self, plan: Plan) -> None:
        """Give each step a time: increasing, ending before now, starting within the window."""
        rng, steps = self.rng, plan.steps
        gaps = [self.gap_days(a.to, b.to) for a, b in zip(steps, steps[1:], strict=False)]
        tail = log_uniform(rng, *TAIL_DAYS[steps[-1].to])
        total = sum(gaps) + tail
        limit = self.days * 0.97
        if total > limit:
            scale = limit * rng.uniform(0.55, 1.0) / total
            gaps, tail, total = [g * scale for g in gaps], tail * scale, total * scale
        at = self.now - datetime.timedelta(days=total)
        steps[0].at = steps[0].raw = previous = at.replace(microsecond=0)
        tz = TEAM_TZ.get(plan.lead.team.name, datetime.UTC)
        for step, gap in zip(steps[1:], gaps, strict=True):
            at += datetime.timedelta(days=gap)
            step.raw = at
            when = self.working_time(at, tz, floor=previous) if step.actor != "system" else at
            # At least a second after the previous step, so the history has a strict order.
            step.at = previous = max(when.replace(microsecond=0), previous + datetime.timedelta(seconds=1))

    def working_time(self, when: datetime.datetime, tz: datetime.tzinfo, *, floor: datetime.datetime,
                     limit: datetime.datetime | None = None) -> datetime.datetime:
        """`when` moved into working hours: forward if that stays before `limit` (default now), else
        back to the previous working day if that stays after `floor`, else unchanged."""
        local = when.astimezone(tz)
        if local.weekday() < 5 and 8 <= local.hour < 18:
            return when
        offset = datetime.timedelta(minutes=self.time_rng.uniform(0, 9 * 60))
        day = local.date() if local.hour < 8 else local.date() + datetime.timedelta(days=1)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        moved = (datetime.datetime.combine(day, datetime.time(8), tzinfo=tz) + offset).astimezone(datetime.UTC)
        if moved <= (limit or self.now):
            return moved
        day = local.date() if local.hour >= 18 else local.date() - datetime.timedelta(days=1)
        while day.weekday() >= 5:
            day -= datetime.timedelta(days=1)
        moved = (datetime.datetime.combine(day, datetime.time(8), tzinfo=tz) + offset).astimezone(datetime.UTC)
        return moved if moved > floor else when

    def work_moment(self, start: datetime.datetime, end: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime:
        """A random moment strictly inside (start, end), in working hours when the span has any."""
        span = (end - start).total_seconds()
        when = start
        for _ in range(12):
            when = start + datetime.timedelta(seconds=self.time_rng.uniform(0.02, 0.98) * span)
            local = when.astimezone(tz)
            if local.weekday() < 5 and 8 <= local.hour < 18:
                return when
        return self.working_time(when, tz, floor=start, limit=end)

    def actor(self, plan: Plan, actor: str) -> User | None:
        return {"sdr": plan.sdr, "ae": plan.ae}.get(actor)

    @staticmethod
    def owner_trail(plan: Plan) -> list[Handover]:
        """Who owned the lead since when, as its stage path tells it: the SDR from the moment the
        lead was theirs (it became an MQL, or their first step, whichever came first; a New lead
        from its creation), then the AE from their acceptance. So the lead page's assignment history
        agrees with its stage history, and no demo lead was "assigned minutes ago" yet worked for days."""
        lead = plan.lead
        if lead.owner_id is None:
            return []
        steps = plan.steps
        since = next((s.at for s in steps if s.to == Stage.MQL or s.actor == "sdr"), steps[0].at)
        accepted = next((s.at for s in steps if s.to == Stage.ACCEPTED), None)
        if accepted is None or plan.sdr is None:
            return [(None, lead.owner_id, since)]
        return [(None, plan.sdr.pk, since), (plan.sdr.pk, lead.owner_id, accepted)]

    EVENT_POINTS = {
        EventType.PAGE_VIEW: 1, EventType.EMAIL_OPEN: 0.5, EventType.EMAIL_CLICK: 2, EventType.EMAIL_REPLY: 5,
        EventType.FORM_FILL: 8, EventType.WEBINAR_REGISTERED: 3, EventType.WEBINAR_ATTENDED: 6,
        EventType.DEMO_REQUEST: 20, EventType.PRODUCT_USAGE: 1.5, EventType.INTENT_SURGE: 5,
    }
    PAGE_POINTS = {"pricing": 5, "competitor_comparison": 3, "product": 2, "blog": 0.5, "careers": -3}

    def score(self, plan: Plan) -> int:
        """A plausible fit + decayed-engagement score; the scoring engine recomputes it later."""
        lead = plan.lead
        fit = {Seniority.C_LEVEL: 18, Seniority.VP: 20, Seniority.DIRECTOR: 17, Seniority.MANAGER: 12,
               Seniority.INDIVIDUAL: 6, Seniority.STUDENT: -40, Seniority.UNKNOWN: 0}[lead.seniority]
        fit += {Segment.ENTERPRISE: 12, Segment.MID_MARKET: 14, Segment.SMB: 6}.get(lead.account.segment, 0)
        fit += 6 if lead.account.industry in ICP_INDUSTRIES else 0
        engagement = 0.0
        for event in plan.events:
            points = self.EVENT_POINTS[event.type]
            if event.type == EventType.PAGE_VIEW:
                points = self.PAGE_POINTS[event.properties["page_category"]]
            age = (self.now - event.occurred_at).total_seconds() / 86400
            engagement += points * 0.5 ** (age / 21)  # three-week half-life
        engagement = 58 * (1 - math.exp(-max(engagement, 0) / 45))  # saturates: no lead is all engagement
        return max(0, min(100, round(fit + engagement)))

