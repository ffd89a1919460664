"""Research search: keyword (full text), semantic and blended, filters, pagination, highlights.

Real embeddings (the bundled model): posts go through the pipeline as in production.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from monitor.models import Flag, Post
from monitor.pipeline import posts_process
from monitor.search import (
    SearchFilters,
    SearchInputError,
    fts5_expression,
    posts_search,
    posts_similar_to_post,
    query_parse,
    search_ranked,
    text_matches,
)

KICK = ["demo-telegram-0011", "demo-telegram-0022", "demo-x-0033", "demo-facebook-0046"]
WOURO = ["demo-tiktok-0059", "demo-facebook-0077"]
OTHERS = [
    "demo-x-0002", "demo-facebook-0001", "demo-telegram-0001", "demo-x-0009", "demo-tiktok-0016",
    "demo-x-0011", "demo-x-0026", "demo-x-0028", "demo-telegram-0015", "demo-tiktok-0046",
    "demo-telegram-0033", "demo-tiktok-0056", "demo-x-0055", "demo-x-0017", "demo-telegram-0021",
    "demo-x-0078", "demo-telegram-0041", "demo-x-0056", "demo-tiktok-0025", "demo-telegram-0057",
]


def _demo_rows() -> dict[str, dict]:
    path = Path(settings.MONITOR_SEEDS_DIR) / "demo_posts.jsonl"
    return {row["id"]: row for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


@pytest.fixture
def corpus(make_post) -> dict[str, Post]:
    """Some demo posts, stored and processed (embedded, indexed, clustered, detected)."""
    rows = _demo_rows()
    posts = {}
    for external_id in KICK + WOURO + OTHERS:
        row = rows[external_id]
        posts[external_id] = make_post(
            text=row["text"], platform=row["platform"], external_id=external_id, language=row["language"],
            created_at=row["created_at"], author_handle=row["author_handle"],
        )
    posts_process(post_ids=[p.pk for p in posts.values()])
    return {k: Post.objects.get(pk=p.pk) for k, p in posts.items()}


def _ids(page) -> list[int]:
    return [hit.post.pk for hit in page.hits]


@pytest.mark.parametrize("mode", ["semantic", "both"])
def test_a_paraphrase_finds_the_post_and_its_near_duplicates_first(corpus, mode):
    page = posts_search(query="Throw all the Fulani out of Bamako, every one of them: they sheltered the attackers",
                        mode=mode, page_size=10)
    assert set(_ids(page)[: len(KICK)]) == {corpus[k].pk for k in KICK}
    assert all(hit.score is not None for hit in page.hits)


def test_an_exact_name_is_found_by_keyword_even_where_the_embedding_misses_it(corpus):
    wanted = {corpus[k].pk for k in WOURO}
    assert set(_ids(posts_search(query="Wouro-Kessé", mode="keyword", page_size=10))) == wanted
    # Accents and case do not matter to the full-text match.
    assert set(_ids(posts_search(query="wouro kesse", mode="keyword"))) == wanted
    # "Sénou" appears in one post only; the embedding of the bare name ranks another post first.
    senou = corpus["demo-telegram-0033"].pk
    assert _ids(posts_search(query="Sénou", mode="keyword")) == [senou]
    assert _ids(posts_search(query="Sénou", mode="semantic", page_size=1)) != [senou]
    # The blend puts it first: both lists rank it high, no other post is high in both.
    assert _ids(posts_search(query="Sénou", mode="both", page_size=1)) == [senou]


def test_keyword_hits_carry_escaped_ready_highlights(corpus):
    hit = posts_search(query="Wouro-Kessé", mode="keyword").hits[0]
    assert [m["text"] for m in hit.matches][:2] == ["Wouro", "Kessé"]
    marked = "".join(segment for segment, role in hit.snippet if role)
    assert "Wouro" in marked and "Kessé" in marked
    assert "".join(segment for segment, _ in hit.snippet).replace("…", "") in hit.post.text


def test_results_carry_their_cluster_and_its_size(corpus):
    page = posts_search(query="kick every last Fulani out of Bamako", mode="keyword", page_size=10)
    sizes = {hit.cluster_id: hit.cluster_size for hit in page.hits}
    assert all(cid is not None for cid in sizes)
    biggest = max(sizes, key=sizes.get)
    assert sizes[biggest] == Post.objects.filter(cluster_id=biggest).count() >= 2


def test_more_like_this_uses_the_stored_vector_and_leaves_the_post_out(corpus):
    source = corpus["demo-telegram-0011"]
    page = posts_similar_to_post(post_id=source.pk, page_size=3)
    assert source.pk not in _ids(page)
    assert set(_ids(page)) == {corpus[k].pk for k in KICK if k != "demo-telegram-0011"}


def test_semantic_search_with_a_filter_still_fills_the_page(corpus, settings):
    # Only Facebook posts: the nearest neighbours are mostly elsewhere, so FAISS must be asked deeper.
    facebook = Post.objects.filter(platform="facebook").count()
    page = posts_search(query="le prix du riz", mode="semantic", filters=SearchFilters(platform="facebook"),
                        page_size=facebook)
    assert len(page.hits) == facebook
    assert {hit.post.platform for hit in page.hits} == {"facebook"}


def test_filters_by_date_language_flag_and_cluster(corpus):
    from monitor.models import Community

    nov3 = posts_search(query="", mode="keyword", filters=SearchFilters(date_from=date(2026, 11, 3),
                                                                         date_to=date(2026, 11, 3)), page_size=200)
    assert {h.post.created_at.date() for h in nov3.hits} == {date(2026, 11, 3)}
    english = posts_search(query="Bamako", mode="keyword", filters=SearchFilters(language="en"), page_size=200)
    assert english.hits and {h.post.language for h in english.hits} == {"en"}
    target = corpus["demo-x-0033"]
    Flag.objects.filter(post=target).delete()
    Flag.objects.create(post=target, kind=Flag.Kind.INCITEMENT, community=Community.objects.get(slug="peul"),
                        category=Flag.Category.EXCLUSION, score=0.9, detector="test", status=Flag.Status.CONFIRMED)
    confirmed = posts_search(query="Fulani", mode="keyword",
                             filters=SearchFilters(flag_status="confirmed", community="peul", category="exclusion"))
    assert _ids(confirmed) == [target.pk]
    cluster = posts_search(query="", mode="both", filters=SearchFilters(cluster=target.cluster_id), page_size=50)
    assert set(_ids(cluster)) == set(Post.objects.filter(cluster_id=target.cluster_id).values_list("id", flat=True))


def test_the_claim_filter_keeps_posts_matched_to_the_claim(corpus):
    from monitor.claims.models import Claim, ClaimMatch

    claim = Claim.objects.create(text="Wouro-Kessé villagers attacked the airport", verdict="false",
                                 source_id="sha256:test-wouro")
    ClaimMatch.objects.create(post=corpus["demo-tiktok-0059"], claim=claim, score=0.9)
    ClaimMatch.objects.create(post=corpus["demo-facebook-0077"], claim=claim, score=0.8,
                              status=ClaimMatch.Status.REJECTED)
    page = posts_search(query="", mode="keyword", filters=SearchFilters(claim=claim.pk))
    assert _ids(page) == [corpus["demo-tiktok-0059"].pk]


def test_pagination_walks_the_ranked_list_without_repeats(corpus):
    pages = [posts_search(query="Bamako", mode="keyword", page=n, page_size=3) for n in (1, 2, 3)]
    assert pages[0].has_next and pages[1].has_next
    seen = [pid for page in pages for pid in _ids(page)]
    assert len(seen) == len(set(seen)) == 9
    assert [h.rank for h in pages[1].hits] == [4, 5, 6]
    everything = search_ranked(query="Bamako", mode="keyword", limit=100)
    assert seen == [pid for pid, _ in everything[:9]]
    last = posts_search(query="Bamako", mode="keyword", page=1, page_size=len(everything))
    assert not last.has_next


def test_deleted_rows_never_appear_even_while_the_index_holds_them(corpus):
    gone = corpus["demo-x-0033"]
    Post.objects.filter(pk=gone.pk).delete()  # the index still has its vector
    for mode in ("semantic", "keyword", "both"):
        page = posts_search(query="kick every last fulani out of bamako", mode=mode, page_size=20)
        assert gone.pk not in _ids(page)
        assert page.hits


HOSTILE = [
    '"', '""', '"unclosed', "AND", "OR", "NOT", "a OR", "-", "--", "-peul", "peul*", "*", "(", ")", "a AND (b",
    "NEAR(a b)", "text:peul", "col:*", "^peul", "'; DROP TABLE monitor_post; --", "%", "\\", "\x00peul",
    "peul\ud800", "\u200b", "🐍", "a" * 5000, "&|!:*<->", "peul & !", "'", "\"a\" -\"b\" or c",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_no_query_syntax_raises_a_database_error(make_post, query):
    make_post(text="Les Peuls de Sénou"), make_post(text='a "quoted" AND (bracketed) word')
    for mode in ("keyword", "both"):
        posts_search(query=query, mode=mode)


def test_fts5_expressions_quote_every_user_word():
    parsed = query_parse('chasser "les Peuls" -cafards or Fulani')
    assert parsed.groups == [["chasser", "les Peuls"], ["Fulani"]] and parsed.excluded == ["cafards"]
    assert fts5_expression(parsed) == '(("chasser" AND "les Peuls") OR ("Fulani")) NOT ("cafards")'
    assert fts5_expression(query_parse('a"b')) == '("a""b")'  # one string, the quote doubled
    assert fts5_expression(query_parse("-only")) == ""


def test_text_matches_ignore_case_and_accents_and_allow_stems():
    text = "Il faut CHASSER les Peuls ; ils chassent à Kessé."
    found = [m["text"] for m in text_matches(text=text, query="chasser kesse")]
    assert found == ["CHASSER", "chassent", "Kessé"]
    assert all(text[m["start"]:m["end"]] == m["text"] for m in text_matches(text=text, query="peuls"))


def test_bad_filters_and_modes_are_clear_errors():
    with pytest.raises(SearchInputError, match="date_from"):
        SearchFilters.from_query({"date_from": "yesterday"})
    with pytest.raises(SearchInputError, match="cluster"):
        SearchFilters.from_query({"cluster": "-1"})
    with pytest.raises(SearchInputError, match="flag_status"):
        SearchFilters.from_query({"flag_status": "maybe"})
    with pytest.raises(SearchInputError, match="mode"):
        search_ranked(query="x", mode="fuzzy", limit=1)
    assert SearchFilters.from_query({"platform": "x", "date_to": "2026-11-03"}).as_query() == {
        "platform": "x", "date_to": "2026-11-03"}
