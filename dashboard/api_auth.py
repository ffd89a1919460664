"""Bearer-token authentication and per-token rate limiting for the REST API."""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.throttling import SimpleRateThrottle

from monitor.models import ApiToken
from monitor.tokens import token_authenticate


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>`` (or ``Token <key>``); keys are stored hashed."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode("latin-1") not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = token_authenticate(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return (token.user, token)

    def authenticate_header(self, request):
        return 'Bearer realm="vigie"'


class TokenRateThrottle(SimpleRateThrottle):
    """At most ``MONITOR_API_RATE`` requests per token, counted in Django's cache (Redis in production).

    Keyed by the token's id, not the user: two tokens of one user are two budgets,
    and a revoked token's budget goes with it. Unauthenticated requests are
    refused before they count (they never reach a view).
    """

    scope = "token"

    def get_rate(self) -> str:
        # Read at each request, so a changed setting (and a test's override) applies at once.
        return settings.MONITOR_API_RATE

    def get_cache_key(self, request, view) -> str | None:
        token = getattr(request, "auth", None)
        if not isinstance(token, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema that every endpoint takes ``Authorization: Bearer <token>``."""

    target_class = "dashboard.api_auth.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A key made by `manage.py create_token`."}
