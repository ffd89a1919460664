"""monitor/ingest.py: validating one record, storing a batch exactly once."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from monitor.ingest import PostRecord, RecordError, posts_ingest, record_from_dict
from monitor.models import Post


def _data(**fields):
    data = {"platform": "x", "id": "42", "text": "Bonjour Bamako"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def _record(external_id: str, *, platform: str = "x", text: str = "Bonjour Bamako") -> PostRecord:
    return record_from_dict({"platform": platform, "id": external_id, "text": text})


# --- record_from_dict ---------------------------------------------------------------


def test_it_accepts_a_full_record():
    record = record_from_dict(
        _data(
            author_id="u1",
            author_handle="mopti_info",
            author_followers="1,200",
            created_at="2024-03-01T08:00:00+01:00",
            url="https://x.com/mopti_info/status/42",
            language="FR",
            likes=3,
            shares="4",
            replies=0,
            views=100,
        )
    )
    assert record.platform == "x"
    assert record.external_id == "42"
    assert record.author_followers == 1200
    assert record.created_at == datetime(2024, 3, 1, 7, 0, tzinfo=timezone.utc)
    assert record.language == "fr"
    assert (record.likes, record.shares, record.replies, record.views) == (3, 4, 0, 100)
    assert record.raw["author_handle"] == "mopti_info"


@pytest.mark.parametrize("missing", ["platform", "id", "text"])
def test_it_rejects_a_record_missing_a_required_field(missing):
    data = _data()
    del data[missing]
    with pytest.raises(RecordError, match=f"missing required field '{missing}'"):
        record_from_dict(data)


def test_it_rejects_empty_text():
    with pytest.raises(RecordError, match="field 'text' is empty"):
        record_from_dict(_data(text="   \n "))


def test_it_rejects_a_record_that_is_not_an_object():
    with pytest.raises(RecordError, match="must be a JSON object, got list"):
        record_from_dict(["x", "42", "text"])


def test_it_rejects_a_lone_surrogate_in_the_text():
    with pytest.raises(RecordError, match="lone surrogate"):
        record_from_dict(_data(text="bonjour \ud800 Bamako"))


def test_it_drops_nul_characters():
    record = record_from_dict(_data(text="bon\x00jour", author_handle="a\x00b"))
    assert record.text == "bonjour"
    assert record.author_handle == "ab"


def test_it_replaces_lone_surrogates_in_the_raw_record():
    record = record_from_dict(_data(), raw={"note": "x\udcff", "nul": "a\x00"})
    assert record.raw == {"note": "x?", "nul": "a"}


def test_it_rejects_text_over_the_limit(settings):
    settings.MONITOR_MAX_TEXT_CHARS = 300
    record_from_dict(_data(text="a" * 300))
    with pytest.raises(RecordError, match="301 characters; the limit is 300"):
        record_from_dict(_data(text="a" * 301))


@pytest.mark.parametrize("value", ["yesterday", "2024-13-45T00:00:00", "2024-03-01T25:00:00", True, [2024]])
def test_it_rejects_a_bad_date(value):
    with pytest.raises(RecordError, match="created_at"):
        record_from_dict(_data(created_at=value))


def test_it_reads_a_naive_date_as_utc():
    record = record_from_dict(_data(created_at="2024-03-01T08:00:00"))
    assert record.created_at == datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


def test_it_converts_an_offset_date_to_utc():
    record = record_from_dict(_data(created_at="2024-03-01T08:00:00Z"))
    assert record.created_at.utcoffset().total_seconds() == 0
    assert record.created_at.hour == 8


@pytest.mark.parametrize("value", [1709280000, "1709280000", 1709280000.5])
def test_it_reads_unix_seconds(value):
    record = record_from_dict(_data(created_at=value))
    assert record.created_at.replace(microsecond=0) == datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


def test_it_rejects_a_negative_count():
    with pytest.raises(RecordError, match="'likes' is out of range"):
        record_from_dict(_data(likes=-1))


def test_it_rejects_a_non_numeric_count():
    with pytest.raises(RecordError, match="'views' must be a non-negative integer"):
        record_from_dict(_data(views="many"))


def test_it_rejects_a_url_that_is_not_http():
    with pytest.raises(RecordError, match="http"):
        record_from_dict(_data(url="javascript:alert(1)"))


def test_it_rejects_a_platform_that_is_not_a_short_name():
    with pytest.raises(RecordError, match="platform"):
        record_from_dict(_data(platform="X Corp!"))


# --- posts_ingest -------------------------------------------------------------------


@pytest.mark.django_db
def test_it_stores_new_records_and_reports_their_ids(django_capture_on_commit_callbacks):
    seen: list[list[int]] = []
    with django_capture_on_commit_callbacks(execute=True):
        result = posts_ingest([_record("1"), _record("2")], source="api", on_new=seen.append)
    assert result.new == 2
    assert result.duplicates == 0
    assert sorted(Post.objects.values_list("id", flat=True)) == result.new_ids
    assert seen == [result.new_ids]
    post = Post.objects.get(external_id="1")
    assert post.source == "api"
    assert post.status == Post.Status.PENDING


@pytest.mark.django_db
def test_it_skips_duplicate_posts_when_the_same_batch_comes_twice(django_capture_on_commit_callbacks):
    seen: list[list[int]] = []
    batch = [_record("1"), _record("2"), _record("2", platform="telegram")]
    with django_capture_on_commit_callbacks(execute=True):
        first = posts_ingest(batch, source="api", on_new=seen.append)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = posts_ingest(batch, source="api", on_new=seen.append)
    assert (first.new, first.duplicates) == (3, 0)
    assert (second.new, second.duplicates) == (0, 3)
    assert Post.objects.count() == 3
    assert callbacks == []
    assert seen == [first.new_ids]


@pytest.mark.django_db
def test_it_counts_repeats_inside_one_batch_as_duplicates(django_capture_on_commit_callbacks):
    seen: list[list[int]] = []
    batch = [_record("1"), _record("1", text="autre texte"), _record("2"), _record("1")]
    with django_capture_on_commit_callbacks(execute=True):
        result = posts_ingest(batch, source="api", on_new=seen.append)
    assert (result.new, result.duplicates) == (2, 2)
    # The first occurrence wins.
    assert Post.objects.get(external_id="1").text == "Bonjour Bamako"
    assert seen == [result.new_ids]


@pytest.mark.django_db
def test_it_stores_only_the_new_part_of_a_partly_known_batch():
    posts_ingest([_record("1")], source="api", on_new=lambda ids: None)
    result = posts_ingest([_record("1"), _record("3")], source="api", on_new=lambda ids: None)
    assert (result.new, result.duplicates) == (1, 1)
    assert Post.objects.get(id=result.new_ids[0]).external_id == "3"


@pytest.mark.django_db
def test_it_does_nothing_for_an_empty_batch():
    result = posts_ingest([], source="api", on_new=lambda ids: pytest.fail("called"))
    assert (result.new, result.duplicates) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_it_calls_back_only_after_commit():
    seen: list[list[int]] = []
    stored_when_called: list[int] = []

    def on_new(ids: list[int]) -> None:
        seen.append(ids)
        # The rows must be visible by the time a worker would look for them.
        stored_when_called.append(Post.objects.filter(id__in=ids).count())

    result = posts_ingest([_record("1"), _record("2")], source="api", on_new=on_new)
    assert seen == [result.new_ids]
    assert stored_when_called == [2]


@pytest.mark.django_db
def test_it_pseudonymises_authors_the_same_way_on_every_import():
    posts_ingest(
        [record_from_dict(_data(id="1", author_id="u1")), record_from_dict(_data(id="2", author_id="u1"))],
        source="api",
        on_new=lambda ids: None,
    )
    pseudonyms = set(Post.objects.values_list("author_pseudonym", flat=True))
    assert len(pseudonyms) == 1
    assert "u1" not in pseudonyms.pop()
