"""Early warning: hourly spikes of incitement flags against a community.

``alerts_check(now=...)`` looks at the hour ending at ``now`` (times are the
posts' times, ``coalesce(created_at, ingested_at)``, so a backfilled month can
be replayed hour by hour). For each community:

1. ``observed``: flags of kind incitement against the community, on posts of
   the hour, that are confirmed, or not dismissed with a score at least
   ``MONITOR_ALERT_SCORE``.
2. The baseline: the same count over the ``MONITOR_ALERT_BASELINE_DAYS`` days
   before the hour, as an hourly rate, floored at
   ``MONITOR_ALERT_BASELINE_FLOOR`` (a community with no history is not
   alarmed by a single flag, and a rate of zero would make any flag infinitely
   surprising).
3. The test: under "nothing changed", the hour's count is Poisson with that
   rate; the p-value is P(X >= observed). A spike needs p < ``MONITOR_ALERT_ALPHA``
   and observed >= ``MONITOR_ALERT_MIN_COUNT``, so quiet communities stay quiet.
4. An ``Alert`` row, unique per (community, window start): re-running a check
   never duplicates it. A spike already alerted on in an overlapping window
   (a check every 10 minutes sees the same burst six times) is not alerted again.
5. Notifications: one ``AlertDelivery`` per webhook URL and one for the
   e-mail list; pending or failed deliveries are (re)tried on every check, up
   to ``MONITOR_ALERT_MAX_ATTEMPTS``. A failure is logged, never raised.
"""
from __future__ import annotations

import json
import logging
import math
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from monitor.audit import audit_record
from monitor.models import Cluster, Flag, post_time

from .models import Alert, AlertDelivery
from .privacy import text_safe

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)
TOP_DRIVERS = 5


def poisson_upper_tail(k: int, rate: float) -> float:
    """P(X >= k) for X ~ Poisson(rate), accurate in the far tail (no 1 - cdf cancellation)."""
    if k <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    if k <= rate:
        # Near the mean the lower sum is short and 1 - it is well conditioned.
        term, lower = math.exp(-rate), 0.0
        for i in range(k):
            lower += term
            term *= rate / (i + 1)
        return max(0.0, 1.0 - lower)
    log_term = -rate + k * math.log(rate) - math.lgamma(k + 1)
    term, total, i = math.exp(log_term), 0.0, k
    while term > 0 and term > total * 1e-17:
        total += term
        i += 1
        term *= rate / i
    return min(1.0, total)


def _qualifying() -> Q:
    strong = Q(status=Flag.Status.CONFIRMED) | (~Q(status=Flag.Status.DISMISSED) & Q(score__gte=settings.MONITOR_ALERT_SCORE))
    return Q(kind=Flag.Kind.INCITEMENT, community__isnull=False) & strong


def _flags_between(start: datetime, end: datetime):
    return (
        Flag.objects.filter(_qualifying())
        .annotate(t=post_time("post__"))
        .filter(t__gte=start, t__lt=end)
    )


@dataclass(frozen=True)
class Spike:
    community_id: int
    observed: int
    expected: float
    baseline_count: int
    p_value: float
    statistic: float


def spikes_find(*, window_start: datetime, window_end: datetime) -> list[Spike]:
    """Communities whose count in [window_start, window_end) is a significant spike."""
    observed = dict(
        _flags_between(window_start, window_end).values_list("community_id").annotate(n=Count("id")).order_by()
    )
    min_count = settings.MONITOR_ALERT_MIN_COUNT
    candidates = {c: n for c, n in observed.items() if n >= min_count}
    if not candidates:
        return []
    days = settings.MONITOR_ALERT_BASELINE_DAYS
    baseline = dict(
        _flags_between(window_start - timedelta(days=days), window_start)
        .filter(community_id__in=candidates)
        .values_list("community_id").annotate(n=Count("id")).order_by()
    )
    hours = days * 24 * (window_end - window_start) / timedelta(hours=1)
    spikes = []
    for community_id, n in sorted(candidates.items()):
        base = baseline.get(community_id, 0)
        rate = max(base / hours, settings.MONITOR_ALERT_BASELINE_FLOOR)
        p_value = poisson_upper_tail(n, rate)
        if p_value < settings.MONITOR_ALERT_ALPHA:
            statistic = 2.0 * (math.sqrt(n) - math.sqrt(rate))
            spikes.append(Spike(community_id, n, rate, base, p_value, statistic))
    return spikes


