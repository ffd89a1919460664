"""Fixtures for the reports app: posts at a given time, flags on them."""
from __future__ import annotations

import itertools

import pytest

_n = itertools.count(1)


@pytest.fixture
def dogon(db):
    from monitor.models import Community

    return Community.objects.create(slug="dogon", name="Dogon", names={"fr": ["Dogon", "Dogons"]})


@pytest.fixture
def flag_at(make_post, peul):
    """``flag_at(when, text=..., community=..., score=..., status=...)``: a flag on a new post written at ``when``."""
    from monitor.models import Flag

    def _make(when, *, text="Il faut chasser les Peuls", community=None, score=0.9, status=Flag.Status.OPEN,
              kind=Flag.Kind.INCITEMENT, category=Flag.Category.EXCLUSION, language="fr", platform="x", **post_fields):
        post = make_post(text=text, created_at=when, language=language, platform=platform, **post_fields)
        return Flag.objects.create(
            post=post, community=community or peul, kind=kind, category=category, score=score,
            detector="test", status=status,
        )

    return _make


@pytest.fixture
def alert_settings(settings):
    """The documented alert defaults, pinned so a changed default does not silently change the tests."""
    settings.MONITOR_ALERT_MIN_COUNT = 5
    settings.MONITOR_ALERT_SCORE = 0.8
    settings.MONITOR_ALERT_ALPHA = 0.001
    settings.MONITOR_ALERT_BASELINE_DAYS = 7
    settings.MONITOR_ALERT_BASELINE_FLOOR = 0.1
    settings.MONITOR_ALERT_LATE_HOURS = 6
    settings.MONITOR_ALERT_WEBHOOKS = []
    settings.MONITOR_ALERT_EMAILS = []
    return settings
