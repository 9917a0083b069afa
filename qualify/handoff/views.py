"""Hand off from the lead page; the AE's Handoffs inbox; accept and reject; feedback report."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Membership, Role, User
from qualify.dates import query_date
from qualify.errors import DomainError
from qualify.exports import csv_response
from qualify.frameworks.views import answers_panel_context
from qualify.ids import posted_id
from qualify.leads.access import access_lead, active_people
from qualify.leads.models import DisqualifyReason
from qualify.leads.views import detail_context
from qualify.redirects import safe_next

from . import feedback as fb
from .access import access_handoff, can_reassign, sent_by, visible_handoffs
from .models import Handoff, HandoffStatus
from .workflow import accept, can_decide, eligible_aes, hand_off, reassign, reject


def lead_handoff_context(lead, user) -> dict:
    """What the lead page needs to show the hand-off form or the pending handoff."""
    pending = lead.handoffs.filter(status=HandoffStatus.PENDING).select_related("to_user").first()
    return {
        "pending_handoff": pending,
        "can_decide_pending": bool(pending and can_decide(user, pending)),
        "handoff_aes": list(eligible_aes(lead)),
        "default_ae_id": lead.team.default_ae_id,
    }


def account_handoffs_context(account, people, user) -> dict:
    """The account page's open handoffs: pending ones of the account's people, oldest first."""
    pending = (Handoff.objects.filter(lead__account=account, team_id=account.team_id, status=HandoffStatus.PENDING)
               .select_related("lead", "from_user", "to_user").order_by("created_at")[:50])
    return {"open_handoffs": list(pending)}


@login_required
@require_http_methods(["GET", "POST"])
def hand_off_view(request: HttpRequest, lead_id: int) -> HttpResponse:
    """GET: the lead page's hand-off section alone (refreshed after each answer). POST: hand off."""
    if request.method == "GET":
        lead = access_lead(request.user, lead_id)
        # Only what the section shows: the checklist (completeness) and the hand-off form.
        context = {"lead": lead, **answers_panel_context(lead, request.user), **lead_handoff_context(lead, request.user)}
        return render(request, "handoff/lead_actions.html", context)
    lead = access_lead(request.user, lead_id, for_write=True)
    # Only someone the user may see: another team's person reads as no choice at all (nothing named).
    to_id = posted_id(request.POST.get("to_user"))
    to = active_people(request.user).filter(pk=to_id).first() if to_id is not None else None
    try:
        if to is None:
            raise DomainError("Choose the AE to hand this lead to.", field="to_user")
        hand_off(lead, to=to, by=request.user, next_step=request.POST.get("next_step", ""), note=request.POST.get("note", ""))
    except DomainError as e:
        posted = {k: request.POST.get(k, "") for k in ("to_user", "next_step", "note")}
        if request.htmx:  # the section again, with the message and what was typed
            context = {"lead": lead, **answers_panel_context(lead, request.user), **lead_handoff_context(lead, request.user),
                       "handoff_error": e.message, "handoff_posted": posted}
            return render(request, "handoff/lead_actions.html", context)
        # Without JavaScript: the whole lead page, the form as typed (a redirect would lose it).
        context = detail_context(request, lead, handoff_error=e.message, handoff_posted=posted)
        return render(request, "leads/detail.html", context, status=400)
    messages.success(request, f"Handed off to {to}. They'll accept or reject it from their Handoffs page.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("leads:detail", args=[lead.pk])
        return response
    return HttpResponseRedirect(reverse("leads:detail", args=[lead.pk]))


def _scope(request: HttpRequest):
    user = request.user
    qs = visible_handoffs(user).select_related("lead__account", "from_user", "to_user")
    if request.GET.get("scope") == "team" and (user.is_admin or user.has_role(Role.MANAGER)):
        return qs, "team"
    if user.has_role(Role.AE) or not (user.is_admin or user.has_role(Role.MANAGER)):
        return qs.filter(to_user=user), "mine"
    return qs, "team"


def _receives_handoffs(user) -> bool:
    """AEs are sent handoffs, managers and admins decide them; SDRs and marketing receive none."""
    return user.is_admin or user.has_role(Role.AE, Role.MANAGER)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Pending packets, oldest first, with how long each has waited. Someone no handoff can be
    sent to (an SDR) lands on the ones they sent instead of an inbox that is always empty."""
    if not _receives_handoffs(request.user):
        return HttpResponseRedirect(reverse("handoff:sent"))
    qs, scope = _scope(request)
    pending = list(qs.filter(status=HandoffStatus.PENDING).order_by("created_at", "id")[:200])
    for h in pending:  # no queries: the user's memberships are cached
        h.user_can_decide = can_decide(request.user, h)
    _offer_reassign(request.user, pending)
    recent = list(qs.exclude(status=HandoffStatus.PENDING).select_related("reason", "from_user", "lead__account").order_by("-decided_at")[:20])
    return render(
        request,
        "handoff/inbox.html",
        {"pending": pending, "recent": recent, "scope": scope, "reasons": DisqualifyReason.objects.filter(active=True),
         "can_see_team": request.user.is_admin or request.user.has_role(Role.MANAGER)},
    )


@login_required
def sent(request: HttpRequest) -> HttpResponse:
    """The handoffs the user sent and what became of each: waiting, accepted, or rejected with the
    AE's reason and note. Newest first; two queries (the page is capped at 200)."""
    rows = list(
        sent_by(request.user).select_related("lead", "to_user", "decided_by", "reason")
        .order_by("-created_at", "-id")[:200]
    )
    counts = {s: sum(h.status == s for h in rows) for s in HandoffStatus.values}
    return render(request, "handoff/sent.html", {"sent": rows, "counts": counts, "receives": _receives_handoffs(request.user)})


@login_required
def detail(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = access_handoff(request.user, handoff_id)
    _offer_reassign(request.user, [handoff])
    return render(
        request,
        "handoff/detail.html",
        {"h": handoff, "can_decide": handoff.is_pending and can_decide(request.user, handoff),
         "reasons": DisqualifyReason.objects.filter(active=True),
         "can_reassign": handoff.user_can_reassign, "reassign_aes": handoff.reassign_aes},
    )


def _team_aes(team_ids: set[int]) -> dict[int, list[User]]:
    """Each team's active AEs, first name first (workflow.eligible_aes for many teams at once)."""
    if not team_ids:
        return {}
    found: dict[int, list[User]] = {team_id: [] for team_id in team_ids}
    for m in Membership.objects.filter(team_id__in=team_ids, role=Role.AE, user__is_active=True).select_related("user") \
            .order_by("user__first_name", "user__username"):
        found[m.team_id].append(m.user)
    return found


def _offer_reassign(user, handoffs: list[Handoff]) -> None:
    """Mark the pending handoffs `user` may give to another AE, each with the team's other active
    AEs for its Reassign form (inbox and handoff page alike; one query for them all, none when
    there is nothing to offer)."""
    aes = _team_aes({h.team_id for h in handoffs if h.is_pending and can_reassign(user, h)})
    for h in handoffs:
        h.user_can_reassign = h.is_pending and h.team_id in aes
        h.reassign_aes = [ae for ae in aes.get(h.team_id, ()) if ae.pk != h.to_user_id]


def _decided(request: HttpRequest, handoff: Handoff, error: str = "", posted: dict | None = None) -> HttpResponse:
    """The packet after a decision. A refused one comes back with the message and, in `posted`,
    what was typed (the reason chosen, the note), so nothing has to be typed twice."""
    context = {"h": handoff, "error": error, "posted": posted or {}, "reasons": DisqualifyReason.objects.filter(active=True),
               "can_decide": handoff.is_pending and can_decide(request.user, handoff)}
    if request.htmx:
        return render(request, "handoff/inbox.html#packet", context)
    if error and posted:
        return render(request, "handoff/detail.html", context)
    if error:
        messages.error(request, error)
    return HttpResponseRedirect(safe_next(request, reverse("handoff:inbox")))


@login_required
@require_POST
def accept_view(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = access_handoff(request.user, handoff_id, for_write=True)
    try:
        accept(handoff, by=request.user, note=request.POST.get("note", ""))
    except DomainError as e:
        handoff.refresh_from_db()
        return _decided(request, handoff, e.message)
    messages.success(request, f"Accepted {handoff.lead}: it's yours now.")
    return _decided(request, handoff)


@login_required
@require_POST
def reject_view(request: HttpRequest, handoff_id: int) -> HttpResponse:
    handoff = access_handoff(request.user, handoff_id, for_write=True)
    reason = DisqualifyReason.objects.filter(pk=posted_id(request.POST.get("reason")) or 0).first()
    try:
        reject(handoff, by=request.user, reason=reason, note=request.POST.get("note", ""))
    except DomainError as e:
        handoff.refresh_from_db()
        posted = {"reason": request.POST.get("reason", ""), "note": request.POST.get("note", "")}
        return _decided(request, handoff, e.message, posted if handoff.is_pending else None)
    messages.success(request, f"Rejected {handoff.lead} ({reason}).")
    return _decided(request, handoff)


@login_required
@require_POST
def reassign_view(request: HttpRequest, handoff_id: int) -> HttpResponse:
    """A manager gives the pending handoff to another AE of the team (workflow.reassign)."""
    handoff = access_handoff(request.user, handoff_id)
    if not can_reassign(request.user, handoff):
        raise PermissionDenied("Only the team's managers can reassign a handoff.")
    # Only an AE of the lead's team: anyone else reads as no choice at all (nothing named).
    to_id = posted_id(request.POST.get("to_user"))
    to = eligible_aes(handoff.lead).filter(pk=to_id).first() if to_id is not None else None
    try:
        if to is None:
            raise DomainError(f"Choose an active AE of {handoff.lead.team} to give this handoff to.", field="to_user")
        reassign(handoff, to=to, by=request.user, note=request.POST.get("note", ""))
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"Reassigned {handoff.lead} to {to}: they'll accept or reject it from their Handoffs page.")
    return HttpResponseRedirect(safe_next(request, reverse("handoff:detail", args=[handoff.pk])))


@login_required
def feedback(request: HttpRequest) -> HttpResponse:
    """Acceptance by SDR and source, rejection reasons by source, for a date range; CSV too."""
    user = request.user
    if not (user.is_admin or user.has_role(Role.MANAGER, Role.MARKETING)):
        raise PermissionDenied("Handoff feedback is for managers, marketing and RevOps.")
    today = timezone.localdate()
    end = query_date(request.GET.get("end"), today)
    start = query_date(request.GET.get("start"), end - datetime.timedelta(days=90))
    qs = Handoff.objects.all() if user.is_admin else Handoff.objects.filter(team_id__in=user.team_ids(Role.MANAGER, Role.MARKETING))
    tables = {
        "by_sdr": fb.acceptance_by_sdr(qs, start, end),
        "by_source": fb.acceptance_by_source(qs, start, end),
        "reasons": fb.rejection_reasons_by_source(qs, start, end),
    }
    export = request.GET.get("export")
    if export in tables:
        return _csv(export, tables[export], start, end)
    return render(request, "handoff/feedback.html", {"start": start, "end": end, **tables})


def _csv(name: str, rows: list, start, end) -> HttpResponse:
    filename = f"handoff-{name}-{start}-{end}.csv"
    if name == "reasons":
        return csv_response(filename, ["source", "reason", "rejections", "share_of_source_pct"],
                            ([r.source, r.reason, r.count, r.share] for r in rows))
    return csv_response(filename, ["sdr" if name == "by_sdr" else "source", "handed_off", "accepted", "rejected", "pending",
                                   "acceptance_rate_pct"],
                        ([r.label, r.handed_off, r.accepted, r.rejected, r.pending, r.acceptance_rate] for r in rows))
