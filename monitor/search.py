"""Research search: keyword (full text), semantic (the FAISS index) and both, over filtered posts.

``posts_search`` is the one entry point (dashboard, API and exports call it).
Keyword search runs in the database (PostgreSQL full text, or SQLite FTS5 in
the embedded mode; migration 0004). Semantic search asks the FAISS index and
then the database, which is the source of truth: a post deleted from the
database never shows, even while the index still holds its vector.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import Exists, F, OuterRef, QuerySet

from monitor.embeddings import get_embedder, vectors_from_bytes
from monitor.index import (
    IndexMismatch,
    Neighbour,
    index_for_reading,
    index_load,
    index_save,
    index_writer_lock,
)
from monitor.models import Embedding, Flag, Post
from monitor.selectors import ascii_digits, filters_as_query, flag_excerpt


def posts_similar_to_text(*, text: str, k: int = 10) -> list[Neighbour]:
    """The ``k`` indexed posts most similar to ``text``, best first (cosine similarity)."""
    index = index_for_reading()
    if index is None:
        return []
    embedder = get_embedder()
    if index.model_id != embedder.model_id:
        # Vectors from two models are not comparable: the index must be rebuilt first.
        raise RuntimeError(
            f"the index holds {index.model_id} vectors but the configured model is {embedder.model_id}; "
            "run: python manage.py rebuild_index"
        )
    return index.search(vectors=embedder.encode([text]), k=k)[0]


def posts_remove_from_index(*, post_ids: list[int]) -> int:
    """Remove posts from the saved index, so they disappear from search; return how many were removed.

    Call it once the posts are deleted from the database (``transaction.on_commit``).
    Runs under the single-writer lock and saves atomically; readers pick up the
    new file on their next search. With no readable index file there is nothing
    to do: the next writer rebuilds from the database, which no longer has them.
    """
    with index_writer_lock():
        try:
            index = index_load()
        except (IndexMismatch, RuntimeError, ValueError):
            return 0
        if index is None:
            return 0
        removed = index.remove(ids=post_ids)
        if removed:
            index_save(index)
    return removed


# ---------------------------------------------------------------------------
# Research search: keyword (full text), semantic (FAISS) and both, with filters.
# ---------------------------------------------------------------------------

MODES = ("semantic", "keyword", "both")
# Reciprocal rank fusion constant (Cormack et al. 2009): 60 damps the head of each list.
RRF_K = 60
# User queries are cut to this many characters (a query is a few words, not a post).
MAX_QUERY_CHARS = 500
# Semantic search with filters asks FAISS for this many times the rows it needs, then
# keeps those the database still has and that pass the filters; it grows k (x4) until
# it has enough or has looked at the whole index.
OVERFETCH = 5
_IN_CHUNK = 900  # ids per ``IN (...)`` (well under SQLite's parameter limit)


class SearchInputError(ValueError):
    """A search parameter the user got wrong; the message says which and why."""


class SearchUnavailable(RuntimeError):
    """Semantic search cannot answer now (e.g. the index holds another model's vectors)."""


def search_max_results() -> int:
    """How deep a ranked result list goes (pages beyond it are empty)."""
    return int(getattr(settings, "MONITOR_SEARCH_MAX_RESULTS", 1000))


class _QueryReader:
    """Strict reading of query parameters: each problem is noted with the parameter's name, and
    ``check`` raises them all together as one ``SearchInputError``."""

    def __init__(self, query) -> None:
        self.query = query
        self.errors: list[str] = []

    def _raw(self, name: str) -> str:
        return (self.query.get(name) or "").strip()

    def text(self, name: str, max_len: int) -> str:
        value = self._raw(name)
        if len(value) > max_len or _CONTROL.search(value):
            self.errors.append(f"{name}: at most {max_len} printable characters")
            return ""
        return value

    def choice(self, name: str, choices, *, max_len: int | None = None) -> str:
        value = self.text(name, max_len) if max_len is not None else self._raw(name)
        if value and value not in choices:
            self.errors.append(f"{name}: one of {', '.join(choices)}")
            return ""
        return value

    def number(self, name: str) -> int | None:
        value = self._raw(name)
        if not value:
            return None
        if not ascii_digits(value) or len(value) > 18:
            self.errors.append(f"{name}: expected a positive integer id, got {value[:40]!r}")
            return None
        return int(value)

    def day(self, name: str) -> date | None:
        value = self._raw(name)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors.append(f"{name}: expected a date YYYY-MM-DD, got {value[:40]!r}")
            return None

    def check(self) -> None:
        if self.errors:
            raise SearchInputError("; ".join(self.errors))


@dataclass(frozen=True)
class SearchFilters:
    """What a search is restricted to. Empty fields do not filter.

    ``community``, ``category`` and ``flag_status`` apply to one and the same flag
    of the post (a post "flagged for the Peul community, still open").
    ``claim`` keeps posts matched to that claim (``ClaimMatch``), rejected matches excepted.
    """

    date_from: date | None = None
    date_to: date | None = None
    platform: str = ""
    language: str = ""
    community: str = ""
    category: str = ""
    flag_status: str = ""
    cluster: int | None = None
    claim: int | None = None

    @classmethod
    def from_query(cls, query) -> "SearchFilters":
        """Parse query parameters strictly: a malformed value raises ``SearchInputError``."""
        read = _QueryReader(query)
        category = read.choice("category", Flag.Category.values, max_len=32)
        flag_status = read.choice("flag_status", Flag.Status.values, max_len=16)
        filters = cls(
            date_from=read.day("date_from"),
            date_to=read.day("date_to"),
            platform=read.text("platform", 32),
            language=read.text("language", 8),
            community=read.text("community", 64),
            category=category,
            flag_status=flag_status,
            cluster=read.number("cluster"),
            claim=read.number("claim"),
        )
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            read.errors.append("date_from: after date_to")
        read.check()
        return filters

    def as_query(self) -> dict[str, str]:
        """The set filters as query parameters (for pagination and export links)."""
        return filters_as_query(self)

    def is_empty(self) -> bool:
        return not self.as_query()


def posts_filtered(filters: SearchFilters | None = None) -> QuerySet[Post]:
    """The posts passing ``filters`` (every post when there are none)."""
    posts = Post.objects.all()
    if filters is None:
        return posts
    if filters.date_from:
        posts = posts.filter(created_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=UTC))
    if filters.date_to:
        # Inclusive: the whole of the last day.
        posts = posts.filter(
            created_at__lt=datetime.combine(filters.date_to, time.min, tzinfo=UTC) + timedelta(days=1)
        )
    if filters.platform:
        posts = posts.filter(platform=filters.platform)
    if filters.language:
        posts = posts.filter(language=filters.language)
    if filters.cluster is not None:
        posts = posts.filter(cluster_id=filters.cluster)
    if filters.community or filters.category or filters.flag_status:
        flags = Flag.objects.filter(post=OuterRef("pk"))
        if filters.community:
            flags = flags.filter(community__slug=filters.community)
        if filters.category:
            flags = flags.filter(category=filters.category)
        if filters.flag_status:
            flags = flags.filter(status=filters.flag_status)
        posts = posts.filter(Exists(flags))
    if filters.claim is not None:
        from monitor.claims.models import ClaimMatch

        matches = ClaimMatch.objects.filter(post=OuterRef("pk"), claim_id=filters.claim).exclude(
            status=ClaimMatch.Status.REJECTED
        )
        posts = posts.filter(Exists(matches))
    return posts


