"""python manage.py ingest: every format end to end, and re-running adds nothing."""
from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from monitor.models import Post

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

pytestmark = pytest.mark.django_db(transaction=True)


def _ingest(path: Path, *args: str) -> tuple[str, list[str]]:
    out, err = StringIO(), StringIO()
    call_command("ingest", str(path), *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue().splitlines()


@pytest.mark.parametrize(
    ("name", "summary", "errors"),
    [
        (
            "posts.jsonl",
            "new: 3, duplicate: 0, rejected: 2, skipped: 0",
            [":line 4: malformed JSON at column 66: Expecting value", ":line 5: missing required field 'text'"],
        ),
        (
            "posts.csv",
            "new: 3, duplicate: 0, rejected: 2, skipped: 0",
            [":line 6: field 'text' is empty", ":line 7: field 'created_at' is not an ISO 8601 date"],
        ),
        (
            "telegram_single.json",
            "new: 3, duplicate: 0, rejected: 1, skipped: 2",
            [":message 6 in chat 'Canal Test Sahel': field 'created_at' is not an ISO 8601 date"],
        ),
        ("telegram_full.json", "new: 5, duplicate: 0, rejected: 0, skipped: 3", []),
        (
            "x_pages.jsonl",
            "new: 3, duplicate: 1, rejected: 2, skipped: 1",
            [":line 4, tweet 1700000000000000004: missing required field 'text'", ":line 6: malformed JSON"],
        ),
    ],
)
def test_it_imports_each_format_and_reports_errors_with_their_position(no_pipeline, name, summary, errors):
    path = FIXTURES / name
    out, err = _ingest(path)
    assert out == summary
    assert len(err) == len(errors)
    for line, expected in zip(err, errors):
        assert line.startswith(f"{path}{expected}")
    new = int(summary.split(",")[0].split(": ")[1])
    assert Post.objects.count() == new
    # The pipeline hears about every new post once.
    assert sorted(i for ids in no_pipeline for i in ids) == sorted(Post.objects.values_list("id", flat=True))


@pytest.mark.parametrize(
    "name", ["posts.jsonl", "posts.csv", "telegram_single.json", "telegram_full.json", "x_pages.jsonl"]
)
def test_re_running_the_same_file_adds_nothing(no_pipeline, name):
    path = FIXTURES / name
    first, _ = _ingest(path)
    calls = len(no_pipeline)
    count = Post.objects.count()
    second, _ = _ingest(path)
    new = int(first.split(",")[0].split(": ")[1])
    duplicates = int(first.split(",")[1].split(": ")[1])
    assert second.startswith(f"new: 0, duplicate: {new + duplicates}, ")
    assert second.split(", ")[2:] == first.split(", ")[2:]  # same rejects and skips
    assert Post.objects.count() == count
    assert len(no_pipeline) == calls


def test_it_stores_what_each_format_says(no_pipeline):
    _ingest(FIXTURES / "x_pages.jsonl")
    _ingest(FIXTURES / "telegram_full.json")
    post = Post.objects.get(platform="x", external_id="1700000000000000001")
    assert post.source == "x"
    assert post.author_handle == "sahel_obs"
    assert post.url == "https://x.com/sahel_obs/status/1700000000000000001"
    assert post.raw["id"] == "1700000000000000001"
    assert post.author_pseudonym and "111" not in post.author_pseudonym
    telegram = Post.objects.get(platform="telegram", external_id="3000000002:1")
    assert telegram.source == "telegram"
    assert telegram.raw["chat_name"] == "Autre Groupe"


def test_it_sends_records_in_batches_of_the_given_size(no_pipeline):
    out, _ = _ingest(FIXTURES / "telegram_full.json", "--batch-size", "2")
    assert out == "new: 5, duplicate: 0, rejected: 0, skipped: 3"
    assert [len(ids) for ids in no_pipeline] == [2, 2, 1]


def test_it_honours_an_explicit_format(no_pipeline, tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("platform,id,text\nx,1,Bonjour\n", encoding="utf-8")
    out, _ = _ingest(path, "--format", "csv", "--quiet")
    assert out == "new: 1, duplicate: 0, rejected: 0, skipped: 0"


def test_it_prints_skipped_entries_when_verbose(no_pipeline):
    _, err = _ingest(FIXTURES / "telegram_single.json", "--verbosity", "2")
    assert any(line.endswith(":message 4 in chat 'Canal Test Sahel': skipped: no text (voice_message)") for line in err)


def test_it_caps_the_errors_it_prints(no_pipeline, tmp_path, monkeypatch):
    monkeypatch.setattr("monitor.management.commands.ingest.MAX_ERRORS_SHOWN", 3)
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps({"platform": "x", "id": str(n)}) + "\n" for n in range(5)), encoding="utf-8")
    out, err = _ingest(path)
    assert out == "new: 0, duplicate: 0, rejected: 5, skipped: 0"
    assert err == [f"{path}:line {n}: missing required field 'text'" for n in (1, 2, 3)] + [
        f"{path}: 2 more rejected records not shown"
    ]


def test_it_fails_for_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        _ingest(tmp_path / "missing.jsonl")


def test_it_fails_for_a_directory(tmp_path):
    with pytest.raises(CommandError, match="not a file"):
        _ingest(tmp_path)


def test_it_fails_when_it_cannot_tell_the_format(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text("platform;id;text\n", encoding="utf-8")
    with pytest.raises(CommandError, match="cannot tell the format"):
        _ingest(path)


def test_it_fails_for_a_csv_header_without_required_columns(tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text("id,body\n1,Bonjour\n", encoding="utf-8")
    with pytest.raises(CommandError, match="the header has no 'platform', 'text' column"):
        _ingest(path)
    assert Post.objects.count() == 0


def test_it_fails_for_a_bad_batch_size():
    with pytest.raises(CommandError, match="--batch-size"):
        _ingest(FIXTURES / "posts.jsonl", "--batch-size", "0")
