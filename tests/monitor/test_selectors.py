"""Read queries: the queue's order and cost, evidence segmentation, safe links."""
from __future__ import annotations

import pytest

from monitor.audit import audit_record
from monitor.models import Community, Flag
from monitor.selectors import (
    audit_events,
    flag_evidence,
    flag_excerpt,
    flag_get,
    flag_segments,
    flags_queue,
    post_external_url,
)


@pytest.fixture
def dogon(db):
    return Community.objects.create(slug="dogon", name="Dogon")


def joined(segments):
    return "".join(s for s, _ in segments)


# --- flag_segments -------------------------------------------------------------

def test_segments_without_evidence_are_the_whole_text():
    assert flag_segments(text="Bonjour Bamako", evidence=[]) == [("Bonjour Bamako", None)]
    assert flag_segments(text="", evidence=[{"start": 0, "end": 3, "role": "target"}]) == []


def test_segments_mark_each_span_with_its_role():
    text = "Il faut chasser les Peuls du village"
    evidence = [
        {"start": 8, "end": 15, "text": "chasser", "rule": "verb:expel", "role": "hostile"},
        {"start": 20, "end": 25, "text": "Peuls", "rule": "community:peul", "role": "target"},
    ]
    assert flag_segments(text=text, evidence=evidence) == [
        ("Il faut ", None),
        ("chasser", "hostile"),
        (" les ", None),
        ("Peuls", "target"),
        (" du village", None),
    ]


def test_a_nested_target_stays_visible_inside_a_hostile_phrase():
    text = "tuez les Peuls maintenant"
    evidence = [
        {"start": 0, "end": 14, "text": "tuez les Peuls", "rule": "pattern", "role": "hostile"},
        {"start": 9, "end": 14, "text": "Peuls", "rule": "community:peul", "role": "target"},
    ]
    assert flag_segments(text=text, evidence=evidence) == [
        ("tuez les ", "hostile"),
        ("Peuls", "target"),
        (" maintenant", None),
    ]


def test_overlapping_spans_cover_their_union_and_keep_the_text():
    text = "abcdefghij"
    evidence = [
        {"start": 2, "end": 6, "role": "target"},
        {"start": 4, "end": 8, "role": "hostile"},
        {"start": 4, "end": 8, "role": "hostile"},  # duplicate
    ]
    segments = flag_segments(text=text, evidence=evidence)
    assert joined(segments) == text
    # Same length spans: the overlap goes to the more alarming role.
    assert segments == [("ab", None), ("cd", "target"), ("efgh", "hostile"), ("ij", None)]


def test_adjacent_spans_with_the_same_role_merge():
    evidence = [{"start": 0, "end": 2, "role": "dampener"}, {"start": 2, "end": 4, "role": "dampener"}]
    assert flag_segments(text="abcdef", evidence=evidence) == [("abcd", "dampener"), ("ef", None)]


@pytest.mark.parametrize(
    "bad",
    [
        {"start": 5, "end": 100, "role": "target"},  # past the end: clamped
        {"start": -10, "end": 2, "role": "target"},  # before the start: clamped
        {"start": 50, "end": 60, "role": "target"},  # wholly outside: dropped
        {"start": 4, "end": 2, "role": "target"},  # reversed: dropped
        {"start": "0", "end": "3", "role": "target"},  # not ints: dropped
        {"start": True, "end": 3, "role": "target"},  # a boolean is not an offset
        {"start": 1, "end": 3, "text": "nowhere", "role": "target"},  # quoted text absent: dropped
        "not a dict",
        None,
    ],
)
def test_malformed_spans_never_break_the_text(bad):
    text = "abcdefgh"
    segments = flag_segments(text=text, evidence=[bad, {"start": 0, "end": 1, "role": "hostile"}])
    assert joined(segments) == text
    assert segments[0] == ("a", "hostile")


def test_evidence_that_is_not_a_list_is_ignored():
    assert flag_segments(text="abc", evidence={"start": 0}) == [("abc", None)]
    assert flag_segments(text="abc", evidence=None) == [("abc", None)]


def test_out_of_range_spans_are_clamped():
    assert flag_segments(text="abcdef", evidence=[{"start": 3, "end": 100, "role": "target"}]) == [
        ("abc", None),
        ("def", "target"),
    ]


def test_a_span_with_wrong_offsets_is_found_by_its_text():
    text = "Les Peuls, toujours les Peuls"
    # Offsets shifted by two (e.g. computed on normalised text): relocated to the nearest "Peuls".
    evidence = [{"start": 26, "end": 31, "text": "Peuls", "role": "target"}]
    assert flag_segments(text=text, evidence=evidence) == [("Les Peuls, toujours les ", None), ("Peuls", "target")]


