"""Community definitions: parsed without a database, loaded into it idempotently."""
from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from monitor.communities import (
    DefinitionError,
    actor_definitions,
    communities_load,
    community_definitions,
)
from monitor.models import Community

SMALL = """
communities:
  - slug: peul
    name: Peul
    names:
      fr: [Peul, Peuls]
      en: [Fulani]
    derogatory_terms:
      - {term: killer herdsmen, lang: en, kind: slur, category: collective_blame, note: "labels herders as killers"}
non_protected_actors:
  - slug: jnim
    name: JNIM
    armed_group: true
    names: [JNIM, GSIM]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "communities.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_seed_file_defines_the_peul_first_with_its_names_in_every_language():
    peul = community_definitions()[0]
    assert peul.slug == "peul" and peul.protected
    assert {"Peul", "Peules", "Peulhs"} <= set(peul.names["fr"])
    assert {"Fulani", "Fulani herdsmen"} <= set(peul.names["en"])
    assert {"Fula", "Fulaw"} <= set(peul.names["bm"])
    assert {"Pullo", "Fulɓe"} <= set(peul.names["ff"])


def test_the_seed_file_covers_the_sahel_communities_it_promises():
    slugs = {d.slug for d in community_definitions()}
    assert {"dogon", "bambara", "tuareg", "bella", "songhai", "bozo", "mossi", "soninke", "senoufo",
            "haoussa", "maure-arabe", "malinke", "minianka"} <= slugs


def test_dozo_militias_and_armed_groups_are_actors_not_protected_communities():
    communities = {d.slug for d in community_definitions()}
    actors = {d.slug: d for d in actor_definitions()}
    assert "dozo" in actors and "dozo" not in communities
    assert {"jnim", "katiba-macina", "eigs", "wagner", "junta", "fama", "ecowas", "minusma", "dan-na-ambassagou"} <= set(actors)
    assert actors["jnim"].armed_group and not actors["ecowas"].armed_group
    assert all(not a.protected for a in actors.values())


def test_every_derogatory_term_says_what_it_means():
    for d in community_definitions():
        for term in d.derogatory_terms:
            assert term.note and term.lang and term.confidence in {"high", "medium", "low"}, (d.slug, term.term)


def test_definitions_are_read_once_and_need_no_database(tmp_path):
    path = _write(tmp_path, SMALL)
    first = community_definitions(path=path)
    assert community_definitions(path=path) is first  # cached per process
    assert [d.slug for d in first] == ["peul"]
    assert [a.slug for a in actor_definitions(path=path)] == ["jnim"]


def test_a_term_without_a_note_is_refused(tmp_path):
    path = _write(tmp_path, SMALL.replace(', note: "labels herders as killers"', ""))
    with pytest.raises(DefinitionError, match="note"):
        community_definitions(path=path)


def test_duplicate_slugs_are_refused(tmp_path):
    path = _write(tmp_path, SMALL.replace("slug: jnim", "slug: peul"))
    with pytest.raises(DefinitionError, match="duplicate"):
        community_definitions(path=path)


@pytest.mark.django_db
def test_loading_creates_one_row_per_community_and_actor(tmp_path):
    count = communities_load(path=_write(tmp_path, SMALL))
    assert count == 2
    peul = Community.objects.get(slug="peul")
    assert peul.protected and peul.names["en"] == ["Fulani"]
    assert peul.derogatory_terms[0]["term"] == "killer herdsmen" and peul.derogatory_terms[0]["note"]
    assert Community.objects.get(slug="jnim").protected is False


@pytest.mark.django_db
def test_loading_twice_leaves_the_same_rows():
    communities_load()
    before = list(Community.objects.order_by("slug").values_list("pk", "slug", "name", "names", "protected"))
    communities_load()
    after = list(Community.objects.order_by("slug").values_list("pk", "slug", "name", "names", "protected"))
    assert before == after
    assert len(after) == len(community_definitions()) + len(actor_definitions())


@pytest.mark.django_db
def test_an_edited_file_updates_rows_in_place(tmp_path):
    path = _write(tmp_path, SMALL)
    communities_load(path=path)
    pk = Community.objects.get(slug="peul").pk
    path.write_text(SMALL.replace("en: [Fulani]", "en: [Fulani, Fula]"), encoding="utf-8")
    communities_load(path=path)
    peul = Community.objects.get(slug="peul")
    assert peul.pk == pk and peul.names["en"] == ["Fulani", "Fula"]


@pytest.mark.django_db
def test_the_command_loads_the_seed_file_and_says_how_many():
    out = StringIO()
    call_command("load_communities", stdout=out)
    assert Community.objects.filter(slug="peul", protected=True).exists()
    assert f"{Community.objects.count()} communities and actors loaded" in out.getvalue()
