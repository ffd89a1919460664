"""The research search page and its exports: parse the form, call ``monitor.search``, render or stream."""
from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from monitor.exports import csv_lines, jsonl_lines, search_export_rows
from monitor.models import Flag, Post
from monitor.search import (
    MODES,
    SearchFilters,
    SearchInputError,
    SearchUnavailable,
    posts_search,
    search_max_results,
)
from monitor.selectors import ascii_digits, communities_list

from .views import role_required

PAGE_SIZE = 20
SEARCH_PERM = "monitor.view_post"


def can_search(user) -> bool:
    """Researchers, reviewers, leads and admins (every role that reads posts); not outsiders."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.has_perm(SEARCH_PERM))


def _like(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not ascii_digits(value) or len(value) > 18:
        raise SearchInputError("like: expected a post id")
    return int(value)


def _page(value: str | None) -> int:
    value = (value or "").strip()
    if not value:
        return 1
    if not ascii_digits(value) or len(value) > 6:
        raise SearchInputError("page: expected a positive integer")
    return max(int(value), 1)


def _request_search(request) -> dict:
    """The search the query string asks for (raises ``SearchInputError`` on a malformed value)."""
    get = request.GET
    mode = get.get("mode") or "both"
    if mode not in MODES:
        raise SearchInputError(f"mode: one of {', '.join(MODES)}")
    return {
        "query": (get.get("q") or "")[:1000],
        "mode": mode,
        "filters": SearchFilters.from_query(get),
        "like_post": _like(get.get("like")),
    }


@require_GET
@role_required(can_search)
def search(request):
    """The search form and one page of results."""
    context = {
        "modes": MODES,
        "communities": communities_list(),
        "categories": Flag.Category.choices,
        "flag_statuses": Flag.Status.values,
        "get": request.GET,
        "max_results": search_max_results(),
    }
    try:
        params = _request_search(request)
        page_number = _page(request.GET.get("page"))
    except SearchInputError as exc:
        context["error"] = str(exc)
        return render(request, "dashboard/search.html", context, status=400)
    asked = bool(params["query"].strip() or params["like_post"] or not params["filters"].is_empty())
    keep = {k: v for k, v in request.GET.items() if k != "page" and v}
    context.update(params, query_string=urlencode(keep), asked=asked)
    if params["like_post"] is not None:
        context["like"] = Post.objects.filter(pk=params["like_post"]).only("id", "text", "platform").first()
    if asked:
        try:
            context["results"] = posts_search(
                query=params["query"], mode=params["mode"], filters=params["filters"],
                page=page_number, page_size=PAGE_SIZE, like_post=params["like_post"],
            )
        except SearchInputError as exc:
            context["error"] = str(exc)
        except SearchUnavailable as exc:
            context["error"] = f"Semantic search is unavailable: {exc}"
    return render(request, "dashboard/search.html", context)


@require_GET
@role_required(can_search)
def search_export(request, fmt: str):
    """The whole result set (not just this page) as CSV or JSON lines, streamed; see ``monitor.exports``."""
    try:
        params = _request_search(request)
        rows, truncated_at = search_export_rows(**params)
    except SearchInputError as exc:
        return HttpResponse(f"Bad search: {exc}\n", status=400, content_type="text/plain; charset=utf-8")
    except SearchUnavailable as exc:
        return HttpResponse(f"Search unavailable: {exc}\n", status=503, content_type="text/plain; charset=utf-8")
    if fmt == "csv":
        response = StreamingHttpResponse(csv_lines(rows, truncated_at=truncated_at),
                                         content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(jsonl_lines(rows, truncated_at=truncated_at),
                                         content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="vigie-search.{fmt}"'
    if truncated_at is not None:
        response["X-Vigie-Export-Truncated"] = str(truncated_at)
    return response
