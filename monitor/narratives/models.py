"""Narratives: what a week's posts are saying, grouped, labelled and followed over weeks.

A ``Narrative`` keeps its id from week to week; ``NarrativeWeek`` holds one
week's figures and centroid; ``NarrativeMember`` says which posts told it that
week. Idempotence lives in the database: one ``NarrativeWeek`` per
(narrative, week), one membership per (post, week).
"""
from __future__ import annotations

from django.db import models

from monitor.models import Community, Post


class Narrative(models.Model):
    """One story followed across weeks; ``label`` and ``terms`` are its latest week's."""

    label = models.CharField(max_length=255, help_text='Top terms joined by " · ".')
    terms = models.JSONField(default=list)
    representative_post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Dominant community among the flagged members of the latest week.
    community = models.ForeignKey(
        Community, null=True, blank=True, on_delete=models.SET_NULL, related_name="narratives"
    )
    first_week = models.CharField(max_length=8)
    last_week = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_week", "id"]

    def __str__(self) -> str:
        return f"{self.pk}: {self.label}"


class NarrativeWeek(models.Model):
    """A narrative's figures for one ISO week."""

    narrative = models.ForeignKey(Narrative, on_delete=models.CASCADE, related_name="weeks")
    week = models.CharField(max_length=8, db_index=True)
    size = models.PositiveIntegerField(default=0, help_text="Posts that week.")
    flagged = models.PositiveIntegerField(default=0, help_text="Of which with at least one flag.")
    daily = models.JSONField(default=dict, help_text='{"2026-11-16": n, ...} for the 7 days.')
    centroid = models.BinaryField()  # float32, L2-normalised
    representative_post = models.ForeignKey(
        Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    terms = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["narrative", "week"], name="narrative_week_unique")]

    def __str__(self) -> str:
        return f"narrative {self.narrative_id} in {self.week}: {self.size}"


class NarrativeMember(models.Model):
    """A post that told a narrative in a given week."""

    narrative = models.ForeignKey(Narrative, on_delete=models.CASCADE, related_name="members")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="narrative_memberships")
    week = models.CharField(max_length=8)
    # Cosine to the week's centroid: the most central members are the narrative's examples.
    similarity = models.FloatField(default=0.0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "week"], name="narrative_member_post_week_unique")]
        indexes = [models.Index(fields=["narrative", "week"], name="narrative_member_nw_idx")]
