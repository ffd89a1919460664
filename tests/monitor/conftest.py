"""Fixtures for tests of monitor/."""
from __future__ import annotations

import pytest


@pytest.fixture
def no_pipeline(monkeypatch) -> list[list[int]]:
    """Replace the pipeline hook of ``posts_ingest`` with a recorder.

    Returns the list of id lists it was called with, one entry per committed batch,
    so a test can check what would have been enqueued without a worker.
    """
    calls: list[list[int]] = []
    monkeypatch.setattr("monitor.ingest._enqueue_pipeline", lambda ids: calls.append(list(ids)))
    return calls
