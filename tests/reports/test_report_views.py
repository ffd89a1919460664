"""Report and alert pages: who may see what, downloads, escaping, acknowledging."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from monitor.narratives.services import NarrativeTrend
from monitor.reports.alerts import alerts_check
from monitor.reports.models import Alert
from monitor.reports.services import report_build_weekly
from monitor.weeks import week_bounds

PERSONAS = ["reviewer", "lead", "researcher", "outsider"]
WEEK = "2026-W47"
START, _ = week_bounds(WEEK)
XSS = 'Les Peuls <script>alert(1)</script> dehors <img src=x onerror="alert(2)"> =cmd|calc'


@pytest.fixture
def report(flag_at, monkeypatch, settings):
    settings.MONITOR_REPORT_MIN_COUNT = 1
    flags = [flag_at(START + timedelta(hours=i), text=XSS, author_handle="handle_xyz") for i in range(3)]
    trend = NarrativeTrend(
        narrative_id=1, label="=HYPERLINK(1) peuls <b>", terms=["peuls", "<i>dehors</i>"], community_id=flags[0].community_id,
        size=3, previous_size=0, growth=3, growth_ratio=None, flagged=3,
        daily={START.date().isoformat(): 3}, example_post_ids=[f.post_id for f in flags],
    )
    monkeypatch.setattr("monitor.narratives.services.narratives_growing", lambda *, week, limit=10: [trend])
    return report_build_weekly(week=WEEK)


@pytest.fixture
def alert(flag_at):
    end = datetime(2026, 11, 18, 14, tzinfo=UTC)
    for i in range(6):
        flag_at(end - timedelta(minutes=5 + i))
    [alert] = alerts_check(now=end)
    return alert


def _get(client, request, persona, url):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client.get(url)


REPORT_PAGES = ["reports", "report", "report_pdf", "report_csv"]
ALLOWED = {
    "reports": {"lead", "researcher"}, "report": {"lead", "researcher"}, "report_pdf": {"lead", "researcher"},
    "report_csv": {"lead", "researcher"}, "alerts": {"lead", "reviewer"},
}


def _url(page):
    return reverse(f"dashboard:{page}", kwargs={} if page in ("reports", "alerts") else {"week": WEEK})


@pytest.mark.parametrize("page", [*REPORT_PAGES, "alerts"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_page_access(client, request, report, alert, page, persona):
    response = _get(client, request, persona, _url(page))
    assert response.status_code == (200 if persona in ALLOWED[page] else 403)


@pytest.mark.parametrize("page", [*REPORT_PAGES, "alerts"])
def test_anonymous_users_are_sent_to_login(client, report, page):
    response = client.get(_url(page))
    assert response.status_code == 302 and response.url.startswith(reverse("dashboard:login"))


def test_the_nav_links_follow_the_permissions(client, lead, reviewer):
    client.force_login(lead)
    page = client.get(reverse("dashboard:alerts")).content.decode()
    assert 'href="/reports/"' in page and 'href="/alerts/"' in page
    client.force_login(reviewer)
    page = client.get(reverse("dashboard:queue")).content.decode()
    assert 'href="/reports/"' not in page and 'href="/alerts/"' in page


def test_the_report_page_escapes_post_text_and_shows_no_handle(client, researcher, report):
    client.force_login(researcher)
    page = client.get(_url("report")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "=HYPERLINK(1) peuls &lt;b&gt;" in page
    assert "&lt;i&gt;dehors&lt;/i&gt;" in page
    assert "handle_xyz" not in page
    assert page.count('src="data:image/png;base64,') >= 3


def test_the_downloads(client, lead, report):
    client.force_login(lead)
    pdf = client.get(_url("report_pdf"))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf["Content-Disposition"]
    csv_text = client.get(_url("report_csv")).content.decode()
    assert csv_text.startswith("section,item,detail,this_week,previous_week,change")
    # A cell starting like a formula is neutralised for spreadsheets.
    assert "narrative,'=HYPERLINK(1) peuls <b>,against Peul,3,0," in csv_text
    assert "handle_xyz" not in csv_text


def test_unknown_or_malformed_weeks_are_404(client, lead, report):
    client.force_login(lead)
    assert client.get(reverse("dashboard:report", kwargs={"week": "2026-W46"})).status_code == 404
    assert client.get(reverse("dashboard:report", kwargs={"week": "nonsense"})).status_code == 404


def test_a_lead_acknowledges_an_alert_and_a_reviewer_cannot(client, lead, reviewer, alert):
    url = reverse("dashboard:alert_acknowledge", kwargs={"alert_id": alert.pk})
    client.force_login(reviewer)
    assert client.post(url).status_code == 403
    page = client.get(reverse("dashboard:alerts")).content.decode()
    assert "Acknowledge</button>" not in page and "Peul" in page
    client.force_login(lead)
    assert client.get(reverse("dashboard:alerts")).content.decode().count("Acknowledge</button>") == 1
    response = client.post(url)
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED
    assert client.post(reverse("dashboard:alert_acknowledge", kwargs={"alert_id": 999999})).status_code == 404


def test_alert_pages_need_post_to_acknowledge(client, lead, alert):
    client.force_login(lead)
    assert client.get(reverse("dashboard:alert_acknowledge", kwargs={"alert_id": alert.pk})).status_code == 405
