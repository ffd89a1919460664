"""Stored weekly reports and early-warning alerts.

Idempotence lives in the database: one report per ISO week (re-running a week
replaces it), one alert per (community, window start), one delivery per
(alert, channel, target).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

from monitor.models import Community


class WeeklyReport(models.Model):
    """The weekly trend report of one ISO week, as rendered when it was generated.

    ``data`` holds only numbers already passed through the small-count rule
    (``MONITOR_REPORT_MIN_COUNT``) and no author handle, so every output made
    from it (HTML, PDF, CSV) is as private as the stored row.
    """

    week = models.CharField(max_length=8, unique=True, help_text="ISO week, e.g. 2026-W47")
    generated_at = models.DateTimeField()
    data = models.JSONField(default=dict)
    pdf = models.BinaryField()
    csv = models.TextField()

    class Meta:
        ordering = ["-week"]

    def __str__(self) -> str:
        return f"weekly report {self.week}"


class Alert(models.Model):
    """A significant hourly spike of incitement flags against one community."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        ACKNOWLEDGED = "acknowledged", "acknowledged"

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="alerts")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    observed = models.PositiveIntegerField()
    # Expected flags in the window: the baseline hourly rate (floored).
    expected = models.FloatField()
    # Variance-stabilised excess, 2 * (sqrt(observed) - sqrt(expected)); about a z-score.
    statistic = models.FloatField()
    p_value = models.FloatField()
    baseline_count = models.PositiveIntegerField(default=0)
    # [{"narrative_id": 3, "label": "...", "posts": 12}, ...]
    narratives = models.JSONField(default=list, blank=True)
    # [{"cluster_id": 9, "posts": 7, "size": 40}, ...]
    clusters = models.JSONField(default=list, blank=True)
    flag_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-window_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["community", "window_start"], name="alert_unique_per_window"),
        ]
        indexes = [models.Index(fields=["status", "-window_start"], name="alert_status_idx")]

    def __str__(self) -> str:
        return f"alert {self.community_id} {self.window_start:%Y-%m-%d %H:%M} ({self.observed} vs {self.expected:.2f})"


class AlertDelivery(models.Model):
    """One notification of one alert to one target; failures are retried on the next check."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "webhook"
        EMAIL = "email", "e-mail"

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=1024)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel", "target"], name="alert_delivery_unique"),
        ]
