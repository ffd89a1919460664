"""Fixtures for the claim bank: the seed claims and posts run through the real pipeline."""
from __future__ import annotations

import pytest


@pytest.fixture
def seeded_claims(db):
    """The seed claim bank (seeds/claims.jsonl), as ``load_claims`` imports it."""
    from django.core.management import call_command

    from monitor.claims.models import Claim

    call_command("load_claims", stdout=None)
    return {c.review_url.rsplit("/", 1)[-1]: c for c in Claim.objects.all()}


@pytest.fixture
def process(make_post):
    """Store posts and run them through ``posts_process`` (real embeddings): ``process("text", ...)``."""
    from monitor.pipeline import posts_process

    def _process(*texts: str, language: str = ""):
        posts = [make_post(text=t, language=language) for t in texts]
        posts_process(post_ids=[p.pk for p in posts])
        for p in posts:
            p.refresh_from_db()
        return posts

    return _process
