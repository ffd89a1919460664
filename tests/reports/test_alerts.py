"""Early warning: the spike test, idempotence, drivers, notifications, acknowledgement."""
from __future__ import annotations

import json
import math
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from monitor.models import AuditEvent, Flag
from monitor.reports.alerts import alert_acknowledge, alerts_check, poisson_upper_tail
from monitor.reports.models import Alert, AlertDelivery

HOUR = datetime(2026, 11, 18, 14, 0, tzinfo=UTC)  # the spike hour is [13:00, 14:00)


@pytest.fixture(autouse=True)
def _alert_settings(alert_settings):
    return alert_settings


def _burst(flag_at, n, *, end=HOUR, **kw):
    return [flag_at(end - timedelta(minutes=5 + i), **kw) for i in range(n)]


def test_poisson_upper_tail_matches_the_direct_sum():
    for k, rate in [(6, 1.0), (1, 0.1), (5, 0.1), (30, 2.5), (3, 7.0)]:
        direct = 1.0 - sum(math.exp(-rate) * rate**i / math.factorial(i) for i in range(k))
        assert poisson_upper_tail(k, rate) == pytest.approx(direct, rel=1e-9, abs=1e-15)
    assert poisson_upper_tail(0, 3.0) == 1.0
    # Far in the tail the value stays positive and tiny, not 0 from cancellation.
    assert 0 < poisson_upper_tail(40, 0.1) < 1e-60


def test_a_burst_against_a_quiet_community_alerts_once(flag_at, peul):
    _burst(flag_at, 8)
    created = alerts_check(now=HOUR)
    assert len(created) == 1
    alert = created[0]
    assert (alert.community, alert.observed, alert.window_start) == (peul, 8, HOUR - timedelta(hours=1))
    assert alert.expected == pytest.approx(0.1)  # no history: the floor
    assert alert.p_value < 1e-6 and len(alert.flag_ids) == 8
    # Re-running the same hour, or a check 10 minutes later that sees the same burst, adds nothing.
    assert alerts_check(now=HOUR) == []
    assert alerts_check(now=HOUR + timedelta(minutes=10)) == []
    assert Alert.objects.count() == 1


def test_a_burst_imported_late_alerts_at_the_next_check(flag_at, peul, settings):
    settings.MONITOR_ALERT_LATE_HOURS = 6
    assert alerts_check(now=HOUR) == []  # nothing yet when that hour is first checked
    _burst(flag_at, 8)  # the same hour's posts arrive three hours later (an export imported late)
    [alert] = alerts_check(now=HOUR + timedelta(hours=3))
    assert (alert.community, alert.observed, alert.window_start) == (peul, 8, HOUR - timedelta(hours=1))
    assert alerts_check(now=HOUR + timedelta(hours=3, minutes=10)) == []


def test_a_burst_older_than_the_late_hours_is_left_to_replays(flag_at, settings):
    settings.MONITOR_ALERT_LATE_HOURS = 2
    _burst(flag_at, 8)
    assert alerts_check(now=HOUR + timedelta(hours=3)) == []
    assert len(alerts_check(now=HOUR)) == 1


def test_no_alert_below_the_minimum_count_or_at_the_usual_rate(flag_at, dogon):
    _burst(flag_at, 4)  # significant against the floor, but fewer than MONITOR_ALERT_MIN_COUNT
    # Dogon: 2 flags an hour for the past week, then 6 this hour: p ≈ 0.017, not a spike.
    for h in range(1, 7 * 24):
        for m in (10, 40):
            flag_at(HOUR - timedelta(hours=h, minutes=m), community=dogon)
    _burst(flag_at, 6, community=dogon)
    assert alerts_check(now=HOUR) == []


def test_only_confirmed_or_high_score_incitement_counts(flag_at):
    _burst(flag_at, 4, score=0.6)  # low score, open
    _burst(flag_at, 4, score=0.95, status=Flag.Status.DISMISSED)
    _burst(flag_at, 4, score=0.95, kind=Flag.Kind.MISINFORMATION, category=Flag.Category.FALSE_CLAIM)
    assert alerts_check(now=HOUR) == []
    _burst(flag_at, 5, score=0.3, status=Flag.Status.CONFIRMED)
    [alert] = alerts_check(now=HOUR)
    assert alert.observed == 5


