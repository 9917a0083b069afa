"""API tokens: issue, revoke, and authenticate requests with them.

The only code that creates or revokes an `ApiToken`; the account page, the API and admin call it.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import ApiToken, User

KEY_PREFIX = "qfy_"
# How stale last_used_at may be: without it every API call would also write the token row.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(*, user: User, name: str, lifetime: datetime.timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token for `user`, and its key: the only moment the key exists outside the client."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100] or "API token",
        prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(key),
        created_at=now,
        expires_at=now + (lifetime or settings.API_TOKEN_LIFETIME),
    )
    return token, key


def revoke_token(token: ApiToken) -> bool:
    """Revoke one token; False when it already was. One UPDATE."""
    return ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()) == 1


def revoke_all_tokens(user: User) -> int:
    """Revoke every token `user` still holds; how many. One UPDATE."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def authenticate_key(key: str) -> ApiToken | None:
    """The active token for `key` with its user, or None. One indexed SELECT, and an UPDATE of
    last_used_at when the stored value is more than a minute old."""
    token = ApiToken.objects.active().select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # Conditional, so concurrent requests from one client write once.
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=now - LAST_USED_RESOLUTION).update(last_used_at=now)
        token.last_used_at = now
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (as DRF's authtoken clients send it) or `Bearer <key>`.
    A missing header leaves the request anonymous; a wrong, expired or revoked key is a 401."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <key>'.")
        token = authenticate_key(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return "Token"
