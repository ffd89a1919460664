"""Celery workers: the app, its queues, thin tasks and the beat schedule."""
from workers.celery import app as celery_app

__all__ = ["celery_app"]
