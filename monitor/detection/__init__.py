"""Detection of hostile speech against protected communities.

Public API:

- ``Detection``: one targeted community in one post, with categories (most
  severe first), a score in [0, 1], the evidence and the detector's id.
- ``detect_text(text, language=...)``: every detector's findings for a post,
  one ``Detection`` per targeted community; ``[]`` when nothing is aimed at a
  protected community. Detections below ``detection_threshold()`` are still
  returned (a reviewer or researcher may want them); callers create flags
  only at or above it.
- ``detection_threshold()``: the score at or above which a flag is created.

Everything here is pure: the YAML seeds are read once per process, no database.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.detection.base import SEVERITY, Detection
from monitor.detection.hybrid import DETECTOR_ID, detect_batch
from monitor.detection.lexicon import DETECTOR_ID as LEXICON_DETECTOR_ID

__all__ = [
    "DETECTOR_ID", "LEXICON_DETECTOR_ID", "SEVERITY", "Detection", "detect_text", "detect_texts",
    "detection_threshold",
]

DEFAULT_THRESHOLD = 0.5


def detect_text(text: str, *, language: str = "", vector: np.ndarray | None = None) -> list[Detection]:
    """Detections for one post, highest score first; ``[]`` if no protected community is named.

    ``language`` (fr, en, bm, ...) is optional; it decides whether short
    Bambara words that are also French or English words are read as Bambara.
    ``vector`` is the post's embedding when the caller has it; otherwise a
    post that names a community is embedded here.
    """
    vectors = None if vector is None else np.asarray(vector, dtype=np.float32).reshape(1, -1)
    return detect_batch([text], languages=[language], vectors=vectors)[0]


def detect_texts(
    texts: Sequence[str], *, languages: Sequence[str] | None = None, vectors: np.ndarray | None = None
) -> list[list[Detection]]:
    """``detect_text`` for many posts at once (one embedding call for those that need it), in order."""
    return detect_batch(list(texts), languages=list(languages) if languages else None, vectors=vectors)


def detection_threshold() -> float:
    """Score at or above which a detection becomes a flag.

    ``settings.MONITOR_DETECTION_THRESHOLD`` when defined, else 0.5: a single
    predicated insult ("les Peuls sont des menteurs") or a call to violence
    reaches it; a negated, reported or questioned one does not.
    """
    try:
        from django.conf import settings

        value = getattr(settings, "MONITOR_DETECTION_THRESHOLD", DEFAULT_THRESHOLD)
    except Exception:  # Django not configured: scripts and benchmarks
        value = DEFAULT_THRESHOLD
    return float(value)
