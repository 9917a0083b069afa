"""Notifications (page, badge, mark read, open) and each person's preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from qualify.leads.access import access_lead

from . import delivery
from .access import access_notification, own_notifications
from .models import Notification, NotificationKind, Preference

PAGE = 50


def _page(request: HttpRequest):
    qs = own_notifications(request.user).select_related("lead")
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        before = None
    if before:
        qs = qs.filter(pk__lt=before)
    # Ordered by id (creation order): keyset pages, no OFFSET, no COUNT over the whole list.
    rows = list(qs.order_by("-id")[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return rows, (rows[-1].pk if more else None), unread_only


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    rows, next_before, unread_only = _page(request)
    context = {"notes": rows, "next_before": next_before, "unread_only": unread_only,
               "unread": delivery.unread_count(request.user)}
    if request.htmx and request.GET.get("before"):
        return render(request, "notifications/list.html#more", {**context, "more_only": True})
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    note = access_notification(request.user, notification_id)
    delivery.mark_read(Notification.objects.filter(pk=note.pk))
    note = Notification.objects.select_related("lead").get(pk=note.pk)
    if request.htmx:
        # The row, and the page's "N unread" beside it (out of band), so the two never disagree.
        response = render(request, "notifications/list.html#note", {"n": note})
        response.content += render(request, "notifications/list.html#summary",
                                   {"unread": delivery.unread_count(request.user), "oob": True}).content
        response["HX-Trigger"] = "notifications-changed"
        return response
    return HttpResponseRedirect(reverse("notifications:list"))


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    """Mark read what the page knew of: `upto` is the newest notification when it was shown, so
    one that arrived since (an SLA breach while the page sat open) stays unread for its reader."""
    qs = own_notifications(request.user)
    try:
        qs = qs.filter(pk__lte=int(request.POST["upto"]))
    except (KeyError, ValueError):
        pass  # an old page or another client: everything, as before
    delivery.mark_read(qs)
    return HttpResponseRedirect(reverse("notifications:list"))


@login_required
@require_http_methods(["GET", "POST"])
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link. Only the list's POST form (CSRF-checked) marks it read: a GET
    changes nothing, so a link prefetcher or an <img> on another page cannot mark someone's
    notifications read. A lead that has left the reader's reach since (reassigned by the very sweep
    that sent the breach, merged, closed) is said so here rather than met with a bare 404 on its
    page. One query more when the notification names a lead."""
    note = access_notification(request.user, notification_id)
    if request.method == "POST":
        delivery.mark_read(Notification.objects.filter(pk=note.pk))
    listing = reverse("notifications:list")
    if note.lead_id:
        try:
            access_lead(request.user, note.lead_id)
        except Http404:
            messages.warning(request, f"“{note.title}”: you can no longer open that lead. It has been reassigned "
                                   "to someone else or left your queue since.")
            return HttpResponseRedirect(listing)
    target = note.url if url_has_allowed_host_and_scheme(note.url, allowed_hosts=None) and note.url else listing
    return HttpResponseRedirect(target)


@login_required
def badge(request: HttpRequest) -> HttpResponse:
    """The unread count in the navigation, polled by htmx. One COUNT on a partial index."""
    return render(request, "notifications/_badge.html", {"unread": delivery.unread_count(request.user)})


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """In the app and by e-mail, per kind. The form posts every kind's two boxes; an unchecked box
    is simply absent from the POST (HTML), so absence means "off". Kinds are the fixed list, so
    nothing in the POST can name anything else."""
    user = request.user
    current = delivery.choices([user.pk])
    if request.method == "POST":
        chosen = [
            Preference(user=user, kind=kind, in_app=f"{kind}-app" in request.POST, email=f"{kind}-email" in request.POST)
            for kind in NotificationKind.values
        ]
        # One upsert rather than delete-then-insert: two submits at once (a double click, two
        # tabs) each replaced the rows and the second insert hit notification_preference_once.
        # The last submit wins; neither fails.
        with transaction.atomic():
            Preference.objects.filter(user=user).exclude(kind__in=NotificationKind.values).delete()
            Preference.objects.bulk_create(chosen, update_conflicts=True, unique_fields=["user", "kind"],
                                           update_fields=["in_app", "email"])
        messages.success(request, "Notification preferences saved.")
        return HttpResponseRedirect(reverse("notifications:preferences"))
    rows = []
    for kind in NotificationKind:
        in_app, email = delivery.wanted(current, user.pk, kind)
        rows.append({"kind": kind.value, "label": kind.label, "in_app": in_app, "email": email})
    return render(request, "notifications/preferences.html", {"rows": rows, "has_email": bool(user.email)})
