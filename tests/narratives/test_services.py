"""Narratives on synthetic vectors: ids, continuity, noise, counts (the mechanics)."""
import numpy as np
import pytest
from django.core.management import call_command

from monitor.models import Post
from monitor.narratives.models import Narrative, NarrativeMember, NarrativeWeek
from monitor.narratives.services import narratives_build, narratives_for_posts, narratives_growing
from monitor.embeddings import get_embedder, vector_to_bytes
from monitor.models import Embedding
from tests.narratives.conftest import W46, W47, W48, around, day, unit

HIDE = "Les Peuls ont caché les assaillants du camp de {p}, complices des jihadistes"
FUEL = "Le prix du carburant explose encore à {p}, les taxis augmentent leurs tarifs"
RAIN = "Inondations à {p} : les pluies ont détruit des maisons, la mairie promet des abris"
PLACES = ["Mopti", "Bamako", "Sévaré", "Ségou", "Gao", "Tombouctou", "Kayes", "Sikasso", "Djenné", "Bandiagara",
          "Koutiala", "Kidal", "Ménaka", "Douentza", "Niono", "Kita", "Bougouni", "Nioro", "San", "Diré"]


@pytest.fixture
def centres():
    return unit(np.random.default_rng(42), 4)


def _topic(post_with_vector, rng, centre, template, n, monday, offset=0):
    vectors = around(rng, centre, n)
    return [
        post_with_vector(v, when=day(monday, k + offset), text=template.format(p=PLACES[k % len(PLACES)]))
        for k, v in enumerate(vectors)
    ]


def _noise(post_with_vector, rng, n, monday):
    return [post_with_vector(v, when=day(monday, k), text=f"message isolé numéro {k}") for k, v in enumerate(unit(rng, n))]


def _narrative_of(posts, week):
    ids = set(NarrativeMember.objects.filter(post__in=posts, week=week).values_list("narrative_id", flat=True))
    assert len(ids) == 1, ids
    return ids.pop()


def test_it_groups_topics_labels_them_and_leaves_noise_unassigned(post_with_vector, centres, make_flag):
    rng = np.random.default_rng(0)
    hide = _topic(post_with_vector, rng, centres[0], HIDE, 30, W47)
    fuel = _topic(post_with_vector, rng, centres[1], FUEL, 20, W47)
    noise = _noise(post_with_vector, rng, 15, W47)
    make_flag(post=hide[0])
    make_flag(post=hide[1])
    make_flag(post=hide[1], kind="misinformation")  # two flags on one post count once

    result = narratives_build(week="2026-W47")

    assert (result.posts, result.narratives, result.new, result.continued) == (65, 2, 2, 0)
    assert result.noise == 15
    assert not NarrativeMember.objects.filter(post__in=noise).exists()
    hide_id, fuel_id = _narrative_of(hide, "2026-W47"), _narrative_of(fuel, "2026-W47")
    assert hide_id != fuel_id
    hide_week = NarrativeWeek.objects.get(narrative_id=hide_id, week="2026-W47")
    assert hide_week.size == 30 and hide_week.flagged == 2
    assert sum(hide_week.daily.values()) == 30 and len(hide_week.daily) == 7
    assert min(hide_week.daily) == "2026-11-16" and max(hide_week.daily) == "2026-11-22"
    narrative = Narrative.objects.get(pk=hide_id)
    assert narrative.community.slug == "peul"
    assert Narrative.objects.get(pk=fuel_id).community is None
    # The label names the topic, not words every post of the week shares.
    assert {"peuls", "assaillants"} & set(" ".join(narrative.terms).split())
    assert "carburant" in " ".join(Narrative.objects.get(pk=fuel_id).terms)
    assert " · " in narrative.label
    assert narrative.representative_post_id in {p.pk for p in hide}
    centroid = np.frombuffer(bytes(hide_week.centroid), dtype="<f4")
    assert np.isclose(np.linalg.norm(centroid), 1.0, atol=1e-4)


def test_rerunning_the_same_week_keeps_ids_and_memberships(post_with_vector, centres):
    rng = np.random.default_rng(1)
    _topic(post_with_vector, rng, centres[0], HIDE, 25, W47)
    _topic(post_with_vector, rng, centres[1], FUEL, 20, W47)
    _noise(post_with_vector, rng, 10, W47)
    narratives_build(week="2026-W47")
    first = sorted(NarrativeMember.objects.values_list("post_id", "narrative_id", "week"))
    narratives = sorted(Narrative.objects.values_list("id", "label"))

    again = narratives_build(week="2026-W47")

    assert sorted(NarrativeMember.objects.values_list("post_id", "narrative_id", "week")) == first
    assert sorted(Narrative.objects.values_list("id", "label")) == narratives
    assert NarrativeWeek.objects.count() == 2
    assert (again.new, again.continued) == (2, 0)


