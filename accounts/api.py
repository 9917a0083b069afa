"""API doors to a person's own tokens, and `POST /api/token/` (user name and password → a new token)."""

from __future__ import annotations

import datetime

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .lockout import lockout_response
from .models import ApiToken
from .tokens import issue_token, revoke_all_tokens, revoke_token


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes `Authorization: Token <key>` in the OpenAPI schema."""

    target_class = "accounts.tokens.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class NewTokenSerializer(TokenSerializer):
    """Carries the key: returned once, by the request that created the token."""

    key = serializers.CharField(read_only=True)

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


class TokenInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=366, required=False)


def _lifetime(data: dict) -> datetime.timedelta | None:
    days = data.get("expires_in_days")
    return datetime.timedelta(days=days) if days else None


class ApiTokenViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own tokens: list, create (the key is in that one response), revoke."""

    serializer_class = TokenSerializer
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ApiToken.objects.none()
        return ApiToken.objects.active().filter(user=self.request.user)

    @extend_schema(request=TokenInSerializer, responses={201: NewTokenSerializer}, summary="Create a token; the key is shown only in this response")
    def create(self, request: Request) -> Response:
        data = TokenInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, key = issue_token(user=request.user, name=data.validated_data["name"], lifetime=_lifetime(data.validated_data))
        token.key = key
        return Response(NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None}, summary="Revoke one of your tokens")
    def destroy(self, request: Request, pk: str) -> Response:
        revoke_token(get_object_or_404(self.get_queryset(), pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: inline_serializer("RevokedCount", {"revoked": serializers.IntegerField()})},
                   summary="Revoke all your tokens")
    @action(detail=False, methods=["post"], url_path="revoke-all")
    def revoke_all(self, request: Request) -> Response:
        return Response({"revoked": revoke_all_tokens(request.user)})


class ObtainTokenInSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=366, required=False)


class ObtainTokenView(APIView):
    """User name and password → a new named, expiring token (`{"token": key, ...}`), for scripts
    that cannot open the account page. Every failure counts toward the sign-in lockout."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=ObtainTokenInSerializer, responses={200: NewTokenSerializer}, summary="Exchange a user name and password for a new token")
    def post(self, request: Request) -> Response:
        data = ObtainTokenInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The Django request, so django-axes counts the attempt and AxesMiddleware sees a lockout.
        user = authenticate(request._request, username=data.validated_data["username"], password=data.validated_data["password"])
        if user is None:
            if getattr(request._request, "axes_locked_out", False):
                return lockout_response(request._request)
            return Response({"non_field_errors": ["Unable to log in with provided credentials."]}, status=status.HTTP_400_BAD_REQUEST)
        name = data.validated_data.get("name") or f"Signed in through the API, {timezone.localdate():%Y-%m-%d}"
        token, key = issue_token(user=user, name=name, lifetime=_lifetime(data.validated_data))
        token.key = key
        return Response({"token": key, **NewTokenSerializer(token).data})


def register(router) -> None:
    router.register("tokens", ApiTokenViewSet, basename="token")