def _drivers(flag_ids: list[int]) -> tuple[list[dict], list[dict]]:
    """The narratives and near-duplicate clusters most of the spike's posts belong to."""
    posts = dict(Flag.objects.filter(pk__in=flag_ids).values_list("post_id", "post__cluster_id"))
    narratives: list[dict] = []
    try:
        from monitor.narratives.models import Narrative
        from monitor.narratives.services import narratives_for_posts
    except ImportError:  # the narratives app is not installed: clusters still explain the spike
        logger.warning("narratives app unavailable; alert drivers list clusters only")
    else:
        of_post = narratives_for_posts(post_ids=list(posts))
        counts = Counter(n for n in of_post.values() if n is not None)
        labels = dict(Narrative.objects.filter(pk__in=counts).values_list("pk", "label"))
        narratives = [
            {"narrative_id": nid, "label": text_safe(str(labels.get(nid, f"narrative {nid}"))), "posts": n}
            for nid, n in counts.most_common(TOP_DRIVERS)
        ]
    cluster_counts = Counter(c for c in posts.values() if c is not None)
    sizes = dict(Cluster.objects.filter(pk__in=cluster_counts).values_list("pk", "size"))
    clusters = [
        {"cluster_id": cid, "posts": n, "size": sizes.get(cid, n)}
        for cid, n in sorted(cluster_counts.items(), key=lambda item: (-item[1], -sizes.get(item[0], 0), item[0]))
        if n > 1
    ][:TOP_DRIVERS]
    return narratives, clusters


def _deliveries_create(alert: Alert) -> None:
    targets = [(AlertDelivery.Channel.WEBHOOK, url) for url in settings.MONITOR_ALERT_WEBHOOKS]
    if settings.MONITOR_ALERT_EMAILS:
        targets.append((AlertDelivery.Channel.EMAIL, ",".join(settings.MONITOR_ALERT_EMAILS)))
    for channel, target in targets:
        AlertDelivery.objects.get_or_create(alert=alert, channel=channel, target=target[:1024])


def alerts_check(*, now: datetime | None = None) -> list[Alert]:
    """Evaluate the hour ending at ``now`` (default: the current minute); return the alerts it created.

    Posts are counted in the hour of their own time, and some arrive late (an
    export imported hours after the fact): the hours before are evaluated again,
    ``MONITOR_ALERT_LATE_HOURS`` of them, so a burst that only became visible
    later still alerts (once: a window overlapping an alert is never alerted again).
    Safe to run any number of times for the same ``now``, and concurrently.
    Pending notifications are sent at the end, whatever happened before.
    """
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    created: list[Alert] = []
    for lag in range(settings.MONITOR_ALERT_LATE_HOURS + 1):
        window_end = now - lag * WINDOW
        created += _window_check(window_start=window_end - WINDOW, window_end=window_end)
    alert_deliveries_send()
    return created


def _window_check(*, window_start: datetime, window_end: datetime) -> list[Alert]:
    """Create the alerts of one window: its spikes not already alerted on; return them."""
    created: list[Alert] = []
    for spike in spikes_find(window_start=window_start, window_end=window_end):
        overlapping = Alert.objects.filter(
            community_id=spike.community_id, window_start__lt=window_end, window_end__gt=window_start
        ).exclude(window_start=window_start)
        if overlapping.exists():
            continue
        if Alert.objects.filter(community_id=spike.community_id, window_start=window_start).exists():
            continue
        flag_ids = sorted(_flags_between(window_start, window_end).filter(community_id=spike.community_id)
                          .values_list("id", flat=True))
        narratives, clusters = _drivers(flag_ids)
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    community_id=spike.community_id, window_start=window_start, window_end=window_end,
                    observed=spike.observed, expected=spike.expected, statistic=spike.statistic,
                    p_value=spike.p_value, baseline_count=spike.baseline_count,
                    narratives=narratives, clusters=clusters, flag_ids=flag_ids[:500],
                )
                _deliveries_create(alert)
        except IntegrityError:  # a concurrent check created it first
            continue
        logger.warning("alert %s: %s flags against community %s in %s (expected %.2f, p=%.2g)",
                       alert.pk, spike.observed, spike.community_id, window_start, spike.expected, spike.p_value)
        created.append(alert)
    return created


