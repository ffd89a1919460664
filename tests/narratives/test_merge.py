"""One rumour copied with different place names is one narrative; two stories about one community stay two.

Real embeddings (bundled model) on invented posts: near-copies that differ by a
place name come out of HDBSCAN as several dense groups, which the centroid merge
(``MONITOR_NARRATIVE_MERGE_THRESHOLD``) joins.
"""
from collections import Counter
from datetime import timedelta
from itertools import product

import pytest

from monitor.embeddings import get_embedder, vector_to_bytes
from monitor.models import Embedding
from monitor.narratives.models import NarrativeMember
from monitor.narratives.services import narratives_build
from tests.narratives.conftest import W47
from tests.narratives.texts import CHATTER

PLACES = ["Bankass", "Koro", "Bandiagara", "Douentza", "Djenné", "Ténenkou"]
# The rumour, as a campaign copies it: the place and a few words change.
HIDE = [
    "Les Peuls de {} ont caché les assaillants{}",
    "Les Peuls de {} ont hébergé les assaillants{}",
    "Ce sont les Peuls de {} qui ont caché les assaillants{}",
]
# Another story about the same community: the Peul herders' cattle destroying fields.
CATTLE = [
    "Les troupeaux des Peuls ont encore détruit les champs de mil à {}{}",
    "Les bœufs des Peuls ont encore mangé les champs de mil à {}{}",
]
ENDINGS = ["", " !", ", partagez", " cette nuit"]


def _texts(templates):
    return [t.format(p, e) for t, p, e in product(templates, PLACES, ENDINGS)]


@pytest.fixture
def week(make_post):
    embedder = get_embedder()
    groups = {"hide": _texts(HIDE), "cattle": _texts(CATTLE), "chatter": CHATTER}
    texts = [t for ts in groups.values() for t in ts]
    posts = {}
    for k, (text, vector) in enumerate(zip(texts, embedder.encode(texts))):
        post = make_post(text=text, created_at=W47 + timedelta(minutes=37 * k))
        Embedding.objects.create(post=post, model_id=embedder.model_id, dim=len(vector), vector=vector_to_bytes(vector))
        posts[text] = post.pk
    return {name: [posts[t] for t in ts] for name, ts in groups.items()}


def _main_narrative(post_ids):
    """(the narrative holding most of these posts, the share of them it holds)."""
    counts = Counter(NarrativeMember.objects.filter(post_id__in=post_ids).values_list("narrative_id", flat=True))
    if not counts:
        return None, 0.0
    narrative, n = counts.most_common(1)[0]
    return narrative, n / len(post_ids)


def test_one_rumour_with_many_place_names_is_one_narrative_and_another_story_stays_apart(week):
    narratives_build(week="2026-W47")

    hide, hide_share = _main_narrative(week["hide"])
    cattle, cattle_share = _main_narrative(week["cattle"])
    assert hide_share >= 0.8 and cattle_share >= 0.8
    assert hide != cattle
    # Neither story's main narrative took in the other's posts, nor the chatter.
    assert not NarrativeMember.objects.filter(narrative_id=hide, post_id__in=week["cattle"] + week["chatter"]).exists()
    assert not NarrativeMember.objects.filter(narrative_id=cattle, post_id__in=week["hide"] + week["chatter"]).exists()


def test_without_the_merge_the_place_names_split_the_rumour(week, settings):
    # The case the merge exists for: switched off, the copies fall apart by place name.
    settings.MONITOR_NARRATIVE_MERGE_THRESHOLD = 1.01
    narratives_build(week="2026-W47")

    _, hide_share = _main_narrative(week["hide"])
    assert hide_share < 0.8