def test_the_drivers_list_near_duplicate_clusters(flag_at):
    from monitor.models import Cluster

    cluster = Cluster.objects.create(size=30)
    flags = _burst(flag_at, 6)
    for flag in flags[:4]:
        flag.post.cluster = cluster
        flag.post.save(update_fields=["cluster"])
    [alert] = alerts_check(now=HOUR)
    assert alert.clusters == [{"cluster_id": cluster.pk, "posts": 4, "size": 30}]


class _Hook(BaseHTTPRequestHandler):
    received: list = []
    fail = False

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).fail:
            self.send_response(500)
        else:
            type(self).received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    _Hook.received, _Hook.fail = [], False
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Hook
    server.shutdown()
    server.server_close()


def test_a_new_alert_is_posted_to_webhooks_and_mailed(flag_at, webhook, settings, mailoutbox):
    url, hook = webhook
    settings.MONITOR_ALERT_WEBHOOKS = [url]
    settings.MONITOR_ALERT_EMAILS = ["leads@example.org", "duty@example.org"]
    _burst(flag_at, 7, text="Il faut chasser les Peuls <b>maintenant</b>")

    [alert] = alerts_check(now=HOUR)

    assert len(hook.received) == 1
    payload = hook.received[0]
    assert payload["alert_id"] == alert.pk and payload["community"]["slug"] == "peul" and payload["observed"] == 7
    assert "chasser" not in json.dumps(payload)  # no post text leaves Vigie
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["leads@example.org", "duty@example.org"]
    assert "Peul" in mailoutbox[0].subject
    assert set(alert.deliveries.values_list("status", flat=True)) == {"sent"}
    # Sent once: later checks do not send again.
    alerts_check(now=HOUR + timedelta(minutes=10))
    assert len(hook.received) == 1 and len(mailoutbox) == 1


def test_a_failing_webhook_never_breaks_the_check_and_is_retried(flag_at, webhook, settings):
    url, hook = webhook
    settings.MONITOR_ALERT_WEBHOOKS = [url, "http://127.0.0.1:9/closed", "file:///etc/passwd"]
    hook.fail = True
    _burst(flag_at, 7)

    [alert] = alerts_check(now=HOUR)

    deliveries = {d.target: d for d in alert.deliveries.all()}
    assert {d.status for d in deliveries.values()} == {AlertDelivery.Status.FAILED}
    assert "500" in deliveries[url].last_error and deliveries[url].attempts == 1
    assert "http" in deliveries["file:///etc/passwd"].last_error
    hook.fail = False
    alerts_check(now=HOUR + timedelta(minutes=10))
    assert AlertDelivery.objects.get(target=url).status == AlertDelivery.Status.SENT
    assert AlertDelivery.objects.get(target=url).attempts == 2
    assert len(hook.received) == 1


def test_acknowledging_is_audited_once(flag_at, lead):
    _burst(flag_at, 6)
    [alert] = alerts_check(now=HOUR)
    alert_acknowledge(alert_id=alert.pk, user=lead)
    alert_acknowledge(alert_id=alert.pk, user=lead)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.ACKNOWLEDGED and alert.acknowledged_by == lead
    assert AuditEvent.objects.filter(action="alert.acknowledge", object_id=str(alert.pk)).count() == 1


def test_the_task_runs_the_check_twice_with_one_alert(flag_at):
    from workers.tasks import alerts_check_task

    _burst(flag_at, 6, end=datetime.now(UTC).replace(second=0, microsecond=0))
    assert alerts_check_task.delay().get() + alerts_check_task.delay().get() == 1
    assert Alert.objects.count() == 1


def test_the_alerts_page_query_count_does_not_grow_with_alerts(client, lead, flag_at, django_assert_max_num_queries):
    from django.urls import reverse

    for day in range(12):
        _burst(flag_at, 6, end=HOUR - timedelta(days=day))
    for day in range(12):
        alerts_check(now=HOUR - timedelta(days=day))
    assert Alert.objects.count() >= 10
    client.force_login(lead)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("dashboard:alerts")).status_code == 200