def test_offsets_that_match_ignoring_case_are_kept():
    evidence = [{"start": 0, "end": 4, "text": "peul", "role": "target"}]
    assert flag_segments(text="Peul ici", evidence=evidence) == [("Peul", "target"), (" ici", None)]


def test_unknown_roles_become_plain_hits():
    assert flag_segments(text="abc", evidence=[{"start": 0, "end": 1, "role": "<script>"}]) == [
        ("a", "hit"),
        ("bc", None),
    ]


def test_segments_keep_markup_as_text():
    text = "<script>alert(1)</script> Peuls"
    segments = flag_segments(text=text, evidence=[{"start": 26, "end": 31, "text": "Peuls", "role": "target"}])
    assert segments == [("<script>alert(1)</script> ", None), ("Peuls", "target")]


def test_the_excerpt_centres_on_the_first_hit():
    text = "x" * 500 + " les Peuls " + "y" * 500
    start = text.index("Peuls")
    segments = flag_excerpt(text=text, evidence=[{"start": start, "end": start + 5, "role": "target"}], max_chars=100)
    assert segments[0] == ("…", None) and segments[-1] == ("…", None)
    assert ("Peuls", "target") in segments
    assert len(joined(segments)) <= 102
    assert flag_excerpt(text="court", evidence=[]) == [("court", None)]


def test_flag_evidence_normalises_rows():
    rows = flag_evidence(evidence=[{"start": 0, "end": 2, "text": "ab", "rule": "r", "role": "x"}, 3])
    assert rows == [{"start": 0, "end": 2, "text": "ab", "rule": "r", "role": "hit"}]


# --- links -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.com/a/status/1", "https://x.com/a/status/1"),
        ("http://t.me/chan/5", "http://t.me/chan/5"),
        ("javascript:alert(1)", ""),
        ("JavaScript:alert(1)", ""),
        ("data:text/html,<script>", ""),
        ("//evil.example/x", ""),
        ("", ""),
        ("http://[::1", ""),
    ],
)
def test_only_http_links_are_offered(url, expected):
    assert post_external_url(url=url) == expected


# --- the queue ---------------------------------------------------------------------

def test_the_queue_puts_the_most_urgent_first(make_flag):
    low, high, mid = make_flag(priority=1), make_flag(priority=50), make_flag(priority=10)
    make_flag(priority=99, status=Flag.Status.CONFIRMED)

    assert [f.pk for f in flags_queue()] == [high.pk, mid.pk, low.pk]


def test_equal_priorities_show_the_newest_first(make_flag):
    first, second = make_flag(priority=5), make_flag(priority=5)
    Flag.objects.filter(pk=first.pk).update(created_at=second.created_at.replace(year=2020))
    assert [f.pk for f in flags_queue()] == [second.pk, first.pk]


def test_the_queue_filters_by_status_community_and_pages(make_flag, dogon):
    flags = [make_flag(priority=p) for p in range(5)]
    other = make_flag(priority=100, community=dogon)
    escalated = make_flag(priority=3, status=Flag.Status.ESCALATED)

    assert [f.pk for f in flags_queue(community="dogon")] == [other.pk]
    assert [f.pk for f in flags_queue(community="peul", limit=2, offset=1)] == [flags[3].pk, flags[2].pk]
    assert [f.pk for f in flags_queue(status="escalated")] == [escalated.pk]
    assert flags_queue(community="nobody") == []


def test_the_queue_costs_one_query_however_long(make_flag, django_assert_num_queries):
    for p in range(30):
        make_flag(priority=p)

    with django_assert_num_queries(1):
        flags = flags_queue(limit=50)
        for flag in flags:
            (flag.post.text, flag.community.name)
    assert len(flags) == 30


def test_flag_get_loads_the_post_and_community_at_once(make_flag, django_assert_max_num_queries):
    flag = make_flag()
    with django_assert_max_num_queries(1):
        got = flag_get(flag_id=flag.pk)
        (got.post.text, got.community.slug, got.post.cluster)
    with pytest.raises(Flag.DoesNotExist):
        flag_get(flag_id=10**9)


def test_audit_events_are_newest_first(reviewer, django_assert_max_num_queries):
    audit_record(actor=reviewer, action="a.first")
    audit_record(actor=None, action="a.second")
    with django_assert_max_num_queries(1):
        events = audit_events(limit=10)
        [e.actor for e in events]
    assert [e.action for e in events] == ["a.second", "a.first"]
    assert len(audit_events(limit=1)) == 1
