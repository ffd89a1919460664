"""API tokens: created once, shown once, stored as a SHA-256 hash."""
from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from monitor.models import ApiToken

PREFIX = "vg_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user``; return the row and the clear key (shown only now)."""
    key = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=key[:10], key_hash=_hash(key))
    return token, key


def token_authenticate(*, key: str) -> ApiToken | None:
    """The active token with this key, or None. Records when it was last used."""
    if not key.startswith(PREFIX) or len(key) > 128:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is not None:
        now = timezone.now()
        # Throttle the write: one UPDATE a minute per token is plenty for an audit trail.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_revoke(*, token: ApiToken) -> None:
    """Revoke a token; it stops working at once."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
