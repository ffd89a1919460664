from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.weeks import last_complete_week, next_week, previous_week, week_bounds, week_days, week_of


def test_week_bounds_are_monday_midnight_utc_to_next_monday():
    start, end = week_bounds("2026-W47")
    assert start == datetime(2026, 11, 16, tzinfo=UTC)
    assert end == datetime(2026, 11, 23, tzinfo=UTC)
    assert start.tzinfo is not None and start.weekday() == 0


@pytest.mark.parametrize("bad", ["2026-47", "2026W47", "2026-W7", "W47", "", "2026-W00", "2026-W54", "2025-W53"])
def test_week_bounds_rejects_bad_weeks_with_a_clear_message(bad):
    with pytest.raises(ValueError, match="ISO week|not a week"):
        week_bounds(bad)


def test_week_bounds_rejects_non_strings():
    with pytest.raises(ValueError):
        week_bounds(None)  # type: ignore[arg-type]


def test_a_53_week_year_has_its_w53():
    start, end = week_bounds("2026-W53")
    assert start == datetime(2026, 12, 28, tzinfo=UTC)
    assert week_of(end) == "2027-W01"


def test_week_of_reads_the_instant_in_utc():
    # Sunday 23:30 in Bamako (UTC) but already Monday in UTC+2.
    assert week_of(datetime(2026, 11, 22, 23, 30, tzinfo=UTC)) == "2026-W47"
    plus_two = timezone(timedelta(hours=2))
    assert week_of(datetime(2026, 11, 23, 0, 30, tzinfo=plus_two)) == "2026-W47"
    assert week_of(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == "2026-W48"


def test_week_of_and_bounds_round_trip():
    for week in ["2026-W01", "2026-W47", "2026-W53", "2027-W01"]:
        start, end = week_bounds(week)
        assert week_of(start) == week
        assert week_of(end - timedelta(microseconds=1)) == week


def test_previous_and_next_week_cross_years():
    assert previous_week("2026-W47") == "2026-W46"
    assert previous_week("2027-W01") == "2026-W53"
    assert previous_week("2026-W01") == "2025-W52"
    assert next_week("2026-W53") == "2027-W01"
    with pytest.raises(ValueError):
        previous_week("nonsense")


def test_week_days_and_last_complete_week():
    assert week_days("2026-W47")[0] == "2026-11-16"
    assert week_days("2026-W47")[-1] == "2026-11-22"
    assert last_complete_week(datetime(2026, 11, 24, 6, 0, tzinfo=UTC)) == "2026-W47"
    assert last_complete_week(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == "2026-W47"
