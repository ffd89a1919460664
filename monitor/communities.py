"""Protected communities and non-protected actors, from ``seeds/communities.yaml``.

The YAML file is the source of truth for who Vigie protects and how they are
named. Two readers use it:

- ``communities_load`` upserts ``Community`` rows (one per slug) so flags can
  point at them; running it twice leaves the same rows.
- ``community_definitions`` / ``actor_definitions`` parse the file without
  touching the database, once per process, for the detector.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

_KINDS = {"slur", "coded_name", "epithet"}
_CONFIDENCES = {"high", "medium", "low"}
_CATEGORIES = {
    "incitement", "threat", "dehumanisation", "collective_blame", "exclusion", "derogation", "slur",
}


class DefinitionError(ValueError):
    """``communities.yaml`` is malformed; the message says where."""


@dataclass(frozen=True)
class DerogatoryTerm:
    """A word used about one community (see the header of communities.yaml)."""

    term: str
    lang: str
    note: str
    kind: str = "slur"
    category: str = "slur"
    confidence: str = "medium"

    def as_json(self) -> dict[str, str]:
        """The form stored in ``Community.derogatory_terms``."""
        return {
            "term": self.term, "lang": self.lang, "note": self.note, "kind": self.kind,
            "category": self.category, "confidence": self.confidence,
        }


@dataclass(frozen=True)
class CommunityDefinition:
    """One protected community, or one non-protected actor (``protected=False``)."""

    slug: str
    name: str
    names: dict[str, list[str]]
    protected: bool = True
    description: str = ""
    case_sensitive: frozenset[str] = frozenset()
    derogatory_terms: tuple[DerogatoryTerm, ...] = ()
    kind: str = ""
    armed_group: bool = False
    hashtags: tuple[str, ...] = field(default=())

    def all_names(self) -> list[str]:
        """Every name in every language, hashtag forms included, without duplicates."""
        seen: dict[str, None] = {}
        for names in self.names.values():
            for n in names:
                seen.setdefault(n, None)
        for n in self.hashtags:
            seen.setdefault(n, None)
        return list(seen)


def default_path() -> Path:
    """``settings.MONITOR_SEEDS_DIR / communities.yaml``, or the repository's seeds folder without Django."""
    return seeds_dir() / "communities.yaml"


_REPOSITORY_SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seeds_dir() -> Path:
    """Where the seed YAML files live: ``settings.MONITOR_SEEDS_DIR``.

    Detection must also run in scripts that never configure Django (benchmarks,
    notebooks), hence the fallback to the folder next to the code.
    """
    from django.conf import settings

    if settings.configured or os.environ.get("DJANGO_SETTINGS_MODULE"):
        try:
            return Path(settings.MONITOR_SEEDS_DIR)
        except Exception:  # settings that fail to import, or without the name
            pass
    return _REPOSITORY_SEEDS


