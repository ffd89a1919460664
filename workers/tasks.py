"""Celery tasks: thin wrappers over monitor/ functions. Filled in by the pipeline."""
from __future__ import annotations


def enqueue_posts_process(ids: list[int]) -> None:  # replaced below
    raise NotImplementedError
