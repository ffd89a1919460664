"""The research search page and its CSV / JSON-lines exports."""
from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from monitor.exports import csv_safe

URL = "/search/"


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _body(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.parametrize(("persona", "expected"), [
    ("anonymous", 302), ("reviewer", 200), ("lead", 200), ("researcher", 200), ("outsider", 403),
])
def test_who_may_search_and_export(persona, expected, request, db):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    assert _client(user).get(URL, {"q": "Bamako"}).status_code == expected
    assert _client(user).get("/search/export.csv", {"q": "Bamako"}).status_code == expected


def test_the_nav_shows_search_to_researchers_only(researcher, outsider):
    assert 'href="/search/"' in _client(researcher).get("/settings/").content.decode()
    assert 'href="/search/"' not in _client(outsider).get("/settings/").content.decode()


def test_results_are_escaped_and_highlighted(researcher, make_post):
    post = make_post(text='<script>alert("x")</script> les Peuls <b>de</b> Sénou')
    html = _client(researcher).get(URL, {"q": "Sénou", "mode": "keyword"}).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;de&lt;/b&gt;" in html
    assert '<mark class="hit hit-hit" title="hit">Sénou</mark>' in html
    assert f'href="/search/?like={post.pk}"' in html


def test_pagination_links_keep_the_query_and_filters(researcher, make_post):
    for n in range(25):
        make_post(text=f"Coupure d'électricité numéro {n}", platform="x")
    html = _client(researcher).get(URL, {"q": "coupure", "mode": "keyword", "platform": "x"}).content.decode()
    assert html.count('class="search-hit"') == 20
    assert 'rel="next" href="?q=coupure&amp;mode=keyword&amp;platform=x&amp;page=2"' in html
    second = _client(researcher).get(URL, {"q": "coupure", "mode": "keyword", "platform": "x", "page": 2})
    assert second.content.decode().count('class="search-hit"') == 5


def test_a_bad_filter_is_a_clear_error(researcher):
    response = _client(researcher).get(URL, {"q": "x", "date_from": "hier"})
    assert response.status_code == 400 and "date_from" in response.content.decode()


def test_the_page_runs_a_bounded_number_of_queries(researcher, make_flag, django_assert_max_num_queries):
    for n in range(30):
        make_flag(text=f"Il faut chasser les Peuls du quartier {n}")
    client = _client(researcher)
    with django_assert_max_num_queries(12):
        response = client.get(URL, {"q": "Peuls", "mode": "keyword", "community": "peul", "flag_status": "open"})
    assert response.content.decode().count('class="search-hit"') == 20


def test_the_csv_export_neutralises_formulas_and_shows_only_pseudonyms(researcher, make_post):
    hostile = ["=HYPERLINK(\"http://evil\")", "+33 Peuls", "-Peuls", "@Peuls", "\tPeuls", "\rPeuls"]
    for n, text in enumerate(hostile):
        make_post(text=text, author_handle=f"secret_handle_{n}", external_id=f"=cmd|{n}", raw={"h": "secret"})
    response = _client(researcher).get("/search/export.csv", {"q": "Peuls", "mode": "keyword"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "X-Vigie-Export-Truncated" not in response
    body = _body(response)
    assert "secret" not in body
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 5  # "=HYPERLINK(...)" has no "Peuls"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
        assert row["external_id"].startswith("'=cmd|")
        assert row["author_pseudonym"] and "author_handle" not in row
    assert {row["text"] for row in rows} == {"'" + t for t in hostile[1:]}


def test_the_export_stops_at_the_cap_and_says_so(researcher, make_post, settings):
    settings.MONITOR_EXPORT_MAX_ROWS = 3
    for n in range(5):
        make_post(text=f"riz {n}")
    csv_response = _client(researcher).get("/search/export.csv", {"q": "riz", "mode": "keyword"})
    assert csv_response["X-Vigie-Export-Truncated"] == "3"
    lines = _body(csv_response).splitlines()
    assert len(lines) == 1 + 3 + 1 and lines[-1].startswith("# truncated: more than 3 rows")
    jsonl_response = _client(researcher).get("/search/export.jsonl", {"q": "", "mode": "both"})
    records = [json.loads(line) for line in _body(jsonl_response).splitlines()]
    assert len(records) == 4 and records[-1]["truncated"] is True and records[-1]["limit"] == 3
    assert [r["rank"] for r in records[:3]] == [1, 2, 3]
    assert all("author_handle" not in r and "raw" not in r for r in records)


def test_export_of_a_filter_alone_lists_every_matching_post(researcher, make_post):
    for n in range(4):
        make_post(text=f"message {n}", platform="telegram" if n % 2 else "x")
    records = [json.loads(line) for line in _body(
        _client(researcher).get("/search/export.jsonl", {"platform": "telegram"})).splitlines()]
    assert {r["platform"] for r in records} == {"telegram"} and len(records) == 2


def test_csv_safe_is_the_one_rule_the_claim_export_uses_too():
    from monitor.claims import selectors

    assert selectors.csv_safe is csv_safe
    assert [csv_safe(v) for v in ("=1", "+1", "-1", "@a", "\tx", "\rx", "ok", None, 3)] == [
        "'=1", "'+1", "'-1", "'@a", "'\tx", "'\rx", "ok", "", "3"]


def test_digits_that_are_not_ascii_are_a_clear_error(researcher):
    for params in ({"q": "x", "page": "²"}, {"q": "x", "like": "²"}, {"q": "x", "cluster": "²"}):
        assert _client(researcher).get(URL, params).status_code == 400
