"""The append-only audit log."""
from __future__ import annotations

from typing import Any

from django.db import models

from monitor.models import AuditEvent

# The actions written today, for the audit page's suggestions (its filter accepts any).
AUDIT_ACTIONS: tuple[str, ...] = (
    "alert.acknowledge",
    "claim.create",
    "claim.update",
    "cluster.decide",
    "cluster.revert",
    "flag.claim",
    "flag.decide",
    "flag.reassign",
    "flag.release",
    "flag.revert",
    "posts.delete",
    "quality.review",
    "quality.sample",
    "settings.change",
    "token.create",
)


def audit_record(
    *,
    actor: Any | None,
    action: str,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event: who (``actor``, a user or None for the system) did ``action`` to ``obj``."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
    )
