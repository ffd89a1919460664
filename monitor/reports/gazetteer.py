"""Places of Mali and the Sahel named in a text, from ``seeds/gazetteer.yaml``.

Matching is on a folded form of the text: accents stripped (NFKD), any run of
non-letters and non-digits turned into one space, and (except for the
``case_sensitive`` names that are also ordinary words) case folded. A place
matches as whole words only, so "Gao" is found in "à Gao," but not in "Gaoussou".
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings

# Letters that NFKD does not decompose into a Latin letter plus accents.
_SPECIAL = str.maketrans({"ɔ": "o", "ɛ": "e", "ɲ": "ny", "ŋ": "n", "ɓ": "b", "ɗ": "d", "ƴ": "y", "œ": "oe", "æ": "ae"})
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Place:
    name: str
    country: str
    kind: str
    region: str


class GazetteerError(ValueError):
    """The gazetteer file is missing or malformed."""


def text_fold(text: str, *, casefold: bool = True) -> str:
    """Fold ``text`` for place matching: no accents, words separated by single spaces."""
    text = text.translate(_SPECIAL) if not casefold else text.casefold().translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " " + _NON_WORD.sub(" ", stripped).strip() + " "


class Gazetteer:
    """A compiled gazetteer: ``places_in(text)`` returns the places a text names."""

    def __init__(self, entries: list[dict]) -> None:
        self.places: list[Place] = []
        folded: dict[str, int] = {}
        exact: dict[str, int] = {}
        for i, entry in enumerate(entries):
            try:
                place = Place(
                    name=str(entry["name"]), country=str(entry["country"]),
                    kind=str(entry.get("kind", "town")), region=str(entry.get("region", "")),
                )
            except (KeyError, TypeError) as exc:
                raise GazetteerError(f"gazetteer entry {i} needs a name and a country: {entry!r}") from exc
            self.places.append(place)
            case_sensitive = bool(entry.get("case_sensitive", False))
            for spelling in [place.name, *(entry.get("aliases") or [])]:
                key = text_fold(str(spelling), casefold=not case_sensitive).strip()
                if key:
                    (exact if case_sensitive else folded)[key] = len(self.places) - 1
        self._folded = folded
        self._exact = exact
        self._folded_re = self._compile(folded)
        self._exact_re = self._compile(exact)

    @staticmethod
    def _compile(spellings: dict[str, int]) -> re.Pattern | None:
        if not spellings:
            return None
        # Longest first, so "nioro du sahel" wins over "nioro"; spaces delimit words.
        alternatives = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))
        return re.compile(f"(?<= )(?:{alternatives})(?= )")

    def places_in(self, text: str) -> set[Place]:
        """The distinct places named in ``text``."""
        found: set[Place] = set()
        for pattern, table, casefold in ((self._folded_re, self._folded, True), (self._exact_re, self._exact, False)):
            if pattern is None:
                continue
            folded = text_fold(text, casefold=casefold)
            # Overlapping matches ("tongo tongo") are fine: a place counts once per text.
            for match in pattern.finditer(folded):
                found.add(self.places[table[match.group(0)]])
        return found


def gazetteer_load(path: Path | None = None) -> Gazetteer:
    """Read and compile the gazetteer (default ``MONITOR_SEEDS_DIR/gazetteer.yaml``)."""
    path = path or Path(settings.MONITOR_SEEDS_DIR) / "gazetteer.yaml"
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(path: str) -> Gazetteer:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise GazetteerError(f"cannot read the gazetteer {path}: {exc}") from exc
    places = data.get("places") if isinstance(data, dict) else None
    if not isinstance(places, list):
        raise GazetteerError(f"{path} must hold a list under `places:`")
    return Gazetteer(places)
