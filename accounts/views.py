import datetime
import math

from axes.helpers import get_client_ip_address
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .models import ApiToken, Role
from .ratelimit import Rate, hit, key_for
from .tokens import issue_token, revoke_all_tokens, revoke_token

NEW_KEY = "new_api_token_key"

# Password reset e-mails: a few per address asked for (someone who lost the first), and more per
# client address (an office behind one address), each per hour.
RESET_PER_EMAIL = Rate(3, datetime.timedelta(hours=1))
RESET_PER_CLIENT = Rate(20, datetime.timedelta(hours=1))


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, limited. Over the client address's rate: a 429 saying so, whatever
    address was asked for. Over one e-mail address's rate: the same "check your e-mail" answer as
    always and no e-mail, so the answer never tells whether an account has that address."""

    def post(self, request, *args, **kwargs):
        wait = hit(key_for("reset-client", get_client_ip_address(request) or ""), RESET_PER_CLIENT)
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            detail = (f"Too many password reset requests from your address. "
                      f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.")
            response = render(request, "registration/password_reset_limited.html", {"detail": detail}, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if hit(key_for("reset-email", form.cleaned_data["email"]), RESET_PER_EMAIL):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to the page they work from: marketing to their sources' funnel and
    handoff feedback (they work no queue), everyone else to the lead queue. Decided by the
    primary role, so a marketer who also works leads as an SDR lands on the queue."""
    if request.user.primary_role == Role.MARKETING:
        return redirect("analytics:marketing")
    return redirect("leads:queue")


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """The caller's API tokens. Creating one redirects back here (so a reload cannot create a
    second) and the key rides in the session just for that redirect: the next GET shows it once."""
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        if not name:
            messages.error(request, "Give the token a name, e.g. the script that will use it.")
        else:
            _, request.session[NEW_KEY] = issue_token(user=request.user, name=name)
        return redirect("tokens")
    new_key = request.session.pop(NEW_KEY, "")
    active = ApiToken.objects.active().filter(user=request.user)
    return render(request, "accounts/tokens.html", {"tokens": active, "new_key": new_key})


@login_required
@require_POST
def revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    # Only the caller's own tokens: anyone else's id is a 404.
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    if revoke_token(token):
        messages.success(request, f"Revoked “{token.name}”. Scripts using it now get 401.")
    return redirect("tokens")


@login_required
@require_POST
def revoke_all(request: HttpRequest) -> HttpResponse:
    count = revoke_all_tokens(request.user)
    messages.success(request, f"Revoked {count} token{'s' if count != 1 else ''}.")
    return redirect("tokens")
