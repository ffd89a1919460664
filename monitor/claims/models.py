"""The claim bank: claims fact-checkers have reviewed, and posts matched to them.

Idempotence lives in the database: a claim is unique by ``source_id`` (the
review's URL, or a hash of publisher and claim text), a match by
(post, claim).
"""
from __future__ import annotations

from django.db import models

from monitor.models import Flag, Post


class Claim(models.Model):
    """One claim as a fact-checker reviewed it."""

    class Verdict(models.TextChoices):
        FALSE = "false", "false"
        MISLEADING = "misleading", "misleading"
        TRUE = "true", "true"
        UNPROVEN = "unproven", "unproven"

    text = models.TextField(help_text="The claim as reviewed (ClaimReview.claimReviewed).")
    verdict = models.CharField(max_length=16, choices=Verdict.choices)
    # The fact-checker's own words for the rating ("Faux", "Partly false"), kept for display.
    rating_label = models.CharField(max_length=128, blank=True)
    language = models.CharField(max_length=8, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, help_text="When the review was published.")
    publisher = models.CharField(max_length=255, blank=True, help_text="Who published the review.")
    url = models.CharField(max_length=2048, blank=True, help_text="Where the claim appeared, when known.")
    review_url = models.CharField(max_length=2048, blank=True, help_text="The fact-check article.")
    claim_author = models.CharField(max_length=255, blank=True, help_text="Who made the claim (itemReviewed.author).")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When the claim was made.")
    # "url:<review url>" or "sha256:<hash of publisher + claim text>"; re-imports update, never duplicate.
    source_id = models.CharField(max_length=255, unique=True)
    # Seed examples written for the demo and tests, not real fact-checks.
    invented = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return f"[{self.verdict}] {self.text[:80]}"


class ClaimMatch(models.Model):
    """A post that repeats (or debunks) a claim, with why, and what a reviewer said."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        CONFIRMED = "confirmed", "confirmed"
        REJECTED = "rejected", "rejected"

    class Stance(models.TextChoices):
        ASSERTS = "asserts", "repeats the claim"
        DEBUNKS = "debunks", "quotes or refutes the claim"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="claim_matches")
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="matches")
    score = models.FloatField()
    stance = models.CharField(max_length=16, choices=Stance.choices, default=Stance.ASSERTS)
    # {"name": "claims-v1", "cosine": .., "lexical": .., "threshold": .., "exemplar": "claim"|"post:<id>"}
    method = models.JSONField(default=dict, blank=True)
    # Spans of the post and the cues that decided the stance, like Flag.evidence.
    evidence = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.SET_NULL, related_name="claim_matches")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "claim"], name="claim_match_unique_per_post")]
        indexes = [models.Index(fields=["claim", "status"], name="claim_match_claim_status_idx")]

    def __str__(self) -> str:
        return f"post {self.post_id} ~ claim {self.claim_id} ({self.score:.2f}, {self.status})"
