"""What every detector returns (re-exported by ``monitor.detection``)."""
from __future__ import annotations

from dataclasses import dataclass

# Flag.Category values a detector may name, most severe first; kept here as plain
# strings so detection never needs Django to be set up.
SEVERITY: tuple[str, ...] = (
    "incitement", "threat", "dehumanisation", "collective_blame", "exclusion", "derogation", "slur",
)


@dataclass(frozen=True)
class Detection:
    """One targeted community in one post, and why.

    ``evidence`` items are ``{"start", "end", "text", "rule", "role"}`` where
    ``text == post_text[start:end]`` and ``role`` is "target", "hostile" or
    "dampener".
    """

    community: str
    categories: list[str]
    score: float
    evidence: list[dict]
    detector: str
