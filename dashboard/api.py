"""REST API endpoints (``/api/v1/``): thin translation to ``monitor`` services and selectors.

Reading needs a role with ``monitor.view_post`` (researcher, reviewer, lead,
admin) and, for flags, ``monitor.view_flag``. Authors appear only as their
pseudonym: no serializer here has a field for the handle or the raw payload.
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db.models import F, Prefetch
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitor.deletion import posts_delete
from monitor.ingest import RecordError, posts_ingest, record_from_dict
from monitor.models import Flag, Post
from monitor.search import (
    MAX_PAGE_SIZE,
    MODES,
    FlagFilters,
    SearchFilters,
    SearchInputError,
    SearchPage,
    SearchUnavailable,
    flags_filtered,
    posts_filtered,
    posts_search,
    posts_similar_to_post,
)
from monitor.selectors import ascii_digits

MAX_ERRORS_RETURNED = 100


# --- permissions ---------------------------------------------------------------


def _has(request, perm: str) -> bool:
    user = request.user
    return bool(user and user.is_authenticated and user.has_perm(perm))


class CanSubmitPosts(BasePermission):
    message = "This token's user may not submit posts (needs the 'ingest' or 'admin' role)."

    def has_permission(self, request, view) -> bool:
        return _has(request, "monitor.add_post")


class CanReadPosts(BasePermission):
    message = "This token's user may not read posts (needs the researcher, reviewer, lead or admin role)."

    def has_permission(self, request, view) -> bool:
        return _has(request, "monitor.view_post")


class CanReadFlags(BasePermission):
    message = "This token's user may not read flags (needs the researcher, reviewer, lead or admin role)."

    def has_permission(self, request, view) -> bool:
        return _has(request, "monitor.view_flag")


class CanDeletePosts(BasePermission):
    message = "Only the admin role may delete posts."

    def has_permission(self, request, view) -> bool:
        return _has(request, "monitor.delete_post")


# --- serializers (output only) ------------------------------------------------------


class FlagBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    score = serializers.FloatField()
    community = serializers.CharField(source="community.slug", allow_null=True)


class PostSerializer(serializers.Serializer):
    """A post as researchers see it: pseudonymous author, no handle, no raw payload."""

    id = serializers.IntegerField()
    platform = serializers.CharField()
    external_id = serializers.CharField()
    url = serializers.CharField()
    text = serializers.CharField()
    language = serializers.CharField()
    created_at = serializers.DateTimeField(allow_null=True)
    ingested_at = serializers.DateTimeField()
    author_pseudonym = serializers.CharField()
    likes = serializers.IntegerField()
    shares = serializers.IntegerField()
    replies = serializers.IntegerField()
    views = serializers.IntegerField()
    status = serializers.CharField()
    cluster_id = serializers.IntegerField(allow_null=True)
    cluster_size = serializers.SerializerMethodField()
    flags = serializers.SerializerMethodField()

    def get_cluster_size(self, post) -> int:
        return post.cluster.size if post.cluster_id else 0

    @extend_schema_field(FlagBriefSerializer(many=True))
    def get_flags(self, post) -> list[dict]:
        # Flags only for users who may read them (researchers may: monitor.view_flag).
        if not self.context.get("show_flags"):
            return []
        return FlagBriefSerializer(post.flags.all(), many=True).data


class FlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    category = serializers.CharField()
    categories = serializers.JSONField()
    community = serializers.CharField(source="community.slug", allow_null=True)
    score = serializers.FloatField()
    evidence = serializers.JSONField()
    detector = serializers.CharField()
    status = serializers.CharField()
    priority = serializers.FloatField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    post = PostSerializer()


class MatchSerializer(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    text = serializers.CharField()


class SearchHitSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)
    matches = MatchSerializer(many=True)
    cluster_id = serializers.IntegerField(allow_null=True)
    cluster_size = serializers.IntegerField()
    post = PostSerializer()


class SearchPageSerializer(serializers.Serializer):
    query = serializers.CharField()
    mode = serializers.CharField()
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    has_next = serializers.BooleanField()
    results = SearchHitSerializer(many=True, source="hits")


def _paginated(item: serializers.Serializer, name: str):
    return inline_serializer(name=name, fields={
        "count": serializers.IntegerField(),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": item,
    })


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=``; the limit defaults to ``MONITOR_API_PAGE_SIZE`` and stops at ``MONITOR_API_MAX_PAGE_SIZE``."""

    @property
    def default_limit(self) -> int:
        return settings.MONITOR_API_PAGE_SIZE

    @property
    def max_limit(self) -> int:
        return settings.MONITOR_API_MAX_PAGE_SIZE