def test_a_continuing_narrative_keeps_its_id_and_a_new_topic_gets_a_new_one(post_with_vector, centres):
    rng = np.random.default_rng(2)
    hide_before = _topic(post_with_vector, rng, centres[0], HIDE, 20, W46)
    fuel_before = _topic(post_with_vector, rng, centres[1], FUEL, 20, W46)
    narratives_build(week="2026-W46")
    hide_id, fuel_id = _narrative_of(hide_before, "2026-W46"), _narrative_of(fuel_before, "2026-W46")

    hide_now = _topic(post_with_vector, rng, centres[0], HIDE, 35, W47)
    rain_now = _topic(post_with_vector, rng, centres[2], RAIN, 15, W47)
    result = narratives_build(week="2026-W47")

    assert (result.narratives, result.new, result.continued) == (2, 1, 1)
    assert _narrative_of(hide_now, "2026-W47") == hide_id
    rain_id = _narrative_of(rain_now, "2026-W47")
    assert rain_id not in {hide_id, fuel_id}
    hide = Narrative.objects.get(pk=hide_id)
    assert (hide.first_week, hide.last_week) == ("2026-W46", "2026-W47")
    assert Narrative.objects.get(pk=fuel_id).last_week == "2026-W46"

    trends = narratives_growing(week="2026-W47")
    assert [t.narrative_id for t in trends] == [hide_id, rain_id]
    top = trends[0]
    assert (top.size, top.previous_size, top.growth) == (35, 20, 15)
    assert top.growth_ratio == pytest.approx(1.75)
    assert trends[1].previous_size == 0 and trends[1].growth_ratio is None
    assert len(top.example_post_ids) == 3 and set(top.example_post_ids) <= {p.pk for p in hide_now}
    assert narratives_growing(week="2026-W47", limit=1)[0].narrative_id == hide_id

    # Rebuilding the earlier week does not disturb the later one.
    narratives_build(week="2026-W46")
    assert _narrative_of(hide_now, "2026-W47") == hide_id
    assert _narrative_of(hide_before, "2026-W46") == hide_id


def test_a_narrative_gone_from_a_rebuilt_week_is_removed(post_with_vector, centres):
    rng = np.random.default_rng(3)
    fuel = _topic(post_with_vector, rng, centres[1], FUEL, 20, W47)
    narratives_build(week="2026-W47")
    Post.objects.filter(pk__in=[p.pk for p in fuel]).delete()
    result = narratives_build(week="2026-W47")
    assert result.narratives == 0
    assert not Narrative.objects.exists()


def test_posts_map_to_their_narrative_or_the_nearest_one(post_with_vector, centres):
    rng = np.random.default_rng(4)
    hide = _topic(post_with_vector, rng, centres[0], HIDE, 20, W47)
    narratives_build(week="2026-W47")
    hide_id = _narrative_of(hide, "2026-W47")
    # Posts that arrive after the weekly build: one on the same story, one off-topic, one without vector.
    close = post_with_vector(around(rng, centres[0], 1)[0], when=W48)
    far = post_with_vector(unit(rng, 1)[0], when=W48)
    bare = Post.objects.create(platform="x", external_id="bare", author_pseudonym="p", text="t")
    got = narratives_for_posts(post_ids=[hide[0].pk, close.pk, far.pk, bare.pk])
    assert got == {hide[0].pk: hide_id, close.pk: hide_id, far.pk: None, bare.pk: None}
    assert narratives_for_posts(post_ids=[]) == {}


def test_an_empty_week_builds_nothing(db):
    result = narratives_build(week="2026-W47")
    assert (result.posts, result.narratives, result.noise) == (0, 0, 0)
    assert narratives_growing(week="2026-W47") == []


def test_a_bad_week_is_a_clear_error(db):
    with pytest.raises(ValueError, match="ISO week"):
        narratives_build(week="last week")
    with pytest.raises(ValueError, match="ISO week"):
        narratives_growing(week="2026-47")


def test_the_command_and_the_task_build_a_week(post_with_vector, centres, capsys):
    from workers.tasks import narratives_build_task

    rng = np.random.default_rng(5)
    _topic(post_with_vector, rng, centres[0], HIDE, 12, W47)
    call_command("build_narratives", "--week", "2026-W47")
    assert "2026-W47: 12 posts, 1 narratives" in capsys.readouterr().out
    assert narratives_build_task.delay("2026-W47").get()["narratives"] == 1
    assert NarrativeWeek.objects.count() == 1


def test_the_command_rejects_a_bad_week(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO week"):
        call_command("build_narratives", "--week", "W47")


def test_embeddings_of_another_model_are_ignored(post_with_vector, centres, make_post):
    rng = np.random.default_rng(6)
    _topic(post_with_vector, rng, centres[0], HIDE, 10, W47)
    for k, v in enumerate(around(rng, centres[1], 10)):
        post = make_post(text="autre modèle", created_at=day(W47, k))
        Embedding.objects.create(post=post, model_id="other-model", dim=384, vector=vector_to_bytes(v))
    assert narratives_build(week="2026-W47").posts == 10
    assert get_embedder().model_id != "other-model"


def test_the_weekly_build_is_scheduled_mondays_before_the_report():
    from workers.schedule import BEAT_SCHEDULE
    from workers.tasks import narratives_build_task

    entry = BEAT_SCHEDULE["narratives-build-weekly"]
    assert entry["task"] == narratives_build_task.name == "vigie.narratives_build"
    assert entry["options"]["queue"] == "reports"
    schedule = entry["schedule"]
    assert schedule.day_of_week == {1} and schedule.hour == {5} and schedule.minute == {30}


@pytest.mark.django_db(transaction=True)
def test_two_builds_of_one_week_at_once_give_one_set_of_rows(post_with_vector, centres):
    """Real concurrent transactions; needs PostgreSQL."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    rng = np.random.default_rng(7)
    hide = _topic(post_with_vector, rng, centres[0], HIDE, 20, W47)
    _topic(post_with_vector, rng, centres[1], FUEL, 20, W47)
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def build():
        try:
            barrier.wait()
            narratives_build(week="2026-W47")
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=build) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert Narrative.objects.count() == 2 and NarrativeWeek.objects.count() == 2
    assert NarrativeMember.objects.count() == 40
    _narrative_of(hide, "2026-W47")  # one narrative holds the whole story
