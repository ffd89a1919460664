"""The numbers of the weekly report, their privacy rule, and the stored row."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from monitor.models import Flag, ReviewDecision
from monitor.reports.data import report_data_build
from monitor.reports.models import WeeklyReport
from monitor.reports.privacy import change_cell, count_cell, text_safe
from monitor.reports.services import report_build_weekly
from monitor.weeks import week_bounds

WEEK = "2026-W47"
START, _ = week_bounds(WEEK)
PREVIOUS = START - timedelta(days=7)


def _row(rows, label):
    return next(r for r in rows if r["label"] == label)


def test_small_counts_are_hidden_and_zero_is_shown(settings):
    settings.MONITOR_REPORT_MIN_COUNT = 5
    assert count_cell(0) == {"n": 0, "shown": "0"}
    assert count_cell(4) == {"n": None, "shown": "< 5"}
    assert count_cell(5) == {"n": 5, "shown": "5"}
    # A change next to a hidden count would give it away.
    assert change_cell(count_cell(12), count_cell(3))["shown"] == "—"
    assert change_cell(count_cell(12), count_cell(8))["shown"] == "+4 (+50%)"


def test_flags_are_counted_per_community_with_week_on_week_change(flag_at, peul, dogon, settings):
    settings.MONITOR_REPORT_MIN_COUNT = 5
    for i in range(7):
        flag_at(START + timedelta(hours=i))
    for i in range(5):
        flag_at(PREVIOUS + timedelta(hours=i))
    for i in range(3):
        flag_at(START + timedelta(hours=i), community=dogon)
    # Dismissed flags and flags outside the week do not count.
    flag_at(START + timedelta(hours=1), status=Flag.Status.DISMISSED)
    flag_at(START + timedelta(days=7, hours=1))

    data = report_data_build(week=WEEK)

    peul_row = _row(data["breakdowns"]["community"], "Peul")
    assert (peul_row["current"]["n"], peul_row["previous"]["n"], peul_row["change"]["delta"]) == (7, 5, 2)
    dogon_row = _row(data["breakdowns"]["community"], "Dogon")
    assert dogon_row["current"] == {"n": None, "shown": "< 5"}
    assert data["totals"]["flags"]["n"] == 10
    assert _row(data["breakdowns"]["language"], "fr")["current"]["n"] == 10
    assert _row(data["breakdowns"]["platform"], "x")["current"]["n"] == 10


def test_places_are_found_with_accents_folded_and_whole_words(flag_at, settings):
    settings.MONITOR_REPORT_MIN_COUNT = 1
    flag_at(START, text="Les Peuls de SEGOU et de Sevare, dehors")
    flag_at(START, text="Chassez les Peuls de Ségou !")
    flag_at(START, text="Les Peuls de Gaoussou")  # not Gao
    flag_at(START, text="les Peuls boni koro")  # ordinary words, not the places Boni and Koro

    places = {p["name"]: p["posts"]["n"] for p in report_data_build(week=WEEK)["places"]}

    assert places == {"Ségou": 2, "Sévaré": 1}


def test_reviewer_throughput_uses_pseudonyms_and_the_confirmed_share(flag_at, reviewer, lead, settings):
    settings.MONITOR_REPORT_MIN_COUNT = 2
    flags = [flag_at(START + timedelta(hours=i)) for i in range(6)]
    decisions = []
    for flag, action in zip(flags, ["confirm", "confirm", "confirm", "dismiss", "dismiss", "escalate"]):
        decisions.append(ReviewDecision.objects.create(flag=flag, reviewer=reviewer, action=action))
    ReviewDecision.objects.filter(pk__in=[d.pk for d in decisions]).update(created_at=START + timedelta(days=1))

    r = report_data_build(week=WEEK)["reviewers"]

    assert r["decisions"]["n"] == 6
    assert r["confirmed_share"]["pct"] == 60.0
    assert [row["decisions"]["n"] for row in r["rows"]] == [6]
    assert "alice" not in str(r) and r["rows"][0]["reviewer"].startswith("reviewer-")


def test_post_text_is_made_safe_for_a_report():
    text = "@alice97 dit: chassez-les https://t.co/x \ud800 " + "a" * 1000
    safe = text_safe(text, handle="alice97")
    assert "alice97" not in safe and "https" not in safe and len(safe) <= 400


def test_the_report_is_stored_once_per_week_and_replaced(flag_at, settings):
    settings.MONITOR_REPORT_MIN_COUNT = 1
    flag_at(START)
    first = report_build_weekly(week=WEEK)
    flag_at(START + timedelta(hours=2))
    second = report_build_weekly(week=WEEK)
    assert WeeklyReport.objects.count() == 1
    assert second.pk == first.pk
    assert second.data["totals"]["flags"]["n"] == 2
    assert second.pdf.startswith(b"%PDF") if isinstance(second.pdf, bytes) else bytes(second.pdf).startswith(b"%PDF")
    assert "flags_by_community,Peul,,2,0," in second.csv


def test_the_command_builds_a_week_and_refuses_a_bad_one(flag_at, capsys):
    flag_at(START)
    call_command("weekly_report", "--week", WEEK)
    assert WeeklyReport.objects.filter(week=WEEK).exists()
    with pytest.raises(CommandError, match="ISO week"):
        call_command("weekly_report", "--week", "2026-47")


def test_no_author_handle_appears_anywhere(flag_at, settings):
    settings.MONITOR_REPORT_MIN_COUNT = 1
    flag_at(START, author_handle="secret_handle_42", text="Les Peuls dehors, signé secret_handle_42")
    report = report_build_weekly(week=WEEK)
    assert "secret_handle_42" not in str(report.data) + report.csv


def test_the_weekly_task_run_twice_keeps_one_row(flag_at):
    from workers.tasks import weekly_report_task

    flag_at(START)
    assert weekly_report_task.delay(WEEK).get()["week"] == WEEK
    assert weekly_report_task.delay(WEEK).get()["week"] == WEEK
    assert WeeklyReport.objects.filter(week=WEEK).count() == 1


def test_the_beat_schedule_has_the_report_and_the_check():
    from celery.schedules import crontab

    from workers.schedule import BEAT_SCHEDULE

    weekly = BEAT_SCHEDULE["weekly-report"]
    assert weekly["task"] == "vigie.weekly_report" and weekly["options"]["queue"] == "reports"
    assert weekly["schedule"] == crontab(minute=0, hour=6, day_of_week="mon")
    assert BEAT_SCHEDULE["alerts-check"]["task"] == "vigie.alerts_check"
    assert BEAT_SCHEDULE["alerts-check"]["schedule"] == 600.0
