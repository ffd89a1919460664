"""Every queue Vigie uses, in one place.

- ingest: parsing uploaded files (light, many consumers).
- embed: sentence-transformers encoding (heavy; run with --prefetch-multiplier=1).
- index: the one consumer that owns writes to the FAISS index and cluster
  assignment (run exactly one worker process on it: --concurrency=1).
- detect: detection and flag creation (light, many consumers).
- reports: scheduled housekeeping and reports.
"""
from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    INGEST = "ingest"
    EMBED = "embed"
    INDEX = "index"
    DETECT = "detect"
    REPORTS = "reports"


ALL_QUEUES = [q.value for q in Queue]