# --- parameters, for the schema ------------------------------------------------------


def _param(name: str, type_=OpenApiTypes.STR, description: str = "", **kwargs) -> OpenApiParameter:
    return OpenApiParameter(name, type_, OpenApiParameter.QUERY, description=description, **kwargs)


POST_FILTER_PARAMS = [
    _param("date_from", OpenApiTypes.DATE, "posts created on or after this day (UTC)"),
    _param("date_to", OpenApiTypes.DATE, "posts created on or before this day (UTC)"),
    _param("platform", description="x, facebook, telegram, tiktok, ..."),
    _param("language", description="ISO 639 code of the detected language"),
    _param("community", description="slug of the community a flag of the post targets"),
    _param("category", enum=Flag.Category.values, description="category of a flag of the post"),
    _param("flag_status", enum=Flag.Status.values, description="status of a flag of the post"),
    _param("cluster", OpenApiTypes.INT, "cluster id"),
    _param("claim", OpenApiTypes.INT, "claim id: posts matched to it (rejected matches excepted)"),
]
PAGE_PARAMS = [
    _param("page", OpenApiTypes.INT, "page number, from 1"),
    _param("page_size", OpenApiTypes.INT, f"results per page, 1 to {MAX_PAGE_SIZE} (default 20)"),
]
FLAG_FILTER_PARAMS = [
    _param("status", enum=Flag.Status.values),
    _param("kind", enum=Flag.Kind.values),
    _param("category", enum=Flag.Category.values),
    _param("community", description="community slug"),
    _param("platform"),
    _param("language"),
    _param("cluster", OpenApiTypes.INT),
    _param("post", OpenApiTypes.INT, "post id"),
]
ERROR = inline_serializer(name="Error", fields={"detail": serializers.CharField()})
READ_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 429: ERROR}


def _bad_request(exc: Exception) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)


def _unavailable(exc: Exception) -> Response:
    return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)


def _positive(query, name: str, default: int) -> int:
    value = (query.get(name) or "").strip()
    if not value:
        return default
    if not ascii_digits(value) or len(value) > 9:
        raise SearchInputError(f"{name}: expected a positive integer, got {value[:40]!r}")
    return int(value)


def _posts_queryset(request):
    posts = Post.objects.select_related("cluster")
    if _has(request, "monitor.view_flag"):
        posts = posts.prefetch_related(Prefetch("flags", queryset=Flag.objects.select_related("community")))
    return posts


def _context(request) -> dict:
    return {"request": request, "show_flags": _has(request, "monitor.view_flag")}


def _search_response(request: Request, search: Callable[[SearchFilters, int, int], SearchPage]) -> Response:
    """Run ``search(filters, page, page_size)`` with the request's filters and paging: 400 on bad input,
    503 when the vector index cannot answer."""
    query = request.query_params
    try:
        page = search(SearchFilters.from_query(query), _positive(query, "page", 1), _positive(query, "page_size", 20))
    except SearchInputError as exc:
        return _bad_request(exc)
    except SearchUnavailable as exc:
        return _unavailable(exc)
    return Response(SearchPageSerializer(page, context=_context(request)).data)


# --- posts ----------------------------------------------------------------------------


