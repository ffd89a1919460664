"""monitor/importers.py: sniffing formats and reading files into import items."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from monitor.importers import (
    ImportFileError,
    ImportItem,
    ImportSummary,
    detect_format,
    iter_import_items,
    posts_ingest_items,
)
from monitor.ingest import record_from_dict
from monitor.models import Post

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _items(path: Path, fmt: str) -> list[ImportItem]:
    return list(iter_import_items(path, fmt=fmt))


def _by_position(items: list[ImportItem]) -> dict[str, ImportItem]:
    return {item.position: item for item in items}


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# --- detect_format --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("posts.jsonl", "jsonl"),
        ("posts.csv", "csv"),
        ("telegram_single.json", "telegram"),
        ("telegram_full.json", "telegram"),
        ("x_pages.jsonl", "x"),
        ("x_page.json", "x"),
    ],
)
def test_it_detects_the_format_of_each_fixture(name, expected):
    assert detect_format(FIXTURES / name) == expected


@pytest.mark.parametrize(
    ("name", "expected"), [("x_pages.jsonl", "x"), ("telegram_single.json", "telegram"), ("x_page.json", "x")]
)
def test_it_detects_the_format_from_a_first_line_longer_than_it_reads(monkeypatch, name, expected):
    # A page of 500 tweets is one line of megabytes; the sniffer sees only its start.
    monkeypatch.setattr("monitor.importers.SNIFF_BYTES", 120)
    assert detect_format(FIXTURES / name) == expected


def test_it_detects_a_one_line_telegram_export(tmp_path):
    document = json.loads((FIXTURES / "telegram_single.json").read_text(encoding="utf-8"))
    path = _write(tmp_path, "result.json", json.dumps(document))
    assert detect_format(path) == "telegram"


def test_it_detects_x_when_the_first_lines_are_api_errors(tmp_path):
    error = {"errors": [{"title": "Not Found Error", "detail": "gone", "resource_id": "1"}]}
    page = {"data": [{"id": "2", "text": "bonjour"}]}
    path = _write(tmp_path, "tweets.txt", "\n".join(json.dumps(x) for x in (error, error, page)) + "\n")
    assert detect_format(path) == "x"


def test_it_detects_x_for_flattened_tweets(tmp_path):
    tweet = {"id": "2", "text": "bonjour", "author_id": "7", "author": {"id": "7", "username": "awa"}}
    path = _write(tmp_path, "flat.jsonl", json.dumps(tweet) + "\n")
    assert detect_format(path) == "x"


def test_it_detects_jsonl_even_when_the_first_line_is_broken(tmp_path):
    path = _write(tmp_path, "posts.jsonl", '{"platform": "x", "id": \n{"platform": "x", "id": "1", "text": "a"}\n')
    assert detect_format(path) == "jsonl"


def test_it_detects_a_full_telegram_export_whose_chats_come_late(tmp_path, monkeypatch):
    # Only the first bytes are sniffed; the account keys still give it away.
    monkeypatch.setattr("monitor.importers.SNIFF_BYTES", 200)
    document = {"about": "x", "personal_information": {"bio": "a" * 500}, "chats": {"list": []}}
    path = _write(tmp_path, "result.json", json.dumps(document, indent=1))
    assert detect_format(path) == "telegram"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("  \n\n", "is empty"),
        ("platform;id;text\nx;1;a\n", "it is not JSON"),
        ('{\n  "hello": "world"\n}\n', "neither a Telegram export nor an X API page"),
    ],
)
def test_it_says_when_it_cannot_tell_the_format(tmp_path, content, message):
    path = _write(tmp_path, "mystery.txt", content)
    with pytest.raises(ImportFileError, match=message):
        detect_format(path)


def test_it_reports_a_missing_file(tmp_path):
    with pytest.raises(ImportFileError, match="cannot read"):
        detect_format(tmp_path / "nope.jsonl")


def test_it_rejects_an_unknown_format():
    with pytest.raises(ImportFileError, match="unknown format"):
        iter_import_items(FIXTURES / "posts.jsonl", fmt="xml")


# --- JSONL ----------------------------------------------------------------------------


def test_it_reports_a_malformed_line_and_imports_the_rest():
    items = _by_position(_items(FIXTURES / "posts.jsonl", "jsonl"))
    assert sorted(items) == ["line 1", "line 2", "line 4", "line 5", "line 6"]
    assert items["line 4"].error.startswith("malformed JSON at column")
    assert items["line 5"].error == "missing required field 'text'"
    assert [items[p].record.external_id for p in ("line 1", "line 2", "line 6")] == ["1001", "fb-22", "w-1"]
    assert items["line 2"].record.shares == 1200
    # Fields Vigie does not know stay in the raw record.
    assert items["line 6"].record.raw["custom"] == {"section": "météo"}


def test_it_reports_invalid_utf8_on_one_line_only(tmp_path):
    good = json.dumps({"platform": "x", "id": "1", "text": "Bonjour"}).encode()
    bad = b'{"platform": "x", "id": "2", "text": "caf\xe9"}'
    path = _write(tmp_path, "posts.jsonl", b"\n".join([good, bad, good.replace(b'"1"', b'"3"')]) + b"\n")
    items = _items(path, "jsonl")
    assert [i.position for i in items] == ["line 1", "line 2", "line 3"]
    assert items[1].error == "not valid UTF-8 (byte 0xe9 at byte 42)"
    assert items[0].record and items[2].record


def test_it_reads_jsonl_with_a_bom_and_crlf(tmp_path):
    line = json.dumps({"platform": "x", "id": "1", "text": "Bonjour"})
    path = _write(tmp_path, "posts.jsonl", "\ufeff" + line + "\r\n" + line.replace('"1"', '"2"') + "\r\n")
    items = _items(path, "jsonl")
    assert [i.record.external_id for i in items] == ["1", "2"]


def test_it_rejects_a_line_that_is_not_an_object(tmp_path):
    path = _write(tmp_path, "posts.jsonl", '["x", "1", "text"]\n')
    (item,) = _items(path, "jsonl")
    assert item.error == "a record must be a JSON object, got list"


def test_it_rejects_an_infinite_count_without_crashing(tmp_path):
    path = _write(tmp_path, "posts.jsonl", '{"platform": "x", "id": "1", "text": "a", "likes": 1e999}\n')
    (item,) = _items(path, "jsonl")
    assert item.error


def test_it_reports_progress_in_bytes(tmp_path):
    path = FIXTURES / "posts.jsonl"
    seen: list[tuple[int, int]] = []
    list(iter_import_items(path, fmt="jsonl", on_progress=lambda done, total: seen.append((done, total))))
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_it_streams_jsonl_without_reading_ahead(tmp_path):
    lines = [json.dumps({"platform": "x", "id": str(n), "text": "a"}) for n in range(1000)]
    path = _write(tmp_path, "posts.jsonl", "\n".join(lines) + "\n")
    seen: list[int] = []
    items = iter_import_items(path, fmt="jsonl", on_progress=lambda done, total: seen.append(done))
    next(items)
    # Only the first line has been consumed from the file, not the whole of it.
    assert seen == [len(lines[0]) + 1]


# --- CSV ------------------------------------------------------------------------------


def test_it_gives_the_physical_line_where_a_csv_record_starts():
    items = _by_position(_items(FIXTURES / "posts.csv", "csv"))
    assert sorted(items) == ["line 2", "line 3", "line 6", "line 7", "line 8"]
    assert items["line 3"].record.text == 'Première ligne\ndeuxième ligne, avec une virgule\net "des guillemets"'
    assert items["line 6"].error == "field 'text' is empty"
    assert "created_at" in items["line 7"].error
    assert items["line 8"].record.external_id == "2005"


def test_it_keeps_unknown_csv_columns_in_raw():
    items = _by_position(_items(FIXTURES / "posts.csv", "csv"))
    record = items["line 2"].record
    assert record.raw["region"] == "Bamako"
    assert record.author_handle == "bko_news"
    assert record.likes == 3
    assert record.created_at == datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


def test_it_reads_csv_with_a_bom_crlf_and_header_in_capitals(tmp_path):
    content = "\ufeffPlatform,ID,Text\r\nx,1,\"deux\r\nlignes\"\r\nx,2,fin\r\n"
    items = _items(_write(tmp_path, "posts.csv", content), "csv")
    assert [(i.position, i.record.external_id) for i in items] == [("line 2", "1"), ("line 4", "2")]


def test_it_reports_invalid_utf8_in_a_csv_row_and_reads_on(tmp_path):
    content = b"platform,id,text\nx,1,caf\xe9\nx,2,\"caf\xc3\xa9\nsur deux lignes\"\nx,3,ok\n"
    items = _items(_write(tmp_path, "posts.csv", content), "csv")
    assert [i.position for i in items] == ["line 2", "line 3", "line 5"]
    assert items[0].error == "not valid UTF-8 (byte 0xe9 in column 'text')"
    assert items[1].record.text == "café\nsur deux lignes"
    assert items[2].record.external_id == "3"


def test_it_rejects_a_csv_row_with_too_many_cells(tmp_path):
    content = "platform,id,text\nx,1,a,extra\nx,2,b\n"
    items = _items(_write(tmp_path, "posts.csv", content), "csv")
    assert items[0].error == "the row has 4 cells; the header has 3"
    assert items[1].record.external_id == "2"


def test_it_skips_blank_csv_lines(tmp_path):
    content = "platform,id,text\n\nx,1,a\n\n"
    items = _items(_write(tmp_path, "posts.csv", content), "csv")
    assert [(i.position, i.record.external_id) for i in items] == [("line 3", "1")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "a header row is required"),
        ("platform,identifier,body\nx,1,a\n", "the header has no 'id', 'text' column"),
        ("platform,id,text,text\nx,1,a,b\n", "names 'text' more than once"),
    ],
)
def test_it_refuses_a_csv_file_with_a_bad_header(tmp_path, content, message):
    path = _write(tmp_path, "posts.csv", content)
    with pytest.raises(ImportFileError, match=message):
        _items(path, "csv")


# --- Telegram -------------------------------------------------------------------------


def test_it_reads_a_single_chat_telegram_export():
    items = _by_position(_items(FIXTURES / "telegram_single.json", "telegram"))
    chat = "in chat 'Canal Test Sahel'"
    assert items[f"message 1 {chat}"].skipped == "service message (create_channel)"
    assert items[f"message 4 {chat}"].skipped == "no text (voice_message)"
    assert "created_at" in items[f"message 6 {chat}"].error

    record = items[f"message 3 {chat}"].record
    assert record.platform == "telegram"
    assert record.external_id == "1000000001:3"
    assert record.text == "URGENT : réunion demain à #Mopti. Lien : annonce"
    assert record.author_id == "channel1000000001"
    assert record.author_handle == "Canal Test Sahel"
    assert record.url == ""
    # date_unixtime is the instant; "date" (10:30 local) would be an hour off here.
    assert record.created_at == datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)
    assert record.raw["chat_id"] == 1000000001
    assert record.raw["chat_name"] == "Canal Test Sahel"
    assert record.raw["text"][4]["href"] == "https://example.org/annonce"

    assert items[f"message 5 {chat}"].record.text == "Texte avec un caractère NUL au milieu"


def test_it_reads_every_chat_of_a_full_telegram_export():
    items = _items(FIXTURES / "telegram_full.json", "telegram")
    records = [i.record for i in items if i.record]
    assert [r.external_id for r in records] == [
        "3000000001:1",
        "3000000001:2",
        "3000000001:4",
        "3000000002:1",
        "4000000001:7",
    ]
    assert records[1].author_handle == ""  # a deleted account has no name
    assert records[2].text == "Awa merci !"
    skipped = {i.position: i.skipped for i in items if i.skipped}
    assert skipped == {
        "message 3 in chat 'Groupe Test'": "no text (sticker)",
        "message 2 in chat 'Autre Groupe'": "no text",
        "message 8 in chat 'Canal Quitté'": "service message (pin_message)",
    }


def test_it_reports_progress_in_telegram_messages():
    seen: list[tuple[int, int]] = []
    list(iter_import_items(FIXTURES / "telegram_full.json", fmt="telegram", on_progress=lambda *a: seen.append(a)))
    assert seen[-1] == (8, 8)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "a", "messages": [', "is not valid JSON"),
        ('{"about": "something else"}', "is not a Telegram Desktop export"),
    ],
)
def test_it_refuses_a_broken_telegram_export(tmp_path, content, message):
    path = _write(tmp_path, "result.json", content)
    with pytest.raises(ImportFileError, match=message):
        _items(path, "telegram")


# --- X --------------------------------------------------------------------------------


def test_it_maps_x_api_pages_to_records():
    items = _by_position(_items(FIXTURES / "x_pages.jsonl", "x"))
    long_post = items["line 1, tweet 1700000000000000001"].record
    assert long_post.platform == "x"
    assert long_post.text.startswith("Communiqué long")
    assert len(long_post.text) > 280  # note_tweet, not the truncated text
    assert long_post.author_id == "111"
    assert long_post.author_handle == "sahel_obs"
    assert long_post.author_followers == 1520
    assert long_post.language == "fr"
    assert (long_post.likes, long_post.shares, long_post.replies, long_post.views) == (40, 6, 2, 3000)
    assert long_post.url == "https://x.com/sahel_obs/status/1700000000000000001"
    assert long_post.created_at == datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert long_post.raw["note_tweet"]["text"].strip() == long_post.text

    unknown_author = items["line 1, tweet 1700000000000000002"].record
    assert unknown_author.language == ""  # "und"
    assert unknown_author.author_handle == ""
    assert unknown_author.url == "https://x.com/i/web/status/1700000000000000002"

    streamed = items["line 3, tweet 1700000000000000003"].record
    assert streamed.author_handle == "segou_live"


def test_it_reports_x_problems_with_their_line():
    items = _items(FIXTURES / "x_pages.jsonl", "x")
    problems = {i.position: i.error or i.skipped for i in items if not i.record}
    assert problems == {
        "line 2, tweet 1500": "X API error: Not Found Error: Could not find tweet with ids: [1500].",
        "line 4, tweet 1700000000000000004": "missing required field 'text'",
        "line 6": "malformed JSON at column 40: Unterminated string starting at",
    }
    assert [i.position for i in items if i.error] == ["line 4, tweet 1700000000000000004", "line 6"]
    # Tweets under includes (quoted, retweeted) are context, not results.
    assert not any(i.record and i.record.external_id == "1600000000000000000" for i in items)


def test_it_reads_a_pretty_printed_x_page():
    (item,) = _items(FIXTURES / "x_page.json", "x")
    assert item.position == "tweet 1700000000000000003"
    assert item.record.author_handle == "segou_live"


def test_it_undoes_the_html_escaping_x_applies_to_text(tmp_path):
    page = {"data": [{"id": "5", "text": "Gao &amp; Kidal &lt;3 &gt; &amp;lt;"}]}
    (item,) = _items(_write(tmp_path, "x.jsonl", json.dumps(page) + "\n"), "x")
    assert item.record.text == "Gao & Kidal <3 > &lt;"
    assert item.record.raw["text"] == page["data"][0]["text"]


def test_it_refuses_a_broken_pretty_printed_x_page(tmp_path):
    text = (FIXTURES / "x_page.json").read_text(encoding="utf-8")
    path = _write(tmp_path, "page.json", text[: len(text) // 2])
    with pytest.raises(ImportFileError, match="is not valid JSON: .* at line"):
        _items(path, "x")


def test_it_reads_flattened_tweets(tmp_path):
    tweet = {"id": "2", "text": "bonjour", "author_id": "7", "author": {"id": "7", "username": "awa"}}
    (item,) = _items(_write(tmp_path, "flat.jsonl", json.dumps(tweet) + "\n"), "x")
    assert item.record.url == "https://x.com/awa/status/2"


def test_it_skips_x_lines_without_tweets(tmp_path):
    lines = [{"meta": {"result_count": 0}}, {"id": "1", "action": "delete"}]
    items = _items(_write(tmp_path, "x.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n"), "x")
    assert [(i.position, i.skipped) for i in items] == [("line 2", "no tweets here (keys: action, id)")]


# --- posts_ingest_items ---------------------------------------------------------------


def _record_item(n: int) -> ImportItem:
    return ImportItem(f"line {n}", record=record_from_dict({"platform": "x", "id": str(n), "text": "a"}))


def test_an_item_holds_exactly_one_outcome():
    with pytest.raises(ValueError):
        ImportItem("line 1")
    with pytest.raises(ValueError):
        ImportItem("line 1", error="bad", skipped="why")


@pytest.mark.django_db
def test_it_stores_items_in_batches_and_counts_them(no_pipeline, django_capture_on_commit_callbacks):
    items = [_record_item(n) for n in range(1, 6)]
    items += [ImportItem("line 6", error="bad"), ImportItem("line 7", skipped="why"), _record_item(1)]
    problems: list[str] = []
    with django_capture_on_commit_callbacks(execute=True):
        summary = posts_ingest_items(
            items, source="jsonl", batch_size=2, on_problem=lambda item: problems.append(item.position)
        )
    assert summary == ImportSummary(new=5, duplicate=1, rejected=1, skipped=1)
    assert summary.line() == "new: 5, duplicate: 1, rejected: 1, skipped: 1"
    assert problems == ["line 6", "line 7"]
    assert [len(ids) for ids in no_pipeline] == [2, 2, 1]
    assert set(Post.objects.values_list("source", flat=True)) == {"jsonl"}


def test_it_refuses_a_batch_size_below_one():
    with pytest.raises(ValueError):
        posts_ingest_items([], source="jsonl", batch_size=0)
