"""The rendered report: the PDF opens, has the expected pages, and its numbers are the database's."""
from __future__ import annotations

import io
import math
import re
from datetime import timedelta

import pypdf
import pytest

from monitor.models import Community, Flag
from monitor.reports.data import flags_in
from monitor.reports.render import LINES_PER_PAGE, report_chart_pngs, report_figures, report_lines
from monitor.reports.services import report_build_weekly
from monitor.weeks import week_bounds

WEEK = "2026-W47"
START, END = week_bounds(WEEK)


@pytest.fixture
def busy_week(flag_at, peul, dogon, settings):
    settings.MONITOR_REPORT_MIN_COUNT = 5
    bozo = Community.objects.create(slug="bozo", name="Bozo")
    plan = {peul: (12, 9), dogon: (7, 0), bozo: (3, 6)}  # (this week, previous week)
    for community, (now, before) in plan.items():
        for i in range(now):
            flag_at(START + timedelta(hours=5 * i), community=community,
                    text=f"Les {community.name}s de Mopti dehors $x$ \\frac{{1}}{{2}} #{i}")
        for i in range(before):
            flag_at(START - timedelta(days=7) + timedelta(hours=3 * i), community=community)
    flag_at(START + timedelta(hours=1), category=Flag.Category.DEHUMANISATION, language="bm", platform="telegram")
    return plan


def _pdf_text(report) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(bytes(report.pdf)))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_opens_with_its_text_pages_and_chart_pages(busy_week):
    report = report_build_weekly(week=WEEK)
    reader, text = _pdf_text(report)
    text_pages = math.ceil(len(report_lines(report.data)) / LINES_PER_PAGE)
    charts = sum(1 for _ in report_figures(report.data))
    assert len(reader.pages) == text_pages + charts
    assert f"Vigie weekly trend report, {WEEK}" in text


def test_the_pdf_numbers_are_the_database_numbers(busy_week, peul, dogon):
    report = report_build_weekly(week=WEEK)
    _, text = _pdf_text(report)
    flat = re.sub(r"[ \t]+", " ", text)
    start, end = week_bounds(WEEK)
    for name in ("Peul", "Dogon"):
        community = Community.objects.get(name=name)
        in_db = flags_in(start, end).filter(community=community).count()
        before = flags_in(start - timedelta(days=7), start).filter(community=community).count()
        assert in_db >= 5
        # "Peul 13 9 +4 (+44%)": the community's row in the "Flags by community" table.
        assert re.search(rf"\b{name} {in_db} {before if before >= 5 or before == 0 else '< 5'} ", flat), name
    # Bozo has 3 flags this week: hidden, and its change too.
    assert re.search(r"\bBozo < 5 6 —", flat)
    total = flags_in(start, end).count()
    assert f"Flags (not dismissed): {total} " in flat


def test_hidden_counts_are_hidden_in_the_csv_and_the_charts(busy_week):
    report = report_build_weekly(week=WEEK)
    assert "flags_by_community,Bozo,,< 5,6,—" in report.csv
    assert "flags_by_language,bm,,< 5,0,—" in report.csv
    # The charts draw from cells only; a chart label never carries a hidden number.
    labels = []
    for _, fig in report_figures(report.data):
        for ax in fig.axes:
            labels += [t.get_text() for t in ax.texts]
    assert "< 5" in labels and "3" not in labels and "1" not in labels


def test_charts_render_hostile_text_without_mathtext(busy_week):
    report = report_build_weekly(week=WEEK)
    pngs = report_chart_pngs(report.data)
    assert len(pngs) >= 3 and all(png.startswith(b"\x89PNG") for _, png in pngs)