class PostsView(APIView):
    """``GET``: posts, newest first, with filters. ``POST``: submit a batch (the ingest role)."""

    def get_permissions(self):
        return [CanSubmitPosts()] if self.request.method == "POST" else [CanReadPosts()]

    @extend_schema(
        operation_id="posts_list",
        parameters=POST_FILTER_PARAMS + [_param("limit", OpenApiTypes.INT), _param("offset", OpenApiTypes.INT)],
        responses={200: _paginated(PostSerializer(many=True), "PaginatedPosts"), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        try:
            filters = SearchFilters.from_query(request.query_params)
        except SearchInputError as exc:
            return _bad_request(exc)
        ids = posts_filtered(filters).order_by(F("created_at").desc(nulls_last=True), "-id").values("id")
        posts = _posts_queryset(request).filter(pk__in=ids).order_by(F("created_at").desc(nulls_last=True), "-id")
        paginator = Pagination()
        rows = paginator.paginate_queryset(posts, request, view=self)
        return paginator.get_paginated_response(PostSerializer(rows, many=True, context=_context(request)).data)

    @extend_schema(
        operation_id="posts_create",
        request=inline_serializer(name="PostBatch", fields={"posts": serializers.ListField(child=serializers.DictField())}),
        responses={202: inline_serializer(name="PostBatchResult", fields={
            "received": serializers.IntegerField(), "new": serializers.IntegerField(),
            "duplicate": serializers.IntegerField(), "rejected": serializers.IntegerField(),
            "errors": serializers.ListField(child=serializers.DictField()),
        }), 400: ERROR, 401: ERROR, 403: ERROR, 413: ERROR, 429: ERROR},
    )
    def post(self, request: Request) -> Response:
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
                {"detail": "no valid post in the batch", "rejected": len(errors),
                 "errors": errors[:MAX_ERRORS_RETURNED]},
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


class PostDetailView(APIView):
    """``GET``: one post. ``DELETE``: delete it for good (admin only; audited; leaves the index on commit)."""

    def get_permissions(self):
        return [CanDeletePosts()] if self.request.method == "DELETE" else [CanReadPosts()]

    @extend_schema(operation_id="posts_retrieve", responses={200: PostSerializer, 404: ERROR, **READ_ERRORS})
    def get(self, request: Request, post_id: int) -> Response:
        post = _posts_queryset(request).filter(pk=post_id).first()
        if post is None:
            raise Http404
        return Response(PostSerializer(post, context=_context(request)).data)

    @extend_schema(operation_id="posts_destroy", responses={204: None, 404: ERROR, **READ_ERRORS})
    def delete(self, request: Request, post_id: int) -> Response:
        if not posts_delete(post_ids=[post_id], actor=request.user):
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


class PostSimilarView(APIView):
    """Posts nearest to this post's stored embedding ("more like this"), with the search filters."""

    permission_classes = [CanReadPosts]

    @extend_schema(
        operation_id="posts_similar",
        parameters=POST_FILTER_PARAMS + PAGE_PARAMS,
        responses={200: SearchPageSerializer, 404: ERROR, 503: ERROR, **READ_ERRORS},
    )
    def get(self, request: Request, post_id: int) -> Response:
        if not Post.objects.filter(pk=post_id).exists():
            raise Http404
        return _search_response(request, lambda filters, page, page_size: posts_similar_to_post(
            post_id=post_id, filters=filters, page=page, page_size=page_size,
        ))


class SearchView(APIView):
    """Keyword, semantic or blended search over posts, with filters; see the README, "Search and research"."""

    permission_classes = [CanReadPosts]

    @extend_schema(
        operation_id="search",
        parameters=[
            _param("q", description="the query; web-search syntax in keyword mode: \"a phrase\", -word, or"),
            _param("mode", enum=list(MODES), description="semantic, keyword or both (default: both)"),
            *POST_FILTER_PARAMS,
            *PAGE_PARAMS,
        ],
        responses={200: SearchPageSerializer, 503: ERROR, **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params
        return _search_response(request, lambda filters, page, page_size: posts_search(
            query=query.get("q") or "", mode=query.get("mode") or "both", filters=filters, page=page,
            page_size=page_size,
        ))


# --- flags ------------------------------------------------------------------------------


class FlagsView(APIView):
    permission_classes = [CanReadFlags]

    @extend_schema(
        operation_id="flags_list",
        parameters=FLAG_FILTER_PARAMS + [_param("limit", OpenApiTypes.INT), _param("offset", OpenApiTypes.INT)],
        responses={200: _paginated(FlagSerializer(many=True), "PaginatedFlags"), **READ_ERRORS},
    )
    def get(self, request: Request) -> Response:
        try:
            flags = flags_filtered(FlagFilters.from_query(request.query_params))
        except SearchInputError as exc:
            return _bad_request(exc)
        paginator = Pagination()
        rows = paginator.paginate_queryset(flags, request, view=self)
        return paginator.get_paginated_response(FlagSerializer(rows, many=True, context={"request": request}).data)


class FlagDetailView(APIView):
    permission_classes = [CanReadFlags]

    @extend_schema(operation_id="flags_retrieve", responses={200: FlagSerializer, 404: ERROR, **READ_ERRORS})
    def get(self, request: Request, flag_id: int) -> Response:
        flag = flags_filtered().filter(pk=flag_id).first()
        if flag is None:
            raise Http404
        return Response(FlagSerializer(flag, context={"request": request}).data)
