"""Review queues in the browser and the owner's task list."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from qualify.errors import DomainError
from qualify.ids import posted_id
from qualify.frameworks.completeness import completeness
from qualify.handoff.models import Handoff
from qualify.leads.timeline import timeline_for
from qualify.redirects import safe_next

from .access import access_item, access_queue, access_task, can_review, require_reviews, visible_queues, visible_tasks
from .models import RedFlag, ReviewItem, TaskStatus, Verdict
from .sampling import explain
from .verdicts import ABOUT, complete_task, record_verdict


def _with_progress(qs):
    return qs.annotate(total=Count("items"), reviewed=Count("items", filter=~Q(items__verdict="")))


@login_required
def queues(request: HttpRequest) -> HttpResponse:
    """The reviewer's open queues first, then the team's recent ones, each with its progress."""
    require_reviews(request.user)
    base = _with_progress(visible_queues(request.user).select_related("plan", "team", "reviewer"))
    mine = list(base.filter(reviewer=request.user, completed_at__isnull=True).order_by("-period_start", "-id")[:20])
    mine_ids = [q.pk for q in mine]
    recent = list(base.exclude(pk__in=mine_ids).order_by("-period_start", "-id")[:50])
    return render(request, "reviews/queues.html", {"mine": mine, "recent": recent})


@login_required
def queue_detail(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = access_queue(request.user, queue_id)
    items = list(queue.items.select_related("lead__account", "rep", "reviewed_by").order_by("position"))
    reviewed = sum(1 for i in items if i.verdict)
    counts = {v: sum(1 for i in items if i.verdict == v) for v in Verdict.values}
    next_item = next((i for i in items if not i.verdict), None)
    return render(
        request,
        "reviews/queue.html",
        {"queue": queue, "items": items, "reviewed": reviewed, "counts": counts, "next_item": next_item,
         "can_review": can_review(request.user, queue), "explanation": explain(queue) if request.GET.get("explain") else None,
         "strata": {k: len(v) for k, v in queue.population.items()}},
    )


def _item_context(request: HttpRequest, item: ReviewItem, **extra) -> dict:
    queue = item.queue
    lead = item.lead
    siblings = list(queue.items.order_by("position").values_list("pk", "verdict"))
    ids = [pk for pk, _ in siblings]
    i = ids.index(item.pk)
    reviewed = sum(1 for _, v in siblings if v)
    next_open = next((pk for pk, v in siblings[i + 1:] + siblings[:i] if not v), None)
    checklist = list(queue.plan.red_flags.filter(Q(active=True) | Q(pk__in=item.flags.values("pk"))))
    handoff = (
        Handoff.objects.filter(lead=lead).select_related("from_user", "to_user", "decided_by", "reason")
        .order_by("-created_at", "-id").first()
    )
    return {
        "item": item, "queue": queue, "lead": lead,
        "progress": {"reviewed": reviewed, "total": len(ids), "position": i + 1},
        "prev_id": ids[i - 1] if i > 0 else None, "next_id": ids[i + 1] if i + 1 < len(ids) else None,
        "next_open_id": next_open,
        "checklist": checklist, "checked": set(item.flags.values_list("pk", flat=True)),
        "handoff": handoff, "qualification": completeness(lead), "timeline": timeline_for(lead, limit=30),
        "can_review": can_review(request.user, queue), "verdicts": Verdict.choices, "about_choices": list(ABOUT.items()),
        "today": timezone.localdate(), "default_due": timezone.localdate() + datetime.timedelta(days=7),
        "follow_up": getattr(item, "follow_up", None) if item.verdict == Verdict.NEEDS_FOLLOW_UP else None,
        **extra,
    }


@login_required
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access_item(request.user, item_id)
    return render(request, "reviews/item.html", _item_context(request, item))


@login_required
@require_POST
def verdict(request: HttpRequest, item_id: int) -> HttpResponse:
    item = access_item(request.user, item_id, for_write=True)
    posted = {
        "verdict": request.POST.get("verdict", ""), "note": request.POST.get("note", ""),
        "follow_up": request.POST.get("follow_up", ""), "due_on": request.POST.get("due_on", ""),
        "about": request.POST.get("about", "qualification"),
        "flags": {pk for f in request.POST.getlist("flags") if (pk := posted_id(f)) is not None},
    }
    try:
        due_on = None
        if posted["due_on"]:
            try:
                due_on = datetime.date.fromisoformat(posted["due_on"])
            except ValueError:
                raise DomainError("The due date is not a date.", field="due_on")
        flags = list(RedFlag.objects.filter(pk__in=posted["flags"]))
        if len(flags) != len(posted["flags"]):
            raise DomainError("One of the ticked red flags does not exist.", field="flags")
        record_verdict(item, by=request.user, verdict=posted["verdict"], flags=flags, note=posted["note"],
                       follow_up=posted["follow_up"], due_on=due_on, about=posted["about"])
    except DomainError as e:
        if request.htmx:
            ctx = _item_context(request, item, error=e.message, posted=posted)
            return render(request, "reviews/item.html#verdict-panel", ctx)
        messages.error(request, e.message)
        return HttpResponseRedirect(reverse("reviews:item", args=[item.pk]))
    item = access_item(request.user, item.pk)
    ctx = _item_context(request, item, saved=True)
    if request.htmx:
        return render(request, "reviews/item.html#verdict-panel", ctx)
    messages.success(request, f"Verdict saved: {item.get_verdict_display()}.")
    target = ctx["next_open_id"]
    return HttpResponseRedirect(
        reverse("reviews:item", args=[target]) if target else reverse("reviews:queue", args=[item.queue_id])
    )


# --- tasks ---------------------------------------------------------------------------------------


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    """Mine: my open follow-ups, overdue first. Team (managers, admins): everyone's open ones."""
    user = request.user
    can_team = user.is_admin or user.has_role(Role.MANAGER)
    scope = "team" if request.GET.get("scope") == "team" and can_team else "mine"
    qs = visible_tasks(user).select_related("lead__account", "assignee", "created_by")
    if scope == "mine":
        qs = qs.filter(assignee=user)
    open_tasks = list(qs.filter(status=TaskStatus.OPEN).order_by("due_on", "id")[:200])
    closed = list(qs.exclude(status=TaskStatus.OPEN).select_related("closed_by").order_by("-closed_at", "-id")[:20])
    return render(
        request, "reviews/tasks.html",
        {"open_tasks": open_tasks, "closed": closed, "scope": scope, "can_team": can_team, "today": timezone.localdate()},
    )


@login_required
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    task = access_task(request.user, task_id, for_write=True)
    error = ""
    try:
        complete_task(task, by=request.user, note=request.POST.get("note", ""))
    except DomainError as e:
        error = e.message
    if request.htmx:
        task = access_task(request.user, task.pk)
        return render(request, "reviews/tasks.html#task-row", {"t": task, "row_error": error, "scope": request.POST.get("scope", "mine")})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Done: {task.title}.")
    return HttpResponseRedirect(safe_next(request, reverse("reviews:tasks")))
