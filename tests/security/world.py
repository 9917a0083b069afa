"""A small world with one of everything on team North and its twin on team South, so the matrix can
build every URL with the id of a real object and ask each member of the cast for it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import Role, User
from accounts.tokens import issue_token
from qualify.frameworks.answers import record_answer
from qualify.frameworks.models import Criterion, Framework
from qualify.handoff.models import Handoff
from qualify.imports.jobs import create_job
from qualify.leads.models import DisqualifyReason, SavedView, Stage, StageChange
from qualify.pipeline.models import OpportunityStage, Requalification, TriggerKind
from qualify.reviews.models import FollowUpTask, Population, RedFlag, ReviewPlan, TaskKind
from qualify.reviews.sampling import build_queue
from qualify.routing.models import RoutingRule
from qualify.predictions.models import PredictionVersion, Status as PredictionStatus
from qualify.scoring.models import ModelVersion, ScoreRun
from qualify.sla.models import BusinessCalendar, Clock, ClockKind, Escalation, SlaPolicy, StepKind
from qualify.notifications.models import Notification, NotificationKind
from qualify.dedupe.models import DuplicateCandidate
from qualify.webhooks.models import Delivery, Endpoint
from tests.factories import AccountFactory, LeadFactory, TeamFactory, UserFactory


@dataclass
class Side:
    """One team's objects, by the URL keyword that names them."""

    ids: dict[str, int] = field(default_factory=dict)
    # Words that appear nowhere but in this team's objects: another team must never read them.
    secrets: list[str] = field(default_factory=list)


@dataclass
class World:
    users: dict[str, User]
    north: Side
    south: Side


def _side(team, *, sdr: User, ae: User, manager: User, prefix: str) -> Side:
    side = Side()
    account = AccountFactory(team=team, name=f"{prefix}wind Traders", domain=f"{prefix.lower()}wind.example")
    lead = LeadFactory(team=team, owner=sdr, account=account, stage=Stage.WORKING, first_name=f"{prefix}dana",
                       last_name=f"{prefix}diaz")
    side.secrets += [lead.first_name, lead.last_name, account.name]

    handed = LeadFactory(team=team, owner=sdr, ae=ae, account=account, stage=Stage.HANDED_OFF,
                         first_name=f"{prefix}hana", last_name="Handed")
    handoff = Handoff.objects.create(lead=handed, team=team, from_user=sdr, to_user=ae, next_step="Demo on Friday",
                                     packet={"lead": {"name": handed.full_name, "title": handed.title, "company": account.name}})
    # Handed off by the SDR and accepted: the AE owns it, the SDR keeps reading it (read-only).
    taken = LeadFactory(team=team, owner=ae, ae=ae, account=account, stage=Stage.ACCEPTED, first_name=f"{prefix}tara",
                        last_name="Taken")
    Handoff.objects.create(lead=taken, team=team, from_user=sdr, to_user=ae, next_step="Demo on Monday",
                           status="accepted", decided_at=timezone.now(), decided_by=ae)
    side.secrets.append(taken.first_name)

    # Six accepted leads in the last week: the review plan samples three of them.
    at = timezone.now() - datetime.timedelta(days=2)
    for i in range(6):
        sql = LeadFactory(team=team, owner=ae, ae=ae, stage=Stage.ACCEPTED, first_name=f"{prefix}sql{i}")
        StageChange.objects.bulk_create([
            StageChange(lead=sql, from_stage=Stage.WORKING, to_stage=Stage.HANDED_OFF, by=sdr, at=at - datetime.timedelta(hours=3)),
            StageChange(lead=sql, from_stage=Stage.HANDED_OFF, to_stage=Stage.ACCEPTED, by=ae, at=at),
        ])
    plan = ReviewPlan.objects.create(name=f"{prefix} weekly review", team=team, population=Population.ACCEPTED_RECENT,
                                     lookback_days=7, sample_size=3, reviewer=manager)
    plan.red_flags.set(RedFlag.objects.all())
    queue, _ = build_queue(plan, seed=1234)
    item = queue.items.order_by("position").first()

    job = create_job(kind="leads", team=team, by=manager, content=b"email,first_name\nx@y.example,X\n", filename="leads.csv")
    note = Notification.objects.create(user=sdr, kind=NotificationKind.ASSIGNED, title=f"{prefix} heads-up", lead=lead)
    policy = SlaPolicy.objects.filter(kind=ClockKind.MQL_FIRST_TOUCH).order_by("id").first()
    now = timezone.now()
    clock = Clock.objects.create(lead=lead, team=team, policy=policy, calendar=BusinessCalendar.objects.order_by("id").first(),
                                 kind=ClockKind.MQL_FIRST_TOUCH, owner=sdr, started_at=now,
                                 warn_at=now + datetime.timedelta(hours=1), due_at=now + datetime.timedelta(hours=2))
    task = FollowUpTask.objects.create(kind=TaskKind.choices[0][0], lead=lead, assignee=sdr, created_by=manager,
                                       title=f"{prefix} follow up", due_on=timezone.localdate())
    requal = Requalification.objects.create(lead=lead, kind=TriggerKind.choices[0][0], reason="Budget changed", status="open")
    token, _ = issue_token(user=sdr, name=f"{prefix} script")
    escalation = Escalation.objects.create(clock=clock, step=1, kind=StepKind.choices[0][0], lead=lead, team=team, scheduled_at=now)
    rule = RoutingRule.objects.create(name=f"{prefix} inbound rule", team=team, method="round_robin")
    twin = LeadFactory(team=team, owner=sdr, account=account, stage=Stage.NEW, first_name=f"{prefix}dana",
                       last_name=f"{prefix}diaz")
    low, high = sorted((lead.pk, twin.pk))
    pair = DuplicateCandidate.objects.create(kind="lead", team=team, low_id=low, high_id=high, confidence=0.9,
                                             reasons=[{"rule": "name", "detail": "same name", "confidence": 0.9}])
    endpoint = Endpoint.objects.create(team=team, url=f"https://{prefix.lower()}-hooks.example/in", events=["lead.mql"])
    delivery = Delivery.objects.create(endpoint=endpoint, event="lead.mql", msg_id=f"msg_{prefix}", body="{}", lead_id=lead.pk)
    criterion = Criterion.objects.filter(answer_type="status", active=True).order_by("id").first()
    answer = record_answer(lead, criterion=criterion, by=sdr, status="confirmed", evidence=f"{prefix} said so on the call")
    view = SavedView.objects.create(name=f"{prefix} hot MQLs view", query="stage=mql", created_by=manager, team=team)
    side.secrets.append(view.name)
    side.ids = {
        "lead_id": lead.pk, "pk:lead": lead.pk, "pk:account": account.pk, "account_id": account.pk, "handoff_id": handoff.pk, "pk:handoff": handoff.pk,
        "queue_id": queue.pk, "pk:review-queue": queue.pk, "item_id": item.pk, "pk:review-item": item.pk,
        "job_id": job.pk, "pk:import": job.pk, "notification_id": note.pk, "pk:notification": note.pk,
        "pk:sla-clock": clock.pk, "task_id": task.pk, "pk:follow-up-task": task.pk, "req_id": requal.pk,
        "pk:requalification": requal.pk, "token_id": token.pk, "pk:token": token.pk, "pk:scores": lead.pk,
        "pk:review-plan": plan.pk, "pk:sla-escalation": escalation.pk, "pk:routing-rule": rule.pk, "pk:answer": answer.pk,
        "pk:webhook-endpoint": endpoint.pk, "pk:webhook-delivery": delivery.pk, "candidate_id": pair.pk,
        "taken_lead_id": taken.pk,
        "view_id": view.pk,
        "account_id": account.pk, "pk:duplicate": pair.pk,
    }
    return side


