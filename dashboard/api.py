"""REST API endpoints (``/api/v1/``): thin translation to ``monitor`` services."""
from __future__ import annotations

from django.conf import settings
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from monitor.ingest import RecordError, posts_ingest, record_from_dict

MAX_ERRORS_RETURNED = 100


class CanSubmitPosts(BasePermission):
    message = "This token's user may not submit posts (needs the 'ingest' or 'admin' role)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("monitor.add_post"))


@api_view(["POST"])
@permission_classes([CanSubmitPosts])
def posts_create(request: Request) -> Response:
    """Accept a batch of posts: store them first, then queue them for processing.

    Body: ``{"posts": [{...}, ...]}`` (or a bare list) in Vigie's schema.
    Answers 202 with counts; invalid records are listed by index and the rest stored.
    """
    body = request.data
    records_in = body.get("posts") if isinstance(body, dict) else body
    if not isinstance(records_in, list):
        return Response(
            {"detail": "body must be a JSON object with a 'posts' list, or a list of posts"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    limit = settings.MONITOR_API_MAX_BATCH
    if len(records_in) > limit:
        return Response(
            {"detail": f"a batch holds at most {limit} posts; this one has {len(records_in)}"},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    records, errors = [], []
    for position, item in enumerate(records_in):
        try:
            records.append(record_from_dict(item))
        except RecordError as exc:
            errors.append({"index": position, "error": str(exc)})
    if not records and errors:
        return Response(
            {"detail": "no valid post in the batch", "rejected": len(errors), "errors": errors[:MAX_ERRORS_RETURNED]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    result = posts_ingest(records, source="api")
    return Response(
        {
            "received": len(records_in),
            "new": result.new,
            "duplicate": result.duplicates,
            "rejected": len(errors),
            "errors": errors[:MAX_ERRORS_RETURNED],
        },
        status=status.HTTP_202_ACCEPTED,
    )
