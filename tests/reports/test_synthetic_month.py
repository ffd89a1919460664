"""Done criterion: a synthetic month with a known narrative spiking against one community.

Four ISO weeks of posts (real embeddings from the bundled model), several
communities with background chatter and background flagged posts at a steady
rate, and an injected rumour against the Dogon that bursts in week 3. We
build each week's narratives, replay ``alerts_check`` hour by hour over the
month, and check that:

- the week-3 report lists the injected narrative among its top growing
  narratives, against the Dogon;
- an alert for the Dogon fires for the very hour of the burst;
- nothing else alarms: no alert in the quiet weeks, none for other communities.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from datetime import timedelta

import pytest

from monitor.embeddings import get_embedder, vector_to_bytes
from monitor.ingest import author_pseudonym
from monitor.models import Community, Embedding, Flag, Post
from monitor.narratives.models import Narrative, NarrativeMember
from monitor.narratives.services import narratives_build
from monitor.reports.alerts import alerts_check
from monitor.reports.models import Alert
from monitor.reports.services import report_build_weekly
from monitor.weeks import week_bounds

pytestmark = pytest.mark.slow

WEEKS = ["2026-W43", "2026-W44", "2026-W45", "2026-W46"]
SPIKE_WEEK = WEEKS[2]
MONTH_START, _ = week_bounds(WEEKS[0])
_, MONTH_END = week_bounds(WEEKS[-1])
# Wednesday 14:00-15:00 UTC of week 3.
SPIKE_START = week_bounds(SPIKE_WEEK)[0] + timedelta(days=2, hours=14)

CHATTER = [
    ("Le prix du {} a encore augmenté au marché de {} {}", ["riz", "mil", "sucre", "carburant"],
     ["Bamako", "Ségou", "Sikasso", "Kayes"], ["aujourd'hui", "cette semaine", "depuis lundi"]),
    ("Les Aigles du Mali {} contre {} {}", ["ont gagné", "ont perdu", "font match nul"],
     ["le Sénégal", "la Côte d'Ivoire", "le Ghana", "la Guinée"], ["ce soir", "hier soir", "au stade"]),
    ("{} prévues à {} {}, restez prudents", ["Fortes pluies", "Fortes chaleurs", "Tempêtes de sable"],
     ["Kayes", "Gao", "Tombouctou", "Kita"], ["demain", "ce week-end", "toute la semaine"]),
    ("Encore une coupure d'électricité à {} {} {}", ["Bamako", "Kati", "Koulikoro"],
     ["depuis ce matin", "toute la nuit", "pendant six heures"], ["", "!", "..."]),
]
# Background hostility, steady every week: one theme per community.
BACKGROUND = {
    "peul": ("Les Peuls sont tous complices des jihadistes {} {}, il faut les chasser {}",
             ["à Mopti", "au centre", "dans le Macina", "à Douentza"], ["", "vraiment", "sans exception"],
             ["du pays", "des villages", "maintenant"]),
    "dogon": ("Les Dogons sont des sorciers menteurs, ne faites jamais affaire avec eux {} {} {}",
              ["au marché", "à Sévaré", "à Bandiagara"], ["", "surtout", "jamais"], ["", "!", "mes frères"]),
    "bozo": ("Les Bozos sont des voleurs de poisson et des traîtres {} {} {}",
             ["sur le fleuve", "à Mopti", "à Djenné"], ["", "toujours", "encore"], ["", "!", "honte à eux"]),
    "tuareg": ("Les Touaregs sont tous des rebelles séparatistes {} {} {}",
               ["à Kidal", "au nord", "à Ménaka"], ["", "comme toujours", "depuis toujours"], ["", "!", "dehors"]),
}
# The injected rumour: the Dogon poisoned the wells.
# A coordinated campaign: one message, copied with small changes (place, ending).
INJECTED = ("Les Dogons ont empoisonné les puits de {}{} Partagez avant qu'on supprime{}",
            ["Bankass", "Koro", "Bandiagara"], [" !", ",", " !!"], ["", " !", " ce message"])


def _text(template, rng: random.Random) -> str:
    fmt, *choices = template
    return " ".join(fmt.format(*(rng.choice(c) for c in choices)).split())


@pytest.fixture
def month(db, alert_settings):
    """Create the month's posts, embeddings and flags; return the injected post ids of week 3."""
    alert_settings.MONITOR_REPORT_MIN_COUNT = 5
    rng = random.Random(47)
    communities = {slug: Community.objects.create(slug=slug, name=slug.capitalize()) for slug in BACKGROUND}
    rows: list[tuple[str, object, str | None, float]] = []  # (text, time, community slug, score)
    hours = int((MONTH_END - MONTH_START) / timedelta(hours=1))
    for h in range(hours):
        at = MONTH_START + timedelta(hours=h)
        # Chatter: about one post an hour, at a random minute.
        rows.append((_text(rng.choice(CHATTER), rng), at + timedelta(minutes=rng.randrange(60)), None, 0.0))
        # Background hostility: one post every 4 hours per community, staggered, scores 0.55-0.97.
        for i, (slug, template) in enumerate(BACKGROUND.items()):
            if h % 4 == i:
                rows.append((_text(template, rng), at + timedelta(minutes=rng.randrange(60)), slug,
                             rng.uniform(0.55, 0.97)))
    # The rumour: two posts in each of weeks 1 and 2 (below any narrative size), then
    # the burst (25 posts in one hour) and 30 more spread over week 3, and a tail in week 4.
    injected_week3 = []
    for week, n in ((WEEKS[0], 2), (WEEKS[1], 2), (WEEKS[3], 6)):
        start, _ = week_bounds(week)
        rows += [(_text(INJECTED, rng), start + timedelta(hours=20 + 27 * i, minutes=11), "dogon", 0.9) for i in range(n)]
    spike_rows = [(_text(INJECTED, rng), SPIKE_START + timedelta(minutes=2 * i + 1), "dogon", rng.uniform(0.82, 0.98))
                  for i in range(25)]
    week3_start, _ = week_bounds(SPIKE_WEEK)
    spread = [(_text(INJECTED, rng), week3_start + timedelta(hours=3 + 5 * i, minutes=37), "dogon", 0.9) for i in range(30)]

    embedder = get_embedder()
    all_rows = rows + spike_rows + spread
    unique = sorted({text for text, *_ in all_rows})
    vectors = dict(zip(unique, embedder.encode(unique)))
    posts = Post.objects.bulk_create([
        Post(platform="x", external_id=f"m{i}", author_handle=f"user{i % 97}",
             author_pseudonym=author_pseudonym(platform="x", author_id=f"user{i % 97}"),
             text=text, language="fr", created_at=at, status=Post.Status.PROCESSED)
        for i, (text, at, _, _) in enumerate(all_rows)
    ])
    Embedding.objects.bulk_create([
        Embedding(post=post, model_id=embedder.model_id, dim=embedder.dim, vector=vector_to_bytes(vectors[post.text]))
        for post in posts
    ])
    Flag.objects.bulk_create([
        Flag(post=post, kind=Flag.Kind.INCITEMENT, community=communities[slug], category=Flag.Category.COLLECTIVE_BLAME,
             score=score, detector="synthetic")
        for post, (_, _, slug, score) in zip(posts, all_rows) if slug
    ])
    injected_week3 = [p.pk for p in posts[len(rows):]]
    return {"injected_week3": injected_week3, "dogon": communities["dogon"], "posts": len(posts)}