def build_world() -> World:
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    cast = {
        "alice": (Role.SDR, north), "bob": (Role.SDR, north), "erin": (Role.AE, north), "maria": (Role.MANAGER, north),
        "mark": (Role.MARKETING, north), "charlie": (Role.SDR, south), "sam": (Role.AE, south),
        "stella": (Role.MANAGER, south),
    }
    users = {name: UserFactory.with_role(role, team, username=name, first_name=name.title()) for name, (role, team) in cast.items()}
    users["rita"] = UserFactory.with_role(Role.REVOPS, north, username="rita", first_name="Rita", is_staff=True)
    n = _side(north, sdr=users["alice"], ae=users["erin"], manager=users["maria"], prefix="Nor")
    s = _side(south, sdr=users["charlie"], ae=users["sam"], manager=users["stella"], prefix="Sou")
    # Shared by every team: the same ids on both sides.
    for basename, model in (("sla-policy", SlaPolicy), ("framework", Framework), ("disqualify-reason", DisqualifyReason),
                            ("opportunity-stage", OpportunityStage)):
        if first := model.objects.order_by("id").first():
            n.ids[f"pk:{basename}"] = s.ids[f"pk:{basename}"] = first.pk
    version = ModelVersion.objects.order_by("id").first()
    if version is not None:
        run = ScoreRun.objects.create(version=version)
        n.ids["run_id"] = s.ids["run_id"] = run.pk
    # Prediction versions are shared by every team, like scoring models (their pages scope leads).
    prediction = PredictionVersion.objects.create(number=1, status=PredictionStatus.FAILED, error="Too few outcomes.")
    for side in (n, s):
        side.ids["version_id"] = side.ids["pk:prediction-version"] = prediction.pk
    return World(users=users, north=n, south=s)
