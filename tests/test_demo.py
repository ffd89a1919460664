"""The README's first command, minus the server: the embedded demo on SQLite, run twice."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run_demo(data_dir: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "MONITOR_CELERY_EAGER"}}
    env["MONITOR_DATA_DIR"] = str(data_dir)
    env.pop("MONITOR_INDEX_DIR", None)
    proc = subprocess.run(
        [sys.executable, "manage.py", "demo", "--no-serve"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout


def test_the_embedded_demo_flags_posts_and_is_idempotent(tmp_path):
    first = _run_demo(tmp_path)
    assert "Vigie is ready at http://127.0.0.1:8000/" in first
    assert "reviewer / vigie-demo-2026" in first
    new = int(re.search(r"new: (\d+)", first).group(1))
    assert new > 300
    flags = int(re.search(r"open flags in the queue: (\d+)", first).group(1))
    assert flags > 50

    db = sqlite3.connect(tmp_path / "vigie.sqlite3")
    pending = db.execute("select count(*) from monitor_post where status != 'processed'").fetchone()[0]
    assert pending == 0
    # Hateful demo posts are flagged far more often than benign ones.
    rows = db.execute(
        "select json_extract(p.raw, '$.demo_label'), count(distinct p.id), count(distinct f.post_id) "
        "from monitor_post p left join monitor_flag f on f.post_id = p.id group by 1"
    ).fetchall()
    rates = {label: flagged / total for label, total, flagged in rows}
    assert rates["hateful"] > 0.6 and rates["benign"] < 0.15, rates
    assert (tmp_path / "index" / "posts.faiss").exists()

    # Narratives and a stored trend report for each week the demo posts cover.
    weeks = re.findall(r"^week (\d{4}-W\d{2}): .*$", first, re.M)
    assert weeks and "2026-W45" in weeks
    assert db.execute("select count(*) from reports_weeklyreport").fetchone()[0] == len(weeks)
    assert db.execute("select count(*) from narratives_narrative").fetchone()[0] > 0

    second = _run_demo(tmp_path)
    assert "new: 0" in second
    assert f"open flags in the queue: {flags}" in second
    # Rebuilding the same weeks gives the same narratives.
    assert re.findall(r"^week .*$", second, re.M) == re.findall(r"^week .*$", first, re.M)
