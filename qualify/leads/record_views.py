"""Create and edit leads and accounts in the app: a form, then the same records verbs the API,
admin and importer call (so a fit field that changed is rescored after commit, as everywhere).

Who may: anyone of a team creates in it (marketing included); editing asks access.py for write
access (marketing reads only: a 403; another team's record: a 404). A refused form comes back
as typed with each problem beside its field. A double submit is harmless: each form carries a
one-time token, claimed in the database in the create's transaction, and a second POST of a form
already saved (or being saved at that moment) goes to what the first one made.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.db import IntegrityError, transaction
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode

from qualify.errors import DomainError
from qualify.redirects import safe_next

from . import records
from .access import access_account, access_lead
from .models import FormSubmission
from .record_forms import AccountForm, LeadForm

KEEP_TOKENS = datetime.timedelta(days=1)  # a form left open longer is a new form when sent


def _token(request: HttpRequest) -> str:
    return request.POST.get("form_token", "")[:64]


def _saved_url(request: HttpRequest) -> str | None:
    """Where an already-saved form's token led, or None: the second click of a double submit."""
    token = _token(request)
    return FormSubmission.objects.filter(user=request.user, token=token).values_list("url", flat=True).first() if token else None


def _create_once(request: HttpRequest, create: Callable[[], tuple[str, str]]) -> str:
    """Run `create` (which returns the new record's page and a success message) unless this form's
    token was already used; the page either way.

    The token is claimed by inserting it in the same transaction as the record. A parallel submit
    of the same form (a double click, a resent request) blocks on the unique key until the first
    commits, then finds the token taken and goes where it led; if the first was refused and rolled
    back, the second claims the token and tries again. Reading the session instead let both through:
    each request read it before either wrote it."""
    token = _token(request)
    if not token:
        url, message = create()
        messages.success(request, message)
        return url
    with transaction.atomic():
        try:
            with transaction.atomic():
                claim = FormSubmission.objects.create(user=request.user, token=token)
        except IntegrityError:
            return FormSubmission.objects.get(user=request.user, token=token).url
        FormSubmission.objects.filter(user=request.user, created_at__lt=timezone.now() - KEEP_TOKENS).delete()
        claim.url, message = create()
        claim.save(update_fields=["url"])
    messages.success(request, message)
    return claim.url


def _render(request: HttpRequest, form, *, title: str, kind: str, obj=None, cancel: str) -> HttpResponse:
    token = request.POST.get("form_token") or uuid.uuid4().hex
    form.mark_errors()
    context = {"form": form, "title": title, "kind": kind, "obj": obj, "cancel": cancel, "form_token": token,
               "then": request.POST.get("then") or request.GET.get("then", ""),
               "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "leads/record_form.html", context, status=400 if form.is_bound and form.errors else 200)


def _refused(form, error: DomainError) -> None:
    """A verb's refusal (a unique key lost to a concurrent save) shown on its field."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    cancel = reverse("leads:queue")
    if request.method != "POST":
        form = LeadForm(user=request.user, initial={"account": request.GET.get("account")})
        return _render(request, form, title="New lead", kind="lead", cancel=cancel)
    if (done := _saved_url(request)) is not None:
        return HttpResponseRedirect(done)
    form = LeadForm(request.POST, user=request.user)
    if form.is_valid():
        account = form.cleaned_data["account"]
        owner = request.user if form.cleaned_data.get("assign_to_me") else None

        def create() -> tuple[str, str]:
            lead = records.create_lead(by=request.user, owner=owner, team=account.team, **form.values())
            return lead.get_absolute_url(), f"Lead {lead.full_name} created."

        try:
            return HttpResponseRedirect(_create_once(request, create))
        except DomainError as e:
            _refused(form, e)
    return _render(request, form, title="New lead", kind="lead", cancel=cancel)


@login_required
def lead_edit(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = access_lead(request.user, lead_id, for_write=True)
    if lead.pk != lead_id:  # merged: edit the survivor
        return HttpResponseRedirect(reverse("leads:lead_edit", args=[lead.pk]))
    title, cancel = f"Edit {lead.full_name}", lead.get_absolute_url()
    if request.method != "POST":
        return _render(request, LeadForm(user=request.user, lead=lead), title=title, kind="lead", obj=lead, cancel=cancel)
    form = LeadForm(request.POST, user=request.user, lead=lead)
    if form.is_valid():
        try:
            changed = records.edit_lead(lead, by=request.user, **form.values())
        except DomainError as e:
            _refused(form, e)
        else:
            messages.success(request, _saved_message(form, changed))
            return HttpResponseRedirect(lead.get_absolute_url())
    return _render(request, form, title=title, kind="lead", obj=lead, cancel=cancel)


def _saved_message(form, changed: set[str]) -> str:
    if not changed:
        return "Nothing changed."
    labels = [str(form.fields[name].label) for name in form.verb_fields if name in changed and name in form.fields]
    return f"Saved: {', '.join(labels).lower()}."


def _account_page(request: HttpRequest, account_id: int) -> str:
    """The account page when it exists (`leads:account`), else where the form came from."""
    if request.POST.get("then") == "lead":  # came from "New lead": back to it with this account chosen
        return f"{reverse('leads:lead_create')}?{urlencode({'account': account_id})}"
    try:
        return reverse("leads:account", args=[account_id])
    except NoReverseMatch:
        return safe_next(request, reverse("leads:queue"))


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    cancel = reverse("leads:lead_create") if request.GET.get("then") == "lead" else reverse("leads:queue")
    if request.method != "POST":
        return _render(request, AccountForm(user=request.user), title="New account", kind="account", cancel=cancel)
    if (done := _saved_url(request)) is not None:
        return HttpResponseRedirect(done)
    form = AccountForm(request.POST, user=request.user)
    if form.is_valid():

        def create() -> tuple[str, str]:
            account = records.create_account(by=request.user, **form.values())
            return _account_page(request, account.pk), f"Account {account.name} created."

        try:
            return HttpResponseRedirect(_create_once(request, create))
        except DomainError as e:
            _refused(form, e)
    return _render(request, form, title="New account", kind="account", cancel=cancel)


@login_required
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    account = access_account(request.user, account_id, for_write=True)
    if account.pk != account_id:
        return HttpResponseRedirect(reverse("leads:account_edit", args=[account.pk]))
    title = f"Edit {account.name}"
    cancel = safe_next(request, reverse("leads:queue"))
    if request.method != "POST":
        form = AccountForm(user=request.user, account=account)
        return _render(request, form, title=title, kind="account", obj=account, cancel=cancel)
    form = AccountForm(request.POST, user=request.user, account=account)
    if form.is_valid():
        try:
            changed = records.edit_account(account, by=request.user, **form.values())
        except DomainError as e:
            _refused(form, e)
        else:
            messages.success(request, _saved_message(form, changed))
            return HttpResponseRedirect(_account_page(request, account.pk))
    return _render(request, form, title=title, kind="account", obj=account, cancel=cancel)
