"""Vigie's data model.

The database is the source of truth. The FAISS index is derived from the
``Embedding`` rows and can be rebuilt at any time (``manage.py rebuild_index``).
Idempotence is enforced here, by unique constraints, not by hope.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce


class Community(models.Model):
    """A protected community, loaded from ``seeds/communities.yaml``."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=128)
    # {"fr": ["Peul", "Peuls", ...], "en": ["Fulani", ...], "bm": ["Fula", ...]}
    names = models.JSONField(default=dict, blank=True)
    # [{"term": "...", "lang": "fr", "note": "what it means and why it is derogatory"}]
    derogatory_terms = models.JSONField(default=list, blank=True)
    protected = models.BooleanField(default=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "communities"

    def __str__(self) -> str:
        return self.name


class Cluster(models.Model):
    """A group of near-duplicate posts; one review decision can cover it."""

    representative = models.ForeignKey(
        "Post", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    size = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"cluster {self.pk} ({self.size} posts)"


class Post(models.Model):
    """One post from one platform, stored once."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        PROCESSED = "processed", "processed"
        FAILED = "failed", "failed"

    platform = models.CharField(max_length=32)
    external_id = models.CharField(max_length=191)
    # Keyed HMAC of (platform, author id): stable across imports, useless without the key.
    author_pseudonym = models.CharField(max_length=32, db_index=True)
    author_handle = models.CharField(max_length=255, blank=True)
    author_followers = models.PositiveBigIntegerField(null=True, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(null=True, blank=True, db_index=True)
    ingested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    url = models.CharField(max_length=2048, blank=True)
    likes = models.PositiveBigIntegerField(default=0)
    shares = models.PositiveBigIntegerField(default=0)
    replies = models.PositiveBigIntegerField(default=0)
    views = models.PositiveBigIntegerField(default=0)
    raw = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=32, blank=True, help_text="api, jsonl, csv, telegram, x")
    # Marks the insert that created the row, so an import can tell its own rows from a
    # concurrent import's (INSERT ... ON CONFLICT DO NOTHING returns no ids).
    ingest_batch = models.CharField(max_length=32, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    cluster = models.ForeignKey(
        Cluster, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["platform", "external_id"], name="post_unique_per_platform"),
        ]
        indexes = [models.Index(fields=["status", "status_changed_at"], name="post_status_idx")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.external_id}"


def post_time(path: str = "") -> Coalesce:
    """A post's time: when it was written, or when Vigie got it if the platform did not say.

    ``path`` reaches the post from another model (``post_time("post__")`` on flags).
    """
    return Coalesce(f"{path}created_at", f"{path}ingested_at")


class Embedding(models.Model):
    """A post's vector, with the model that made it, so the index can be rebuilt."""

    post = models.OneToOneField(Post, primary_key=True, on_delete=models.CASCADE, related_name="embedding")
    model_id = models.CharField(max_length=255, db_index=True)
    dim = models.PositiveSmallIntegerField()
    vector = models.BinaryField()  # float32, L2-normalised, little-endian
    created_at = models.DateTimeField(auto_now_add=True)


class Flag(models.Model):
    """A detector's finding on a post, waiting for (or carrying) a review decision."""

    class Kind(models.TextChoices):
        INCITEMENT = "incitement", "incitement"
        MISINFORMATION = "misinformation", "misinformation"

    class Category(models.TextChoices):
        INCITEMENT = "incitement", "incitement to violence"
        THREAT = "threat", "threat"
        DEHUMANISATION = "dehumanisation", "dehumanisation"
        COLLECTIVE_BLAME = "collective_blame", "collective blame / false accusation"
        EXCLUSION = "exclusion", "exclusion or expulsion"
        DEROGATION = "derogation", "derogation"
        SLUR = "slur", "slur"
        FALSE_CLAIM = "false_claim", "false claim"

    class Status(models.TextChoices):
        OPEN = "open", "open"
        CONFIRMED = "confirmed", "confirmed"
        DISMISSED = "dismissed", "dismissed"
        ESCALATED = "escalated", "escalated"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.PROTECT, related_name="flags"
    )
    category = models.CharField(max_length=32, choices=Category.choices)
    categories = models.JSONField(default=list, blank=True)
    score = models.FloatField()
    # [{"start": 0, "end": 4, "text": "Peul", "rule": "community:peul", "role": "target"}, ...]
    evidence = models.JSONField(default=list, blank=True)
    detector = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.FloatField(default=0.0)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Re-running detection on a post never adds a second flag for the same target.
            models.UniqueConstraint(
                fields=["post", "kind", "community"],
                condition=Q(community__isnull=False),
                name="flag_unique_per_community",
            ),
            models.UniqueConstraint(
                fields=["post", "kind"],
                condition=Q(community__isnull=True),
                name="flag_unique_without_community",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-priority"], name="flag_queue_idx"),
            models.Index(fields=["claimed_by", "claimed_until"], name="flag_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}/{self.category} on {self.post_id}"


class ReviewDecision(models.Model):
    """What a reviewer decided on a flag, and why.

    Rows are only ever added: a revert is a new row (``action="revert"``,
    ``reverts`` pointing at the decision it undoes), so the log keeps both.
    """

    class Action(models.TextChoices):
        CONFIRM = "confirm", "confirm"
        DISMISS = "dismiss", "dismiss"
        ESCALATE = "escalate", "escalate"
        REVERT = "revert", "revert"

    class FollowUp(models.TextChoices):
        """What a confirmed flag leads to."""

        REMOVE = "remove", "ask the platform to remove it"
        PLATFORM = "platform", "escalate to the platform's trust and safety team"
        AUTHORITIES = "authorities", "report to the authorities"

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions")
    action = models.CharField(max_length=16, choices=Action.choices)
    reason_code = models.CharField(max_length=32, blank=True)
    # Only for confirm: what happens to the post next.
    follow_up = models.CharField(max_length=16, choices=FollowUp.choices, blank=True)
    note = models.TextField(blank=True)
    # The status the flag had before this decision, so a revert knows where to go back.
    from_status = models.CharField(max_length=16, blank=True)
    # Shared by every decision of one cluster action, so the action can be undone as one.
    batch = models.CharField(max_length=32, blank=True, db_index=True)
    reverts = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reverted_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["reviewer", "-created_at"], name="decision_reviewer_idx")]


class ReviewerSettings(models.Model):
    """A reviewer's own preferences; no row means the defaults (text blurred)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_settings")
    blur = models.BooleanField(default=True, help_text="Blur flagged text until revealed")
    updated_at = models.DateTimeField(auto_now=True)


class QualityReview(models.Model):
    """A decided flag drawn by a lead for a blind second review by another reviewer."""

    decision = models.OneToOneField(ReviewDecision, on_delete=models.CASCADE, related_name="quality_review")
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="quality_reviews")
    sampled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=16, blank=True)
    reason_code = models.CharField(max_length=32, blank=True)
    # Same action as the first decision; null until the second review is done.
    agrees = models.BooleanField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class AuditEvent(models.Model):
    """Append-only record of who did what. Rows are never updated or deleted.

    On PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE; the
    model refuses them in Python on every backend.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # The audit page filters by object ("every event on flag 123").
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def save(self, *args, **kwargs):  # noqa: D401 - guard, not logic
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a SHA-256 of the key is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
