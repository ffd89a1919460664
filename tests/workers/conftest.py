"""A real Celery worker on Redis, in its own process, on the test database.

These fixtures need PostgreSQL and Redis. Under CI (``CI=true``) or with
``MONITOR_REQUIRE_SERVICES=1`` a missing service fails the test; elsewhere it
skips, so a laptop without services can still run the unit tests.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from tests.conftest import services_required

ROOT = Path(__file__).resolve().parents[2]
TEST_REDIS_DB = 15


def _need(reason: str) -> None:
    if services_required():
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


def _redis_url() -> str:
    base = django_settings.REDIS_URL
    if not base:
        _need("REDIS_URL is not set")
    # A database of its own, so a test never eats a developer's queue.
    return base.rsplit("/", 1)[0] + f"/{TEST_REDIS_DB}" if base.count("/") >= 3 else f"{base}/{TEST_REDIS_DB}"


@pytest.fixture
def live_services(transactional_db):
    """PostgreSQL (the test database) and an empty Redis database; returns the broker URL."""
    if connection.vendor != "postgresql":
        _need(f"integration tests need PostgreSQL (DATABASE_URL), not {connection.vendor}")
    import redis

    url = _redis_url()
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.flushdb()
    except redis.RedisError as exc:
        _need(f"Redis at {url} unreachable: {exc}")
    return url


def _use_broker(app, url: str) -> None:
    """Point the app at another broker, dropping cached connection and producer pools."""
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def live_celery(live_services, settings, tmp_path):
    """Point this process's Celery app at Redis (not eager) and yield a worker starter."""
    from workers.celery import app

    broker = live_services
    app.conf.task_always_eager = False
    previous_broker = app.conf.broker_url
    _use_broker(app, broker)
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": broker,
        "MONITOR_CELERY_EAGER": "false",
        "MONITOR_INDEX_DIR": str(settings.MONITOR_INDEX_DIR),
        "MONITOR_DATA_DIR": str(tmp_path),
        "MONITOR_PIPELINE_BATCH_SIZE": str(settings.MONITOR_PIPELINE_BATCH_SIZE),
        # A killed worker's unacknowledged message comes back after this many seconds.
        "MONITOR_BROKER_VISIBILITY_TIMEOUT": "5",
        # The sweeper re-sends posts pending for longer than this.
        "MONITOR_STALE_PENDING_SECONDS": "10",
        "MONITOR_WORKER_WARMUP": "false",
        "PYTHONPATH": str(ROOT),
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    workers: list[subprocess.Popen] = []

    def start(log_name: str = "worker.log") -> subprocess.Popen:
        log = open(tmp_path / log_name, "wb")
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "workers.celery:app", "worker",
                "-Q", "ingest,embed,index,detect,reports", "--pool=solo", "--concurrency=1",
                "--without-gossip", "--without-mingle", "-l", "info",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        workers.append(proc)
        return proc

    def kill(proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    start.kill = kill  # type: ignore[attr-defined]
    start.log_dir = tmp_path  # type: ignore[attr-defined]
    yield start
    for proc in workers:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    app.conf.task_always_eager = True
    _use_broker(app, previous_broker)


def wait_for(predicate, *, timeout: float, interval: float = 0.25, what: str = "condition", logs: Path | None = None):
    """Poll until ``predicate()`` is truthy; fail with the worker log tail otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    tail = ""
    if logs is not None:
        for log in sorted(logs.glob("worker*.log")):
            tail += f"\n--- {log.name} ---\n" + log.read_text(errors="replace")[-3000:]
    pytest.fail(f"timed out after {timeout}s waiting for {what}{tail}")
