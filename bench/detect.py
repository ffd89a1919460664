"""Is the detector cheap next to embedding?

For N realistic posts (default 10,000), this prints:

1. ``embed``: the configured embedder (the multilingual USE by default), loaded
   and warmed up, encoding the N texts (the pipeline's one expensive step);
2. ``detect``: the detector's own time given those embeddings: language
   guess, lexicon, n-gram model, embedding model, exemplar bank and combiner,
   for all N posts (``detect_texts(texts, languages=..., vectors=...)``);
3. their ratio, detect / embed (below 1 means detection costs less than embedding).

The posts come from ``seeds/demo_posts.jsonl`` (news, chatter, counter-speech
and hateful posts in French, English and Bambara), each made unique with a
small variation (a place, a hashtag, a number); about half of them name a
community, as in the demo. Model loading is never timed.

    .venv/bin/python bench/detect.py            # 10,000 posts
    .venv/bin/python bench/detect.py --posts 2000

Last line: ``RESULT detect_seconds=<x> embed_seconds=<y> ratio=<z>``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PLACES = ["Mopti", "Sévaré", "Ségou", "Bamako", "Gao", "Tombouctou", "Djenné", "Bandiagara", "Kayes", "Sikasso",
          "Koutiala", "Douentza", "Niono", "Kidal", "Ménaka", "Bankass"]
TAGS = ["#Mali", "#Sahel", "#Mopti", "#Bamako", "#Kati", "#Info", "#Urgent", "#Maliba", "", "", ""]


def realistic_posts(n: int, *, seed: int = 7) -> list[str]:
    """N distinct posts built from the demo seeds."""
    rows = [json.loads(line) for line in (ROOT / "seeds" / "demo_posts.jsonl").open(encoding="utf-8") if line.strip()]
    texts = [r["text"] for r in rows]
    rng = random.Random(seed)
    out = []
    for i in range(n):
        base = texts[i % len(texts)]
        variation = rng.choice(
            [f" ({rng.choice(PLACES)})", f" {rng.choice(TAGS)}", f" — {rng.randint(2, 999)}", f" {rng.choice(PLACES)}, {rng.randint(1, 28)}/11"]
        )
        out.append((base + variation).strip())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitor.settings")
    import django

    django.setup()
    from monitor.detection import DETECTOR_ID, detect_texts
    from monitor.detection.hybrid import hybrid_model
    from monitor.detection.language import language_detect
    from monitor.embeddings import get_embedder

    texts = realistic_posts(args.posts)
    embedder = get_embedder()
    warm = texts[:64]
    warm_vectors = embedder.encode(warm)  # loads the model: not timed
    detect_texts(warm, vectors=warm_vectors)  # loads the detector's model and seeds: not timed
    active = DETECTOR_ID if hybrid_model() is not None else "lexicon-v1 (no trained model)"

    t0 = time.perf_counter()
    vectors = embedder.encode(texts)
    embed_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    languages = [language_detect(t) for t in texts]
    results = detect_texts(texts, languages=languages, vectors=vectors)
    detect_seconds = time.perf_counter() - t0

    named = sum(1 for r in results if r)
    flagged = sum(1 for r in results if r and max(d.score for d in r) >= 0.5)
    ratio = detect_seconds / embed_seconds if embed_seconds else float("nan")
    print(f"posts: {len(texts)} ({named} name a community, {flagged} flagged); detector {active}; "
          f"embedder {embedder.model_id} on {embedder.device}")
    print(f"embed:  {embed_seconds:8.2f} s  ({len(texts) / embed_seconds:7.0f} posts/s)")
    print(f"detect: {detect_seconds:8.2f} s  ({len(texts) / detect_seconds:7.0f} posts/s), given the embeddings")
    print(f"ratio detect/embed: {ratio:.3f}")
    print(f"RESULT detect_seconds={detect_seconds:.3f} embed_seconds={embed_seconds:.3f} ratio={ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
