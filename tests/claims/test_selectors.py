"""Listing and exporting the posts matched to a claim."""
from __future__ import annotations

import csv
import io
from io import StringIO

from django.core.management import call_command

from monitor.claims.models import Claim, ClaimMatch
from monitor.claims.selectors import (
    claim_matches,
    claim_matches_csv,
    claims_list,
    csv_safe,
)


def _claim(text="Une fausse affirmation", **fields):
    fields.setdefault("source_id", f"test:{text}")
    return Claim.objects.create(text=text, verdict="false", **fields)


def test_claim_matches_lists_best_first_and_hides_rejected(db, make_post, django_assert_max_num_queries):
    claim = _claim()
    low, high, rejected, debunk = (make_post(text=t) for t in ("bas", "haut", "rejeté", "démenti"))
    ClaimMatch.objects.create(post=low, claim=claim, score=0.7)
    ClaimMatch.objects.create(post=high, claim=claim, score=0.9)
    ClaimMatch.objects.create(post=rejected, claim=claim, score=0.95, status="rejected")
    ClaimMatch.objects.create(post=debunk, claim=claim, score=0.8, stance="debunks")

    with django_assert_max_num_queries(1):
        texts = [m.post.text for m in claim_matches(claim_id=claim.pk)]
    assert texts == ["haut", "démenti", "bas"]
    assert [m.post.text for m in claim_matches(claim_id=claim.pk, include_debunks=False)] == ["haut", "bas"]
    assert claims_list().get(pk=claim.pk).repeats == 3


def test_the_csv_export_neutralises_formulas(db, make_post):
    claim = _claim(text="=HYPERLINK(\"http://evil\")")
    post = make_post(text="@everyone +33 -1 =1+1 partagez")
    ClaimMatch.objects.create(post=post, claim=claim, score=0.8)

    rows = list(csv.reader(io.StringIO(claim_matches_csv(claim_id=claim.pk))))

    assert rows[0][:3] == ["match_id", "claim_id", "claim"]
    assert rows[1][2] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1][rows[0].index("text")] == "'@everyone +33 -1 =1+1 partagez"
    assert [csv_safe(v) for v in ("+1", "-1", "@a", "=a", "a=b", None)] == ["'+1", "'-1", "'@a", "'=a", "a=b", ""]


def test_export_command_writes_the_csv(db, make_post, tmp_path):
    claim = _claim()
    ClaimMatch.objects.create(post=make_post(text="un post"), claim=claim, score=0.8)
    target = tmp_path / "out.csv"

    call_command("export_claim_matches", str(claim.pk), "--output", str(target), stdout=StringIO())

    assert "un post" in target.read_text(encoding="utf-8")