# --- keyword search ----------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_QUERY_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


def _clean_query(query: str) -> str:
    """The query without control characters or lone surrogates, cut to ``MAX_QUERY_CHARS``."""
    return " ".join(_CONTROL.sub(" ", query or "").split())[:MAX_QUERY_CHARS]


@dataclass
class ParsedQuery:
    """A web-search style query: OR-groups of phrases that must all match, and excluded phrases."""

    groups: list[list[str]]
    excluded: list[str]

    def terms(self) -> list[str]:
        """The words to highlight: every word of every wanted phrase."""
        words = []
        for group in self.groups:
            for phrase in group:
                words.extend(_WORD.findall(phrase))
        return words


def query_parse(query: str) -> ParsedQuery:
    """Parse ``words "a phrase" -excluded or other`` the way PostgreSQL's websearch_to_tsquery does."""
    groups: list[list[str]] = [[]]
    excluded: list[str] = []
    for match in _QUERY_TOKEN.finditer(_clean_query(query)):
        negated, phrase, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            if word.lower() == "or":
                if groups[-1]:
                    groups.append([])
                continue
            negated, phrase = ("-", word[1:]) if word.startswith("-") and len(word) > 1 else ("", word)
        if not _WORD.search(phrase or ""):
            continue  # punctuation alone: no token to match
        (excluded if negated else groups[-1]).append(phrase)
    return ParsedQuery(groups=[g for g in groups if g], excluded=excluded)