def alert_payload(alert: Alert) -> dict:
    """What a webhook receives: numbers and narrative labels, never post text or authors."""
    base = settings.MONITOR_BASE_URL.rstrip("/")
    return {
        "alert_id": alert.pk,
        "community": {"slug": alert.community.slug, "name": alert.community.name},
        "window_start": alert.window_start.isoformat(),
        "window_end": alert.window_end.isoformat(),
        "observed": alert.observed,
        "expected": round(alert.expected, 3),
        "p_value": alert.p_value,
        "statistic": round(alert.statistic, 3),
        "narratives": [{"label": n["label"], "posts": n["posts"]} for n in alert.narratives],
        "clusters": alert.clusters,
        "url": f"{base}/alerts/#alert-{alert.pk}" if base else "",
    }


def _alert_text(alert: Alert) -> tuple[str, str]:
    payload = alert_payload(alert)
    subject = (f"[Vigie] Spike against {alert.community.name}: {alert.observed} flags in the hour "
               f"to {alert.window_end:%Y-%m-%d %H:%M} UTC")
    lines = [
        f"Community: {alert.community.name}",
        f"Window: {alert.window_start:%Y-%m-%d %H:%M} to {alert.window_end:%H:%M} UTC",
        f"Flags observed: {alert.observed} (expected {alert.expected:.2f} per hour; p = {alert.p_value:.2g})",
    ]
    if payload["narratives"]:
        lines.append("Narratives: " + "; ".join(f"{n['label']} ({n['posts']} posts)" for n in payload["narratives"]))
    if payload["url"]:
        lines.append(f"Open: {payload['url']}")
    return subject.replace("\n", " "), "\n".join(lines) + "\n"


def _send(delivery: AlertDelivery) -> None:
    alert = delivery.alert
    if delivery.channel == AlertDelivery.Channel.WEBHOOK:
        # urllib also opens file:// and ftp:// URLs; a webhook is HTTP(S) only.
        if urllib.parse.urlsplit(delivery.target).scheme not in ("http", "https"):
            raise ValueError("a webhook URL must start with http:// or https://")
        body = json.dumps(alert_payload(alert)).encode()
        request = urllib.request.Request(
            delivery.target, data=body, method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "Vigie-alerts"},
        )
        with urllib.request.urlopen(request, timeout=settings.MONITOR_ALERT_WEBHOOK_TIMEOUT) as response:
            if not 200 <= response.status < 300:
                raise RuntimeError(f"HTTP {response.status}")
    else:
        subject, body = _alert_text(alert)
        send_mail(subject, body, None, [a for a in delivery.target.split(",") if a], fail_silently=False)


def alert_deliveries_send() -> int:
    """Send every pending (or failed, attempts left) notification; return how many were sent."""
    due = (
        AlertDelivery.objects.filter(status__in=[AlertDelivery.Status.PENDING, AlertDelivery.Status.FAILED])
        .filter(attempts__lt=settings.MONITOR_ALERT_MAX_ATTEMPTS)
        .select_related("alert__community")
        .order_by("id")
    )
    sent = 0
    for delivery in due:
        # Claim the attempt first, so two concurrent checks do not both send it.
        claimed = AlertDelivery.objects.filter(pk=delivery.pk, attempts=delivery.attempts).update(
            attempts=F("attempts") + 1, updated_at=timezone.now()
        )
        if not claimed:
            continue
        try:
            _send(delivery)
        except Exception as exc:  # any failure: log it, keep it for the next check
            reason = f"{type(exc).__name__}: {exc}"[:1000]
            logger.warning("alert %s: %s delivery to %s failed: %s", delivery.alert_id, delivery.channel,
                           delivery.target, reason)
            AlertDelivery.objects.filter(pk=delivery.pk).update(status=AlertDelivery.Status.FAILED, last_error=reason)
        else:
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                status=AlertDelivery.Status.SENT, sent_at=timezone.now(), last_error=""
            )
            sent += 1
    return sent


class AlertNotFound(LookupError):
    pass


def alert_acknowledge(*, alert_id: int, user) -> Alert:
    """Mark an open alert acknowledged by ``user`` and audit it; acknowledging twice is a no-op."""
    with transaction.atomic():
        changed = Alert.objects.filter(pk=alert_id, status=Alert.Status.OPEN).update(
            status=Alert.Status.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=timezone.now()
        )
        alert = Alert.objects.select_related("community").filter(pk=alert_id).first()
        if alert is None:
            raise AlertNotFound(alert_id)
        if changed:
            audit_record(actor=user, action="alert.acknowledge", obj=alert,
                         data={"community": alert.community.slug, "window_start": alert.window_start.isoformat()})
    return alert