def test_the_injected_narrative_is_reported_and_alerted_on_and_nothing_else(month):
    for week in WEEKS:
        narratives_build(week=week)

    # Replay the early-warning check at every hour of the month.
    created, checks = [], 0
    started = time.perf_counter()
    at = MONTH_START + timedelta(hours=1)
    while at <= MONTH_END:
        created += alerts_check(now=at)
        at += timedelta(hours=1)
        checks += 1
    check_ms = 1000 * (time.perf_counter() - started) / checks

    # 1. The week-3 report: the injected narrative is among the top growing ones, against the Dogon.
    started = time.perf_counter()
    report = report_build_weekly(week=SPIKE_WEEK)
    build_s = time.perf_counter() - started
    # The numbers quoted in the README (run with -s to see them).
    print(f"\nsynthetic month: {month['posts']} posts, {checks} hourly checks at {check_ms:.1f} ms each; "
          f"week {SPIKE_WEEK} report built in {build_s:.2f} s, PDF {len(report.pdf) / 1024:.0f} KB")
    # A check is a couple of grouped queries: it must stay far below its 10-minute period.
    assert check_ms < 200
    members = list(NarrativeMember.objects.filter(post_id__in=month["injected_week3"]).values_list("narrative_id", flat=True))
    by_narrative = Counter(members)
    # Near-copies that differ by place name and ending are one narrative (the centroid merge),
    # against the Dogon, near the top.
    injected_id, in_main = by_narrative.most_common(1)[0]
    assert in_main >= 0.8 * len(month["injected_week3"]), by_narrative
    assert set(Narrative.objects.filter(pk__in=by_narrative).values_list("community_id", flat=True)) == {month["dogon"].pk}
    top = report.data["narratives"][:3]
    assert injected_id in [n["narrative_id"] for n in top], [(n["label"], n["community"]) for n in top]
    injected = next(n for n in top if n["narrative_id"] == injected_id)
    assert injected["community"] == "Dogon" and injected["community_id"] == month["dogon"].pk
    assert injected["growth"]["delta"] is not None and injected["growth"]["delta"] >= 15
    assert any("puits" in ex["text"] for ex in injected["examples"])

    # 2. One alert, for the Dogon, for exactly the hour of the burst, driven by the injected narrative.
    assert len(created) == 1, [(a.community.slug, a.window_start, a.observed, a.expected) for a in created]
    [alert] = created
    assert alert.community == month["dogon"]
    assert alert.window_start == SPIKE_START and alert.window_end == SPIKE_START + timedelta(hours=1)
    assert alert.observed >= 25
    assert alert.narratives and alert.narratives[0]["narrative_id"] in by_narrative

    # 3. No alert in the quiet weeks (nor anywhere else): the table holds that one alert only.
    assert list(Alert.objects.values_list("pk", flat=True)) == [alert.pk]