def _strings(value: Any, *, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DefinitionError(f"{where}: expected a list of non-empty strings")
    return [v.strip() for v in value]


def _term(raw: Any, *, where: str) -> DerogatoryTerm:
    if not isinstance(raw, dict) or not raw.get("term") or not raw.get("note"):
        raise DefinitionError(f"{where}: each derogatory term needs a term and a note")
    kind = raw.get("kind", "slur")
    category = raw.get("category", "slur")
    confidence = raw.get("confidence", "medium")
    if kind not in _KINDS:
        raise DefinitionError(f"{where}: kind {kind!r} is not one of {sorted(_KINDS)}")
    if category not in _CATEGORIES:
        raise DefinitionError(f"{where}: category {category!r} is not one of {sorted(_CATEGORIES)}")
    if confidence not in _CONFIDENCES:
        raise DefinitionError(f"{where}: confidence {confidence!r} is not one of {sorted(_CONFIDENCES)}")
    return DerogatoryTerm(
        term=str(raw["term"]).strip(), lang=str(raw.get("lang", "")), note=" ".join(str(raw["note"]).split()),
        kind=kind, category=category, confidence=confidence,
    )


def _community(raw: Any, *, protected: bool, index: int) -> CommunityDefinition:
    section = "communities" if protected else "non_protected_actors"
    where = f"{section}[{index}]"
    if not isinstance(raw, dict) or not raw.get("slug") or not raw.get("name"):
        raise DefinitionError(f"{where}: slug and name are required")
    slug = str(raw["slug"])
    where = f"{section}[{slug}]"
    names_raw = raw.get("names")
    # Actors list names flat; communities list them per language.
    if isinstance(names_raw, list):
        names = {"any": _strings(names_raw, where=f"{where}.names")}
    elif isinstance(names_raw, dict):
        names = {str(lang): _strings(v, where=f"{where}.names.{lang}") for lang, v in names_raw.items()}
    else:
        raise DefinitionError(f"{where}: names must be a list or a mapping of language to list")
    if not any(names.values()):
        raise DefinitionError(f"{where}: at least one name is required")
    terms = tuple(
        _term(t, where=f"{where}.derogatory_terms[{k}]") for k, t in enumerate(raw.get("derogatory_terms") or [])
    )
    return CommunityDefinition(
        slug=slug,
        name=str(raw["name"]),
        names=names,
        protected=protected,
        description=" ".join(str(raw.get("description", "")).split()),
        case_sensitive=frozenset(_strings(raw.get("case_sensitive"), where=f"{where}.case_sensitive")),
        derogatory_terms=terms,
        kind=str(raw.get("kind", "")),
        armed_group=bool(raw.get("armed_group", False)),
        hashtags=tuple(_strings(raw.get("hashtags"), where=f"{where}.hashtags")),
    )


@lru_cache(maxsize=8)
def _parse(path: Path) -> tuple[tuple[CommunityDefinition, ...], tuple[CommunityDefinition, ...]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"{path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("communities"), list):
        raise DefinitionError(f"{path}: expected a mapping with a 'communities' list")
    communities = tuple(_community(c, protected=True, index=k) for k, c in enumerate(data["communities"]))
    actors = tuple(
        _community(a, protected=False, index=k) for k, a in enumerate(data.get("non_protected_actors") or [])
    )
    slugs = [d.slug for d in communities + actors]
    duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
    if duplicates:
        raise DefinitionError(f"{path}: duplicate slugs {duplicates}")
    return communities, actors


def community_definitions(*, path: Path | None = None) -> tuple[CommunityDefinition, ...]:
    """The protected communities defined in the YAML file, parsed once per process per path."""
    return _parse(Path(path or default_path()).resolve())[0]


def actor_definitions(*, path: Path | None = None) -> tuple[CommunityDefinition, ...]:
    """The non-protected actors (armed groups, armies, institutions), parsed once per process per path."""
    return _parse(Path(path or default_path()).resolve())[1]


def communities_load(*, path: Path | None = None) -> int:
    """Upsert one ``Community`` row per community and per actor; return how many are defined.

    Rows are matched by slug and updated in place, so running it twice leaves
    the same rows and flags keep pointing at them. Actors are stored with
    ``protected=False`` so reviewers can see them; the detector never targets
    them. Rows whose slug left the file are kept (flags reference them).
    """
    from django.db import transaction

    from monitor.models import Community

    path = Path(path or default_path()).resolve()
    # Read the file afresh: an operator runs this after editing it.
    _parse.cache_clear()
    communities, actors = _parse(path)
    with transaction.atomic():
        for d in communities + actors:
            Community.objects.update_or_create(
                slug=d.slug,
                defaults={
                    "name": d.name,
                    "names": {lang: list(names) for lang, names in d.names.items()}
                    | ({"hashtag": list(d.hashtags)} if d.hashtags else {}),
                    "derogatory_terms": [t.as_json() for t in d.derogatory_terms],
                    "protected": d.protected,
                    "description": d.description,
                },
            )
    return len(communities) + len(actors)