def _fts5_string(phrase: str) -> str:
    # Inside double quotes FTS5 reads everything as text to tokenize; a quote is doubled.
    return '"' + phrase.replace('"', '""') + '"'


def fts5_expression(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH expression for a parsed query: every user word quoted, so no syntax error is possible."""
    if not parsed.groups:
        return ""
    expression = " OR ".join("(" + " AND ".join(_fts5_string(p) for p in group) + ")" for group in parsed.groups)
    if parsed.excluded:
        expression = f"({expression}) NOT (" + " OR ".join(_fts5_string(p) for p in parsed.excluded) + ")"
    return expression


# The text search configurations migration 0004 indexed: accent-folding copies when the
# unaccent extension was available, else PostgreSQL's own.
PG_CONFIGS_UNACCENT = ("vigie_french", "english", "vigie_simple")
PG_CONFIGS_PLAIN = ("french", "english", "simple")
_pg_configs_cache: dict[str, tuple[str, ...]] = {}


def _pg_configs() -> tuple[str, ...]:
    """The configurations to query (those migration 0004 indexed), looked up once per database."""
    key = str(connection.settings_dict.get("NAME"))
    if key not in _pg_configs_cache:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_ts_config WHERE cfgname IN ('vigie_french', 'vigie_simple')")
            found = cursor.fetchone()[0]
        _pg_configs_cache[key] = PG_CONFIGS_UNACCENT if found == 2 else PG_CONFIGS_PLAIN
    return _pg_configs_cache[key]


def _keyword_ranked(*, query: str, posts: QuerySet[Post] | None, limit: int) -> list[tuple[int, float]]:
    """``(post id, rank)`` of the posts matching ``query``, best first; higher rank is better.

    PostgreSQL: the query goes through ``websearch_to_tsquery`` (which accepts
    any input) for the French, English and simple configurations (accent-folding
    where migration 0004 could make them so), against the
    same expressions the GIN indexes of migration 0004 hold; the rank is the sum
    of the three ``ts_rank_cd``, so a word matching as written (simple) counts
    more than one matching only after stemming. SQLite: the FTS5 table, with a
    MATCH expression in which every user word is a quoted string; rank is -bm25.
    """
    cleaned = _clean_query(query)
    if not cleaned or limit <= 0:
        return []
    inner_sql, restrict_params = "", []
    if posts is not None and posts.query.where:
        inner_sql, inner_params = posts.values("id").query.sql_with_params()
        restrict_params = list(inner_params)

    def restrict(column: str) -> str:
        return f" AND {column} IN ({inner_sql})" if inner_sql else ""

    vendor = connection.vendor
    if vendor == "postgresql":
        configs = _pg_configs()
        vectors = [f"to_tsvector('{c}'::regconfig, p.text)" for c in configs]
        queries = [f"websearch_to_tsquery('{c}'::regconfig, %s)" for c in configs]
        match = " OR ".join(f"{v} @@ {q}" for v, q in zip(vectors, queries))
        rank = " + ".join(f"ts_rank_cd({v}, {q})" for v, q in zip(vectors, queries))
        sql = (
            f"SELECT p.id, ({rank}) AS rank FROM monitor_post p WHERE ({match})"
            + restrict("p.id")
            + " ORDER BY rank DESC, p.id DESC LIMIT %s"
        )
        params = [cleaned] * 3 + [cleaned] * 3 + restrict_params + [limit]
    elif vendor == "sqlite":
        expression = fts5_expression(query_parse(cleaned))
        if not expression:
            return []
        sql = (
            "SELECT rowid, -bm25(monitor_post_fts) AS rank FROM monitor_post_fts WHERE monitor_post_fts MATCH %s"
            + restrict("+rowid")  # "+": filter the FTS matches, never drive the scan
            + " ORDER BY rank DESC, rowid DESC LIMIT %s"
        )
        params = [expression] + restrict_params + [limit]
    else:  # pragma: no cover - Vigie runs on PostgreSQL or SQLite
        raise SearchUnavailable(f"keyword search is not available on {vendor}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(pid), float(rank)) for pid, rank in cursor.fetchall()]


# --- highlighting ------------------------------------------------------------


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _same_word(word: str, term: str) -> bool:
    # Stemmed search matches "chassent" for "chasser": a shared stem of 4+ letters counts here too.
    if word == term:
        return True
    if len(word) < 4 or len(term) < 4:
        return False
    stem = max(4, min(len(word), len(term)) - 3)
    return word[:stem] == term[:stem]


def text_matches(*, text: str, query: str, limit: int = 200) -> list[dict]:
    """Where the query's words occur in ``text``: ``[{"start", "end", "text"}]`` (character offsets).

    Case and accents are ignored, and a word sharing a stem of 4+ letters with a
    query word counts, as full-text search stems too. Offsets index ``text``.
    """
    terms = {_fold(t) for t in query_parse(query).terms()}
    if not terms or not text:
        return []
    found = []
    for match in _WORD.finditer(text):
        folded = _fold(match.group())
        if any(_same_word(folded, term) for term in terms):
            found.append({"start": match.start(), "end": match.end(), "text": match.group()})
            if len(found) >= limit:
                break
    return found


# --- semantic search ---------------------------------------------------------


def _index_or_none():
    return index_for_reading()


def _query_vector(text: str) -> np.ndarray | None:
    index = _index_or_none()
    if index is None:
        return None
    embedder = get_embedder()
    if index.model_id != embedder.model_id:
        raise SearchUnavailable(
            f"the index holds {index.model_id} vectors but the configured model is {embedder.model_id}; "
            "run: python manage.py rebuild_index"
        )
    return embedder.encode([_clean_query(text)])[0]


def _post_vector(post_id: int) -> np.ndarray | None:
    """The stored vector of a post, when it has one made by the index's model."""
    index = _index_or_none()
    embedding = Embedding.objects.filter(post_id=post_id).first()
    if index is None or embedding is None:
        return None
    if embedding.model_id != index.model_id:
        raise SearchUnavailable(
            f"post {post_id} was embedded with {embedding.model_id}, the index holds {index.model_id}; "
            "run: python manage.py rebuild_index"
        )
    return vectors_from_bytes([embedding.vector], dim=embedding.dim)[0]


def _existing(ids: list[int], posts: QuerySet[Post]) -> set[int]:
    present: set[int] = set()
    for start in range(0, len(ids), _IN_CHUNK):
        present.update(posts.filter(pk__in=ids[start : start + _IN_CHUNK]).values_list("id", flat=True))
    return present


def _semantic_ranked(
    *, vector: np.ndarray | None, posts: QuerySet[Post], limit: int, exclude: frozenset[int] = frozenset()
) -> list[tuple[int, float]]:
    """``(post id, cosine)`` of the nearest posts that pass the filters and still exist, best first.

    The index knows nothing of filters, and may still hold posts deleted from
    the database: ask it for ``OVERFETCH`` times ``limit``, keep the ids the
    filtered queryset has, and ask again with four times k until there are
    enough or k covers the whole index.
    """
    index = _index_or_none()
    if vector is None or index is None or limit <= 0 or len(index) == 0:
        return []
    k = min(len(index), max(limit * OVERFETCH, 50))
    query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
    while True:
        neighbours = [n for n in index.search(vectors=query, k=k)[0] if n.post_id not in exclude]
        present = _existing([n.post_id for n in neighbours], posts)
        kept = [(n.post_id, n.score) for n in neighbours if n.post_id in present]
        if len(kept) >= limit or k >= len(index):
            return kept[:limit]
        k = min(len(index), k * 4)


def _fuse(*ranked_lists: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each list gives a post 1 / (RRF_K + rank); best total first."""
    scores: dict[int, float] = {}
    for ranked in ranked_lists:
        for position, (pid, _) in enumerate(ranked, start=1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (RRF_K + position)
    return sorted(scores.items(), key=lambda item: (-item[1], -item[0]))


# --- the one entry point -----------------------------------------------------


@dataclass
class SearchHit:
    """One result: the post, its score (cosine, text rank or fused), where the query matched."""

    post: Post
    score: float | None
    rank: int
    matches: list[dict]
    snippet: list[tuple[str, str | None]]
    cluster_id: int | None
    cluster_size: int


@dataclass
class SearchPage:
    hits: list[SearchHit]
    page: int
    page_size: int
    has_next: bool
    mode: str
    query: str


def search_ranked(
    *, query: str, mode: str, filters: SearchFilters | None = None, limit: int, like_post: int | None = None
) -> list[tuple[int, float | None]]:
    """The ranked ``(post id, score)`` list of a search, at most ``limit`` long. Steps:

    1. ``like_post`` ("more like this"): the post's stored vector against the index,
       the post itself left out; ``query`` and ``mode`` are ignored.
    2. No query: the filtered posts, newest first (score None).
    3. ``keyword``: full-text rank; ``semantic``: cosine to the query's embedding;
       ``both``: reciprocal rank fusion of the two lists, each taken to ``limit``.
    """
    if mode not in MODES:
        raise SearchInputError(f"mode: one of {', '.join(MODES)}")
    posts = posts_filtered(filters)
    if like_post is not None:
        return _semantic_ranked(
            vector=_post_vector(like_post), posts=posts, limit=limit, exclude=frozenset([like_post])
        )
    cleaned = _clean_query(query)
    if not cleaned:
        ordered = posts.order_by(F("created_at").desc(nulls_last=True), "-id")
        return [(pid, None) for pid in ordered.values_list("id", flat=True)[:limit]]
    restrict = posts if filters is not None and not filters.is_empty() else None
    if mode == "keyword":
        return _keyword_ranked(query=cleaned, posts=restrict, limit=limit)
    semantic = _semantic_ranked(vector=_query_vector(cleaned), posts=posts, limit=limit)
    if mode == "semantic":
        return semantic
    keyword = _keyword_ranked(query=cleaned, posts=restrict, limit=limit)
    return _fuse(semantic, keyword)[:limit]


def search_hits(
    *, ranked: list[tuple[int, float | None]], query: str, first_rank: int = 1, highlight: bool = True
) -> list[SearchHit]:
    """Load the ranked posts (one query per chunk) and mark where the query matched; order kept.

    Ids the database no longer has are skipped: the index may lag a deletion.
    """
    ids = [pid for pid, _ in ranked]
    posts: dict[int, Post] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        posts.update((p.pk, p) for p in Post.objects.filter(pk__in=chunk).select_related("cluster"))
    hits = []
    for offset, (pid, score) in enumerate(ranked):
        post = posts.get(pid)
        if post is None:
            continue
        matches = text_matches(text=post.text, query=query) if highlight else []
        hits.append(
            SearchHit(
                post=post,
                score=None if score is None else round(float(score), 5),
                rank=first_rank + offset,
                matches=matches,
                snippet=flag_excerpt(text=post.text, evidence=[dict(m, role="hit") for m in matches])
                if highlight
                else [],
                cluster_id=post.cluster_id,
                cluster_size=post.cluster.size if post.cluster_id else 0,
            )
        )
    return hits


def _page_window(page: int, page_size: int) -> tuple[int, int]:
    if page < 1:
        raise SearchInputError("page: must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise SearchInputError(f"page_size: between 1 and {MAX_PAGE_SIZE}")
    return (page - 1) * page_size, page * page_size


MAX_PAGE_SIZE = 200


def posts_search(
    *,
    query: str,
    mode: str = "both",
    filters: SearchFilters | None = None,
    page: int = 1,
    page_size: int = 20,
    like_post: int | None = None,
) -> SearchPage:
    """One page of a search (see ``search_ranked``), hits loaded with their matches and cluster.

    Ranked lists go at most ``MONITOR_SEARCH_MAX_RESULTS`` deep; one extra row
    is fetched to tell whether a next page exists, so no COUNT is needed.
    """
    start, end = _page_window(page, page_size)
    depth = min(end + 1, search_max_results())
    ranked = search_ranked(query=query, mode=mode, filters=filters, limit=depth, like_post=like_post)
    window = ranked[start:end]
    return SearchPage(
        hits=search_hits(ranked=window, query=query, first_rank=start + 1),
        page=page,
        page_size=page_size,
        has_next=len(ranked) > end and end < search_max_results(),
        mode="semantic" if like_post is not None else mode,
        query=_clean_query(query),
    )


def posts_similar_to_post(
    *, post_id: int, filters: SearchFilters | None = None, page: int = 1, page_size: int = 20
) -> SearchPage:
    """"More like this": the posts nearest to a post's stored embedding, the post left out."""
    return posts_search(query="", mode="semantic", filters=filters, page=page, page_size=page_size, like_post=post_id)


# --- flags, for the API -------------------------------------------------------


@dataclass(frozen=True)
class FlagFilters:
    """What a flag list is restricted to; empty fields do not filter."""

    status: str = ""
    kind: str = ""
    category: str = ""
    community: str = ""
    platform: str = ""
    language: str = ""
    cluster: int | None = None
    post: int | None = None

    @classmethod
    def from_query(cls, query) -> "FlagFilters":
        """Parse query parameters strictly: a malformed value raises ``SearchInputError``."""
        read = _QueryReader(query)
        filters = cls(
            status=read.choice("status", Flag.Status.values),
            kind=read.choice("kind", Flag.Kind.values),
            category=read.choice("category", Flag.Category.values),
            community=read.text("community", 64),
            platform=read.text("platform", 32),
            language=read.text("language", 8),
            cluster=read.number("cluster"),
            post=read.number("post"),
        )
        read.check()
        return filters


def flags_filtered(filters: FlagFilters | None = None) -> QuerySet[Flag]:
    """Flags passing ``filters``, newest first, with their post, cluster and community loaded."""
    flags = Flag.objects.select_related("post", "post__cluster", "community").order_by("-created_at", "-id")
    if filters is None:
        return flags
    for name, lookup in (("status", "status"), ("kind", "kind"), ("category", "category"),
                         ("community", "community__slug"), ("platform", "post__platform"),
                         ("language", "post__language"), ("cluster", "post__cluster_id"), ("post", "post_id")):
        value = getattr(filters, name)
        if value not in ("", None):
            flags = flags.filter(**{lookup: value})
    return flags
