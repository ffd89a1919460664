"""The lexicon detector: community names + hostile vocabulary + how they relate.

Everything it knows is in ``seeds/communities.yaml`` and ``seeds/lexicon.yaml``;
this module only knows how to read a sentence. For one post:

1. Normalise the text, keeping offsets into the original
   (``monitor.detection.normalise``), and cut it into words, clauses,
   sentences and quotations. Words run together are split (#peulsdehors,
   "Peulssont"), words cut by one mark are rejoined (Pe-uls, F*lani), and a
   swapped or dropped letter in a name or a hostile word is forgiven (Fualni).
2. Find community mentions (names, coded names, slurs) and non-protected actor
   mentions, then every lexicon pattern: hostile terms, cues (calls to act,
   quantifiers), dampeners and benign idioms. A hostile term inside a benign
   idiom ("tuer le temps") is dropped.
3. Link each hostile term to the communities it is about, as its entry
   requires: in the same sentence, preferring the object of an order ("tuez
   les Peuls") and never a verb's own object ("éliminer le JNIM"); in the
   neighbouring sentence when a pronoun carries the community over ("... Il
   faut les tuer"); said to BE the term ("les Peuls sont des X": a copula and
   only small words between, or a pronoun that stands for them); or right next
   to it ("Peuls dehors"). A community said to be an armed group ("les Peuls
   = JNIM") is collective blame.
4. Weigh each link: the entry's strength, times how close the link is, plus a
   call to act for weak incitement/exclusion words ("il faut", an order
   opening the clause) and a quantifier ("tous les Peuls"); then dampeners:
   negation in the clause, condemnation or counter-speech, reported speech,
   a question, a quotation commented on, a speaker naming their own community,
   a verb of saying or believing whose content the term is and whose subject is
   not the author ("dire que les Peuls sont ... est faux"). Also noted: which
   communities are praised (a good quality or a caring verb, no negation).
5. Per community: score = 1 - Π(1 - weight) over its hostile terms, the
   categories seen (most severe first) and the evidence, every span an exact
   slice of the original post.

A post that only names a community, however often, yields nothing.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from monitor.communities import actor_definitions, community_definitions, default_path, seeds_dir
from monitor.detection.base import SEVERITY, Detection
from monitor.detection.language import common_words, dictionary_words, language_detect
from monitor.detection.normalise import Normalised, text_normalise, word_normalise

DETECTOR_ID = "lexicon-v1"

# "ee" is kept: French feminine participles ("violentées", abused) must not become
# adjectives ("violentes", violent).
_SQUEEZE = re.compile(r"([^e])\1+")


@lru_cache(maxsize=65536)
def _squeeze(word: str) -> str:
    """A doubled letter counts as one, so "Peuuls" and "massacrer" match "peuls" and "masacrer"."""
    return _SQUEEZE.sub(r"\1", word)


def _keys(words: str) -> frozenset[str]:
    """Word keys folded as a post's words are (a doubled letter collapses: "cette" → "cete", "all" → "al")."""
    return frozenset(_squeeze(w) for w in words.split())


STRENGTH = {"strong": 0.8, "medium": 0.6, "weak": 0.45}
# How much of a term's strength survives, by what the entry needs and how the
# community relates to it. Missing keys mean "no link".
LINK_FACTOR = {
    "link": {"copula": 1.0, "adjacent": 1.0, "adjacent_before": 1.0, "sentence": 1.0, "window": 0.9},
    "predication": {"copula": 1.0, "adjacent": 0.8, "adjacent_before": 0.8, "predicate": 0.85, "window": 0.9},
    "adjacent": {"adjacent": 1.0, "adjacent_before": 1.0, "copula": 0.9},
    "before": {"adjacent_before": 1.0},  # "fucking Fulani", not "Fulani fucking won"
}
# "Peuls terroristes" may name particular attackers; "les Peuls sont des terroristes" cannot.
# No "predicate" here: "les Peuls sont (les premières victimes des) terroristes".
BLAME_FACTOR = {"copula": 1.0, "adjacent": 0.6, "adjacent_before": 0.5, "copula_reverse": 0.7, "window": 0.8}
CALL_BOOST = 0.35
QUANTIFIER_BOOST = 0.1
MAX_WEIGHT = 0.95
DAMPENING = {
    "negation": 0.25,
    "counter_speech": 0.35,
    "condemnation": 0.35,
    "reporting": 0.5,
    "question": 0.6,  # an enquiry ("est-ce vrai que ...?")
    "rhetorical": 0.85,  # a bare "?": "Pourquoi les Peuls sont-ils si sales ?" still says it
    "quotation": 0.5,
    "identity": 0.3,
    # The hostile words are the content of someone else's saying or believing, or of a saying the post
    # judges: "Dire que les Peuls sont des voleurs, c'est faux", "tu as écrit que ...", "calling Fulani rats".
    "embedding": 0.35,
    # The hostile words are about the people who harm the community: "People who hate Fulani disgust me",
    # "ceux qui s'en prennent aux Peuls sont des lâches".
    "doers": 0.3,
}
# Dampeners that say the hostile words are not the author's own claim (negated, reported under a verb of
# saying, condemned): the learned parts read words, not scope, so these lower their score too.
SCOPE_DAMPENERS = frozenset({"negation", "counter_speech", "condemnation", "embedding", "doers", "quotation"})
# "people who [keep] attacking [the] Fulani": at most this many words between the doers and the community.
DOERS_REACH = 5
# Dampeners that an endorsement ("il a raison", "so true") cancels: the author agrees with the words reported.
ENDORSABLE = frozenset({"reporting", "embedding", "quotation"})
# Subjects that make a verb of saying or believing the author's own ("je pense que", "we say").
FIRST_PERSON = _keys("je j nous moi i we")
SPEECH_SUBJECT_REACH = 4
SLUR_WEIGHT = {"high": 0.7, "medium": 0.55}
ACTOR_EQUATION_WEIGHT = 0.8
# Categories whose weak words become a call when an order or "il faut" comes with them.
CALLABLE = {"incitement", "exclusion"}
WINDOW_TOKENS = 20
NEGATION_REACH = 5
CALL_REACH = 8
MAX_GAP = 3
# Second halves of French negations ("ne ... pas"), skipped between a pattern's words.
NEGATION_TAILS = _keys("pas jamais point guere plus")
# A negation a hostile phrase may have inside it without a pattern saying so: "le Mali ne serait pas mieux
# sans eux", "Mali would not be better without them". The phrase is still read, and the negation dampens it.
NEGATION_SKIPS = NEGATION_TAILS | {"ne", "n", "not", "never"}
# A hostile pattern with one of these words in it is negative in itself ("pas des humains", "not welcome",
# "don't belong", Bambara "hinɛ tɛ"): a negation inside its match is part of it, not a negation of it.
# "plus" is left out: in a pattern it says "more" ("plus sales"), and a "ne ... plus" pattern has its "ne".
NEGATION_WORDS_RAW = (
    "ne n pas jamais point guère aucun aucune rien personne nul ni non "
    "not never no t nobody none nothing neither nor cannot "
    "tɛ tɛna ma"
)
COPULA_GAP = 8
# "Les Peuls sont [la pire espèce de] vermine": after the copula, a few words of any kind.
PREDICATE_REACH = 6
# Letters a Bambara or Fula writer uses and a French or English one does not.
SAHEL_LETTERS = frozenset("ɛɔɲŋɓɗƴ")
# Small words that may sit between a community and the term that follows it ("Peuls, DES serpents").
DETERMINERS = _keys("les des de d du la le l ces ce cette the these those of tous toutes all un une a an")
# ... and between a term and the community after it: "ces chiens DE Peuls", "dehors LES Peuls",
# but not "les chiens DES Peuls" (their dogs) nor "dogs OF Fulani".
DETERMINERS_BEFORE = _keys("de d les ces tous toutes all the these those")
# Pronouns that carry a community named in the previous sentence into this one.
ANAPHORA = _keys("les leur leurs eux ils elles lui them they their him her u aw vous vos votre you your")
# Subject pronouns that can be said to BE something: "Les Peuls ? Ils sont dégoûtants."
SUBJECT_PRONOUNS = _keys("ils elles eux they u")
# Words that take up a group named before, as a subject pronoun does: "ces gens-là sont dangereux".
GROUP_ANAPHORA = tuple(
    tuple(_squeeze(w) for w in phrase.split()) for phrase in (
        "ces gens la", "ces gens", "ce genre de personnes", "ces individus", "ces types",
        "those people", "these people", "that kind", "their kind", "that lot", "those guys", "these guys",
    )
)
# Words that may open an order before the verb ("allez, tuez-les", "now kill them").
ORDER_OPENERS = _keys(
    "les des ces tous toutes all the these those now maintenant allez vite alors donc so just then go et and"
)
CONJUNCTIONS = _keys("et ou ni and or")
RELATIVES = _keys("qui who which that")
# Articles that open a noun phrase: after a verb, the phrase is its object.
ARTICLES = _keys("le la les l un une des ces ce cette the a an these those this that")
PREPOSITIONS = _keys(
    "contre envers pour avec sur sans chez parmi entre par de des du d against towards toward for with on about "
    "of among between by"
)
COMPARISON = _keys("que qu as than")
PARTIAL = _keys("tous toutes all every")
# Words that put a community out of the picture: a good thing said next to "sans les Peuls" is not praise.
ABSENCE = _keys("sans avant sauf hormis without before except")
SENTENCE_END = frozenset(".!?…\n")
CLAUSE_PUNCT = frozenset(",;:()[]{}–—|")
OPEN_QUOTES = frozenset("«“„")
CLOSE_QUOTES = frozenset("»”")
_TOKEN = re.compile(r"[^\W_]+|\n|[^\w\s]")

# --- compiled rules ---------------------------------------------------------

WORD, ANY, GAP = "word", "any", "gap"
COMMUNITY, ACTOR = "community", "actor"  # placeholders, inside WORD slots


@dataclass(frozen=True)
class Slot:
    """One position of a pattern: a word among several, a run of words, or a mention."""

    kind: str
    words: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()  # multi-word alternatives: "(le mali|la nation)"
    placeholders: tuple[str, ...] = ()  # COMMUNITY / ACTOR among the alternatives

    def accepts(self, key: str) -> bool:
        return key in self.words or any(key.startswith(p) for p in self.prefixes)


@dataclass(frozen=True)
class Rule:
    """What a pattern means when it matches."""

    kind: str  # mention | actor | hostile | cue | dampener | idiom
    rule_id: str
    category: str = ""
    lang: str = ""
    term: str = ""
    strength: float = 0.0
    needs: str = "link"
    clause_start: bool = True
    strict: bool = False
    slugs: tuple[str, ...] = ()
    name_kind: str = "name"  # for mentions: name | coded_name | slur
    slur_category: str = ""
    capital_required: bool = False
    cue: str = ""


@dataclass(frozen=True)
class Pattern:
    slots: tuple[Slot, ...]
    rule: Rule
    negative: bool = False  # a hostile pattern with a negation word of its own (see NEGATION_WORDS_RAW)


@dataclass
class Index:
    """Patterns by their first word, so each word of a post only tries the patterns it can start."""

    by_word: dict[str, list[Pattern]] = field(default_factory=dict)
    by_prefix: dict[str, list[tuple[str, Pattern]]] = field(default_factory=dict)
    by_placeholder: dict[str, list[Pattern]] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)

    def add(self, pattern: Pattern) -> None:
        for slot in pattern.slots:
            self.words.update(slot.words)
            for phrase in slot.phrases:
                self.words.update(phrase)
        first = pattern.slots[0]
        if first.kind != WORD:
            raise ValueError(f"{pattern.rule.rule_id}: a pattern cannot start with '_' or '...'")
        for w in first.words | {phrase[0] for phrase in first.phrases}:
            self.by_word.setdefault(w, []).append(pattern)
        for p in first.prefixes:
            self.by_prefix.setdefault(p[:4], []).append((p, pattern))
        for kind in first.placeholders:
            self.by_placeholder.setdefault(kind, []).append(pattern)

    def candidates(self, key: str) -> list[Pattern]:
        found = list(self.by_word.get(key, ()))
        for p, pattern in self.by_prefix.get(key[:4], ()):
            if key.startswith(p):
                found.append(pattern)
        return found


@dataclass
class Compiled:
    """Both YAML files, indexed for matching."""

    names: Index
    main: Index
    vocabulary: frozenset[str]
    copula: frozenset[str]
    function: frozenset[str]
    clause_break: frozenset[str]
    name_words: frozenset[str] = frozenset()  # one-word community names, for splitting "peulssont"
    name_inside: re.Pattern | None = None  # finds a community name inside a longer word
    hostile_words: frozenset[str] = frozenset()  # single hostile words, for rejoining "ver-mine"
    phrase_words: frozenset[str] = frozenset()  # words of hostile phrases, for splitting "ihate"
    dictionary: frozenset[str] = frozenset()  # French and English words: never a slip, never run together
    misspelt: dict[str, str] = field(default_factory=dict)  # "pels" → "peuls", "fualni" → "fulani"
    # A letter dropped from a short name ("Pul", "Dgon"): only read as the name when written with a capital.
    misspelt_capital: dict[str, str] = field(default_factory=dict)


# Words and names that a one-letter slip of a community name produces ("Foulbé" → "foule",
# "Bambara" → "Bamba", a Senegalese saint): never read as the name.
_NOT_MISSPELT = frozenset(
    "foule foules dones pules peles bamba maline mboro dogos sonke mamar mares mures chine chines mrs mois".split()
)


def _misspellings(
    names: set[str], taken: set[str], *, min_swap: int | None, min_delete: int | None, min_form: int = 4,
    owners: dict[str, frozenset[str]] | None = None, min_insert: int | None = None,
) -> dict[str, str]:
    """Two swapped neighbours, or one deleted letter in a long word; the first letter kept.
    Each kind of slip applies to words of at least its ``min_*`` letters; None leaves it out.

    Writers drop or swap a letter to slip past keyword filters ("Fualni", "vremine");
    substitutions are left out because they make real words ("peuls" → "peurs"), and
    deletions from short words too ("chases" → "cases").

    A slip that two words could have produced is dropped, unless ``owners`` (word → the
    communities it names) says both name the same communities ("Pul" from "Peul" or "Pullo"):
    it is then read as the one that keeps the slip's last letter.
    """
    variants: dict[str, set[str]] = {}
    for name in names:
        if not name.isalpha():
            continue
        forms: set[str] = set()
        if min_swap is not None and len(name) >= min_swap:
            forms |= {name[:i] + name[i + 1] + name[i] + name[i + 2:] for i in range(1, len(name) - 1)}
        if min_delete is not None and len(name) >= min_delete:
            forms |= {name[:i] + name[i + 1:] for i in range(1, len(name))}
        if min_insert is not None and len(name) >= min_insert:
            # A letter added inside the word ("Pheuls"): never at the end, where it makes plurals and genders.
            forms |= {name[:i] + c + name[i:] for i in range(1, len(name)) for c in _LETTERS}
        for form in forms:
            # A slip that also merges two letters ("dogonne" → "done") is too far from the word,
            # and the first letter stays: a reader must still recognise the word.
            if len(form) < min_form or _squeeze(form) != form:
                continue
            if form == name or form[0] != name[0] or form in taken or form in _NOT_MISSPELT:
                continue
            variants.setdefault(form, set()).add(name)
    out: dict[str, str] = {}
    for form, sources in variants.items():
        if len(sources) > 1 and (owners is None or len({owners.get(n) for n in sources}) > 1):
            continue
        out[form] = min(sources, key=lambda n: (n[-1] != form[-1], len(n), n))
    return out


def _word_keys(raw: str, *, where: str) -> list[str]:
    """Normalise one word of a pattern; it may become several ("tuez-les" → tuez, les)."""
    folded = word_normalise(raw)
    keys = [_squeeze(m.group()) for m in _TOKEN.finditer(folded) if _is_token(m.group())]
    if not keys:
        raise ValueError(f"{where}: {raw!r} has no word in it")
    return keys


def _is_token(piece: str) -> bool:
    if piece[0].isalnum():
        return True
    return len(piece) == 1 and unicodedata.category(piece).startswith("S")


_PLACEHOLDERS = {"<community>": COMMUNITY, "<actor>": ACTOR}
_PATTERN_PART = re.compile(r"\([^)]*\)|\S+")


def _parse_pattern(text: str, *, where: str) -> tuple[Slot, ...]:
    slots: list[Slot] = []
    for raw in _PATTERN_PART.findall(text):
        if raw.endswith(")?"):
            raise ValueError(f"{where}: {raw!r}: optional words are not supported, write two patterns (or use ...)")
        if raw == "...":
            slots.append(Slot(GAP))
        elif raw == "_":
            slots.append(Slot(ANY))
        elif raw in _PLACEHOLDERS:
            slots.append(Slot(WORD, placeholders=(_PLACEHOLDERS[raw],)))
        elif raw.startswith("(") and raw.endswith(")"):
            words: set[str] = set()
            prefixes: list[str] = []
            phrases: list[tuple[str, ...]] = []
            placeholders: list[str] = []
            for alt in raw[1:-1].split("|"):
                alt = alt.strip()
                if alt in _PLACEHOLDERS:
                    placeholders.append(_PLACEHOLDERS[alt])
                elif alt.endswith("*") and " " not in alt:
                    prefixes.append(_prefix(alt, where=where))
                else:
                    keys = _word_keys(alt, where=where)
                    if len(keys) == 1:
                        words.add(keys[0])
                    else:
                        phrases.append(tuple(keys))
            slots.append(Slot(WORD, frozenset(words), tuple(prefixes), tuple(phrases), tuple(placeholders)))
        elif raw.endswith("*"):
            slots.append(Slot(WORD, prefixes=(_prefix(raw, where=where),)))
        else:
            slots.extend(Slot(WORD, frozenset([k])) for k in _word_keys(raw, where=where))
    if not slots:
        raise ValueError(f"{where}: empty pattern")
    if slots[-1].kind in (GAP, ANY):
        raise ValueError(f"{where}: a pattern cannot end with '_' or '...'")
    return tuple(slots)


def _prefix(raw: str, *, where: str) -> str:
    keys = _word_keys(raw[:-1], where=where)
    if len(keys) != 1 or len(keys[0]) < 4:
        raise ValueError(f"{where}: prefix {raw!r} needs at least 4 letters")
    return keys[0]


def _add(index: Index, text: str, rule: Rule, *, where: str, negation_words: frozenset[str] = frozenset()) -> None:
    slots = _parse_pattern(text, where=where)
    negative = any(
        slot.words & negation_words or any(set(phrase) & negation_words for phrase in slot.phrases) for slot in slots
    )
    index.add(Pattern(slots, rule, negative))


def _negation_words() -> frozenset[str]:
    """``NEGATION_WORDS_RAW`` folded as pattern words are."""
    return frozenset(k for w in NEGATION_WORDS_RAW.split() for k in _word_keys(w, where="NEGATION_WORDS_RAW"))


def _cue_entries(value: Any, *, where: str) -> list[tuple[str, str, bool]]:
    """(lang, pattern, strict) for a per-language list of strings or {pattern, strict}."""
    out = []
    for lang, items in (value or {}).items():
        for item in items or []:
            if isinstance(item, dict):
                pattern, strict = item.get("pattern"), bool(item.get("strict", False))
            else:
                pattern, strict = item, False
            if not isinstance(pattern, str):
                # YAML reads a bare no/yes/on/off as a boolean: refuse rather than match "False".
                raise ValueError(f"lexicon.yaml {where}.{lang}: {pattern!r} is not a string; quote it")
            out.append((str(lang), pattern, strict))
    return out


def _compile(communities_path: Path, lexicon_path: Path) -> Compiled:
    names, main = Index(), Index()
    vocabulary: set[str] = set()

    # 1. Community names, coded names and slurs; actors.
    for d in community_definitions(path=communities_path):
        for name in d.all_names():
            variants = {name}
            if " " in name or "-" in name:
                # Hashtag form of a multi-word name: #KelTamasheq → keltamasheq.
                variants.add(re.sub(r"[\s\-']", "", name))
            elif name.isalpha() and not name.endswith(("w", "W")) and name not in d.case_sensitive:
                # Bambara makes any noun plural with -w: Dogonw, Tamasheqw, Bozow.
                variants.add(name + "w")
            for v in variants:
                rule = Rule(
                    "mention", f"community:{d.slug}", slugs=(d.slug,), capital_required=name in d.case_sensitive
                )
                _add(names, v, rule, where=f"communities.yaml {d.slug} {v!r}")
        for t in d.derogatory_terms:
            if t.confidence == "low":
                continue  # documented for reviewers, not used: too often innocent
            if t.kind == "epithet":
                rule = Rule(
                    "hostile", f"derogatory:{d.slug}:{t.lang}:{t.term}", category=t.category, lang=t.lang,
                    term=t.term, strength=STRENGTH["medium"], needs="predication", slugs=(d.slug,),
                )
                _add(main, t.term, rule, where=f"communities.yaml {d.slug} {t.term!r}")
            else:
                rule = Rule(
                    "mention", f"derogatory:{d.slug}:{t.lang}:{t.term}", slugs=(d.slug,), name_kind=t.kind,
                    slur_category=t.category, strength=SLUR_WEIGHT.get(t.confidence, 0.0), lang=t.lang,
                    term=t.term,
                )
                _add(names, t.term, rule, where=f"communities.yaml {d.slug} {t.term!r}")
    for a in actor_definitions(path=communities_path):
        for name in a.all_names():
            rule = Rule("actor", f"actor:{a.slug}", slugs=(a.slug,), cue="armed" if a.armed_group else "")
            _add(names, name, rule, where=f"communities.yaml {a.slug} {name!r}")

    # 2. The lexicon.
    data = yaml.safe_load(lexicon_path.read_text(encoding="utf-8"))
    negation_words = _negation_words()
    for category, per_lang in (data.get("categories") or {}).items():
        if category not in SEVERITY:
            raise ValueError(f"lexicon.yaml: unknown category {category!r}")
        defaults = per_lang.get("defaults") or {}
        for lang, entries in per_lang.items():
            if lang == "defaults":
                continue
            for entry in entries or []:
                where = f"lexicon.yaml {category}/{lang}/{entry.get('term')!r}"
                strength = entry.get("strength", defaults.get("strength", "medium"))
                needs = entry.get("needs", defaults.get("needs", "link"))
                if strength not in STRENGTH or needs not in LINK_FACTOR or not entry.get("patterns"):
                    raise ValueError(f"{where}: needs term, patterns, a known strength and needs")
                rule = Rule(
                    "hostile", f"lexicon:{lang}:{category}:{entry['term']}", category=category, lang=lang,
                    term=str(entry["term"]), strength=STRENGTH[strength], needs=needs,
                    clause_start=bool(entry.get("clause_start", True)), strict=bool(entry.get("strict", False)),
                )
                for p in entry["patterns"]:
                    if not isinstance(p, str):
                        raise ValueError(f"{where}: pattern {p!r} is not a string; quote it")
                    _add(main, p, rule, where=where, negation_words=negation_words)
    for cue, value in (data.get("cues") or {}).items():
        if cue in ("copula", "function", "clause_break"):
            continue
        for lang, p, strict in _cue_entries(value, where=f"cues.{cue}"):
            _add(main, p, Rule("cue", f"cue:{cue}", cue=cue, lang=lang, strict=strict), where=f"cues.{cue}")
    for cue, value in (data.get("dampeners") or {}).items():
        if cue not in DAMPENING or cue in ("quotation", "rhetorical"):
            raise ValueError(f"lexicon.yaml: unknown dampener {cue!r}")
        for lang, p, strict in _cue_entries(value, where=f"dampeners.{cue}"):
            _add(main, p, Rule("dampener", f"dampener:{cue}", cue=cue, lang=lang, strict=strict), where=cue)
    for lang, p, strict in _cue_entries(data.get("benign_idioms"), where="benign_idioms"):
        _add(main, p, Rule("idiom", "idiom", lang=lang), where="benign_idioms")

    def word_set(name: str) -> frozenset[str]:
        words: set[str] = set()
        for _lang, p, _strict in _cue_entries((data.get("cues") or {}).get(name), where=name):
            words.update(_word_keys(p, where=f"cues.{name}") if p.strip() else [])
        return frozenset(words)

    for index in (names, main):
        vocabulary.update(k for k in index.words if len(k) >= 2 and k.isalpha())
    name_owners: dict[str, set[str]] = {}
    for ps in names.by_word.values():
        for p in ps:
            if p.rule.kind == "mention" and len(p.slots) == 1:
                for w in p.slots[0].words:
                    name_owners.setdefault(w, set()).update(p.rule.slugs)
    name_words = set(name_owners)
    owners = {w: frozenset(s) for w, s in name_owners.items()}
    function = word_set("function") | word_set("copula")
    # Hostile words that stand alone ("vermine", "degoutants"), not the small words of phrases.
    hostile_words = {
        w
        for ps in main.by_word.values() for p in ps
        if p.rule.kind == "hostile" and len(p.slots) == 1
        for w in p.slots[0].words
        if w.isalpha() and w not in function
    }
    # Every longer word of a hostile phrase ("hate" of "hate <community>"): a slip of one ("I haet Fulani")
    # and words run together ("Ihate Fulani") are read as the phrase when the token is no word of its own.
    phrase_words = {
        w
        for ps in main.by_word.values() for p in ps
        if p.rule.kind == "hostile"
        for slot in p.slots for w in slot.words
        if w.isalpha() and len(w) >= 3 and w not in function
    }
    dictionary = frozenset(_squeeze(w) for w in dictionary_words())
    taken = vocabulary | common_words() | function
    # Slips read against French and English too: a real word is never one ("hat" is not "hate").
    taken_or_word = taken | dictionary
    # Names last: where a slip could be a name or a hostile word, it is read as the name.
    misspelt = _misspellings(hostile_words, taken, min_swap=6, min_delete=8)
    for form, word in _misspellings(phrase_words, taken_or_word, min_swap=4, min_delete=6).items():
        misspelt.setdefault(form, word)
    misspelt |= _misspellings(name_words, taken, min_swap=5, min_delete=6, owners=owners)
    for form, word in _misspellings(name_words, taken_or_word, min_swap=None, min_delete=None, owners=owners,
                                    min_insert=5).items():
        misspelt.setdefault(form, word)
    # Short names lose a letter too ("Pul", "Puls", "Dgon"); a capital says a name is meant.
    misspelt_capital = {
        k: v for k, v in _misspellings(name_words, taken, min_swap=4, min_delete=4, min_form=3, owners=owners).items()
        # A cut-off ending ("Boz", "Ara") is an abbreviation or another word more often than a slip.
        if k not in misspelt and k not in _NOT_MISSPELT and len(v) <= 7 and k[-1] == v[-1]
    }
    return Compiled(
        names=names, main=main, vocabulary=frozenset(vocabulary),
        copula=word_set("copula"), function=function,
        clause_break=word_set("clause_break"), name_words=frozenset(name_words),
        name_inside=re.compile("|".join(re.escape(w) for w in sorted(name_words, key=len, reverse=True) if len(w) >= 4)),
        hostile_words=frozenset(w for w in hostile_words if len(w) >= 4),
        phrase_words=frozenset(phrase_words), dictionary=dictionary,
        misspelt=misspelt, misspelt_capital=misspelt_capital,
    )


def compiled_rules(*, communities_path: Path | None = None, lexicon_path: Path | None = None) -> Compiled:
    """Parse and index both YAML files, once per process per pair of paths.

    Defaults: ``communities.yaml`` and ``lexicon.yaml`` in ``settings.MONITOR_SEEDS_DIR``.
    """
    # Called for every post: the cache key is the plain path, resolved only on a miss.
    return _compiled(
        str(communities_path or default_path()),
        str(lexicon_path or (seeds_dir() / "lexicon.yaml")),
    )


@lru_cache(maxsize=4)
def _compiled(communities_path: str, lexicon_path: str) -> Compiled:
    return _compile(Path(communities_path).resolve(), Path(lexicon_path).resolve())


# --- one post ---------------------------------------------------------------


@dataclass
class Token:
    key: str
    start: int  # in normalised text
    end: int
    sent: int = 0
    clause: int = 0
    quoted: bool = False
    misspelt: bool = False  # key is the name or hostile word this token looks like a slip of


@dataclass
class Match:
    rule: Rule
    start: int  # token indexes, end exclusive
    end: int
    negative: bool = False  # its pattern has a negation word of its own ("pas des humains", "not welcome")


@dataclass
class Mention:
    start: int
    end: int
    slugs: tuple[str, ...]
    rule_ids: tuple[str, ...]
    kind: str  # name | coded_name | slur | actor
    armed: bool = False
    slur_rules: tuple[Rule, ...] = ()
    misspelt: bool = False  # "Pelus": only trusted when the sentence says what they are


def _tokenise(norm: Normalised, compiled: Compiled) -> tuple[list[Token], dict[int, int]]:
    """Words and emoji with their sentence, clause and quotation; and where each question mark is."""
    tokens: list[Token] = []
    questions: dict[int, int] = {}
    sent = clause = 0
    new_sentence = new_clause = False
    quote_depth = 0
    straight_open = single_open = False
    original = norm.original
    for m in _TOKEN.finditer(norm.text):
        piece = m.group()
        if not _is_token(piece):
            if piece in SENTENCE_END:
                new_sentence = True
                if piece == "?" and tokens:
                    questions.setdefault(tokens[-1].sent, m.start())
            elif piece in CLAUSE_PUNCT:
                new_clause = True
            elif piece in OPEN_QUOTES:
                quote_depth += 1
                new_clause = True
            elif piece in CLOSE_QUOTES:
                quote_depth = max(0, quote_depth - 1)
                new_clause = True
            elif piece == '"':
                straight_open = not straight_open
                new_clause = True
            elif piece == "'":
                # 'quoted words' vs the apostrophe of "l'homme", "don't": a quote has a space on its outer side.
                before = norm.text[m.start() - 1] if m.start() else " "
                after = norm.text[m.end()] if m.end() < len(norm.text) else " "
                if not single_open and not before.isalnum() and after.isalnum():
                    single_open = True
                    new_clause = True
                elif single_open and not after.isalnum():
                    single_open = False
                    new_clause = True
            continue
        if tokens and new_sentence:
            sent += 1
            clause += 1
        elif tokens and new_clause:
            clause += 1
        new_sentence = new_clause = False
        key = _squeeze(piece)
        if key in compiled.clause_break and tokens:
            clause += 1
        quoted = quote_depth > 0 or straight_open or single_open
        start, end = m.start(), m.end()
        cut = _glued_name_cut(norm, piece, start, end, compiled) if piece.isalpha() and key not in compiled.vocabulary else 0
        if cut:
            tokens.append(Token(_squeeze(piece[:cut]), start, start + cut, sent, clause, quoted))
            tokens.append(Token(_squeeze(piece[cut:]), start + cut, end, sent, clause, quoted))
            continue
        if piece.isalpha() and len(piece) >= 5 and key not in compiled.vocabulary:
            # Words run together: a lower-case hashtag (#peulsdehors) may be any known words;
            # elsewhere one of them must be a community ("Peulssont des rats") or, when the token
            # is no French or English word and no name (a capital inside a sentence), a word of a
            # hostile phrase (``_run_together``: "Ihate", "killall").
            first_original = norm.starts[start]
            hashtag = first_original > 0 and original[first_original - 1] == "#"
            named = compiled.name_inside is not None and compiled.name_inside.search(key)
            unknown = key not in compiled.dictionary
            pieces = _segment(piece, compiled.vocabulary) if hashtag or named or unknown else None
            if pieces is None and named and unknown:
                # A name glued to one French or English word ("Fulaniwomen"); not a place name cut
                # into three ("Diafarabé": di af arabe).
                pieces = _segment(piece, compiled.vocabulary, compiled.dictionary)
                if pieces and (len(pieces) != 2 or min(len(p) for p in pieces) < 3):
                    pieces = None
            if pieces and (
                hashtag or any(_squeeze(p) in compiled.name_words for p in pieces)
                or (unknown and _run_together(pieces, compiled)
                    and not (original[first_original].isupper() and tokens and tokens[-1].sent == sent))
            ):
                offset = start
                for p in pieces:
                    tokens.append(Token(_squeeze(p), offset, offset + len(p), sent, clause, quoted))
                    offset += len(p)
                continue
        if key not in compiled.vocabulary:
            key = _leet_l(norm, piece, start, compiled) or key
        if key not in compiled.vocabulary and key in compiled.misspelt:
            tokens.append(Token(compiled.misspelt[key], start, end, sent, clause, quoted, misspelt=True))
            continue
        if key not in compiled.vocabulary and key in compiled.misspelt_capital and original[norm.starts[start]].isupper():
            tokens.append(Token(compiled.misspelt_capital[key], start, end, sent, clause, quoted, misspelt=True))
            continue
        tokens.append(Token(key, start, end, sent, clause, quoted))
    return _rejoin(norm, tokens, compiled), questions


ELIDED = frozenset("nmldsjct")


def _glued_name_cut(norm: Normalised, piece: str, start: int, end: int, compiled: Compiled) -> int:
    """Where to cut a community name from the word the space between them was lost to, or 0: a capital
    inside the token starts the name ("desPeuls", "TheFulani", "who'sFulani"), or an elided letter follows it
    ("Peulsn'ont", "P e u l s m'inspire")."""
    original = norm.original
    for i in range(1, len(piece)):
        if original[norm.starts[start + i]].isupper() and original[norm.starts[start + i - 1]].islower():
            return i if _squeeze(piece[i:]) in compiled.name_words else 0
    if (
        len(piece) >= 4 and piece[-1] in ELIDED and end < len(norm.text) and norm.text[end] in "'’"
        and _squeeze(piece[:-1]) in compiled.name_words
    ):
        return len(piece) - 1
    return 0


def _leet_l(norm: Normalised, piece: str, start: int, compiled: Compiled) -> str | None:
    """"Fu1ani": a 1 read as i by the normaliser may have been an l."""
    original = norm.original
    positions = [i for i, c in enumerate(piece) if c == "i" and original[norm.starts[start + i]] in "1|!"]
    if not positions:
        return None
    chars = list(piece)
    for i in positions:
        chars[i] = "l"
    key = _squeeze("".join(chars))
    return key if key in compiled.vocabulary or key in compiled.misspelt else None


_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _rejoin(norm: Normalised, tokens: list[Token], compiled: Compiled) -> list[Token]:
    """Join a name or hostile word cut by one mark: "Pe-uls", "F*lani" (the star hides a letter), "ver.mine"."""
    known = compiled.name_words | compiled.hostile_words
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        a = tokens[i]
        if i + 1 < len(tokens):
            b = tokens[i + 1]
            mark = norm.text[a.end:b.start]
            if (
                mark in ("-", "*", ".", "·", "_") and a.key.isalpha() and b.key.isalpha()
                and a.key not in compiled.vocabulary and b.key not in compiled.vocabulary
            ):
                candidates = [a.key + b.key]
                if mark == "*":
                    candidates += [a.key + c + b.key for c in _LETTERS]
                for candidate in candidates:
                    key = _squeeze(candidate)
                    key = key if key in known else compiled.misspelt.get(key, "")
                    if key:
                        out.append(Token(key, a.start, b.end, a.sent, a.clause, a.quoted, misspelt=candidate != key))
                        i += 2
                        break
                else:
                    out.append(a)
                    i += 1
                continue
        out.append(a)
        i += 1
    return out


_ONE_LETTER_WORDS = frozenset("iay")  # "ihatefulani" = i hate fulani


def _run_together(pieces: list[str], compiled: Compiled) -> bool:
    """Two French or English words typed without a space, one of them a word of a hostile phrase of at
    least four letters: "ihate", "killall", "aredisgusting". Not "kalaban" (ka la ban) nor "nigera"
    (a one-letter word only comes first), nor "needville" split anywhere but in two real words."""
    if len(pieces) != 2 or len(pieces[1]) == 1:
        return False
    keys = [_squeeze(p) for p in pieces]
    return (
        all(k in compiled.dictionary or len(p) == 1 for k, p in zip(keys, pieces))
        and any(k in compiled.phrase_words and len(p) >= 4 for k, p in zip(keys, pieces))
    )


def _segment(word: str, *vocabularies: frozenset[str]) -> list[str] | None:
    """Split ``word`` into the fewest words of ``vocabularies`` (at least two), or None."""
    n = len(word)
    if n > 40:
        return None
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        for j in range(i + 1, n + 1):
            piece = word[i:j]
            key = _squeeze(piece)
            if any(key in v for v in vocabularies) or (len(piece) == 1 and piece in _ONE_LETTER_WORDS):
                candidate = best[i] + [piece]
                if best[j] is None or len(candidate) < len(best[j]):
                    best[j] = candidate
    result = best[n]
    return result if result and len(result) >= 2 else None


MentionEnds = dict[str, dict[int, list[int]]]  # placeholder kind → start token → end tokens


def _match_at(pattern: Pattern, tokens: list[Token], k: int, mention_ends: MentionEnds) -> int | None:
    """Longest end (exclusive) of ``pattern`` starting at token ``k``, within one sentence."""
    slots = pattern.slots
    sent = tokens[k].sent
    n = len(tokens)

    def step(si: int, i: int) -> int | None:
        if si == len(slots):
            return i
        slot = slots[si]
        if slot.kind == GAP:
            best = None
            for skip in range(MAX_GAP + 1):
                j = i + skip
                if j > n or (skip and tokens[j - 1].sent != sent):
                    break
                r = step(si + 1, j)
                if r is not None and (best is None or r > best):
                    best = r
            return best
        if i >= n or tokens[i].sent != sent:
            return None
        if slot.kind == ANY:
            return step(si + 1, i + 1)
        ends: list[int] = []
        if slot.accepts(tokens[i].key):
            ends.append(i + 1)
        for phrase in slot.phrases:
            j = i + len(phrase)
            if j <= n and tokens[j - 1].sent == sent and all(tokens[i + q].key == w for q, w in enumerate(phrase)):
                ends.append(j)
        for kind in slot.placeholders:
            ends.extend(mention_ends[kind].get(i, ()))
        # The second half of a French negation sits between a verb and its object ("je ne hais PAS les
        # Peuls", "ne chassez JAMAIS les Dogons"), and a whole negation may sit between a phrase's words
        # ("Mali would NOT be better without", "ne serait PAS mieux sans"): the phrase is still read, and
        # its negation dampens it (``NEGATION_SKIPS``).
        if si + 1 < len(slots) and slot.kind == WORD:
            ends += [e + 1 for e in ends if e < n and tokens[e].sent == sent and tokens[e].key in NEGATION_SKIPS]
        best = None
        for end in ends:
            r = step(si + 1, end)
            if r is not None and (best is None or r > best):
                best = r
        return best

    return step(0, k)


def _find(index: Index, tokens: list[Token], mention_ends: MentionEnds) -> list[Match]:
    found: list[Match] = []
    for k, tok in enumerate(tokens):
        candidates = index.candidates(tok.key)
        for kind, ends in mention_ends.items():
            if k in ends:
                candidates = candidates + index.by_placeholder.get(kind, [])
        for pattern in candidates:
            end = _match_at(pattern, tokens, k, mention_ends)
            if end is not None and end > k:
                found.append(Match(pattern.rule, k, end, negative=pattern.negative))
    return found


def _mentions(norm: Normalised, tokens: list[Token], compiled: Compiled) -> tuple[list[Mention], list[Mention]]:
    """Community and actor mentions; overlapping ones keep the longest."""
    raw = _find(compiled.names, tokens, {COMMUNITY: {}, ACTOR: {}})
    grouped: dict[tuple[int, int, str], list[Rule]] = {}
    for m in raw:
        if m.rule.capital_required:
            first = norm.original_slice(tokens[m.start].start, tokens[m.start].end)[:1]
            if not first.isupper():
                continue
        kind = "actor" if m.rule.kind == "actor" else m.rule.name_kind
        grouped.setdefault((m.start, m.end, "actor" if kind == "actor" else "community"), []).append(m.rule)
    spans = sorted(grouped, key=lambda s: (-(s[1] - s[0]), s[0]))
    taken: set[int] = set()
    communities: list[Mention] = []
    actors: list[Mention] = []
    for start, end, family in spans:
        if any(i in taken for i in range(start, end)):
            continue
        taken.update(range(start, end))
        rules = grouped[(start, end, family)]
        slugs = tuple(dict.fromkeys(s for r in rules for s in r.slugs))
        if family == "actor":
            actors.append(Mention(start, end, slugs, tuple(r.rule_id for r in rules), "actor",
                                  armed=any(r.cue == "armed" for r in rules)))
        else:
            kinds = {r.name_kind for r in rules}
            kind = "slur" if "slur" in kinds else ("coded_name" if "coded_name" in kinds else "name")
            communities.append(Mention(start, end, slugs, tuple(dict.fromkeys(r.rule_id for r in rules)), kind,
                                       slur_rules=tuple(r for r in rules if r.name_kind == "slur"),
                                       misspelt=any(t.misspelt for t in tokens[start:end])))
    communities.sort(key=lambda m: m.start)
    actors.sort(key=lambda m: m.start)
    return communities, actors


@dataclass
class Hit:
    """A hostile term (or an actor equation, or a slur) and the community it is aimed at."""

    rule: Rule
    category: str
    start: int
    end: int
    weight: float
    target: Mention
    cues: list[Match] = field(default_factory=list)
    dampeners: list[tuple[str, int, int]] = field(default_factory=list)  # (kind, start, end) in normalised text
    scope: float = 1.0  # product of the SCOPE_DAMPENERS applied
    negative: bool = False  # the hostile phrase has a negation of its own (``Match.negative``)


class _Post:
    """Everything known about one post while detecting; discarded afterwards."""

    def __init__(self, text: str, language: str, compiled: Compiled):
        self.text = text
        self.language = language
        self.compiled = compiled
        self.norm = text_normalise(text)
        self.tokens, self.questions = _tokenise(self.norm, compiled)
        self.actor_tokens: set[int] = set()

    def is_actor(self, i: int) -> bool:
        return i in self.actor_tokens

    # Post language is only worked out when a strict entry needs it.
    def post_language(self) -> str:
        if not self.language:
            self.language = language_detect(self.text) or "other"
        return self.language

    def strict_ok(self, rule: Rule, start: int, end: int) -> bool:
        if not rule.strict:
            return True
        written = self.norm.original_slice(self.tokens[start].start, self.tokens[end - 1].end).casefold()
        return any(c in SAHEL_LETTERS for c in written) or self.post_language() == rule.lang

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.norm.original_span(self.tokens[start].start, self.tokens[end - 1].end)

    def allowed_in_gap(self, i: int, covered: set[int]) -> bool:
        return self.tokens[i].key in self.compiled.function or i in covered

    def actor_before(self, m: Mention) -> bool:
        """Is an actor (an armed group, the army, ...) named before mention ``m`` in its sentence?"""
        sent = self.tokens[m.start].sent
        return any(i < m.start and self.tokens[i].sent == sent for i in self.actor_tokens)

    def after_word_of(self, m: Mention, words: frozenset[str]) -> bool:
        """Is the word before the mention, past its articles and in its sentence, one of ``words``?"""
        k = m.start - 1
        while k >= 0 and self.tokens[k].key in ARTICLES:
            k -= 1
        return k >= 0 and self.tokens[k].key in words and self.tokens[k].sent == self.tokens[m.start].sent

    def after_preposition(self, m: Mention) -> bool:
        """Is the mention the object of a preposition ("contre les Peuls", "against Fulani")?"""
        return self.after_word_of(m, PREPOSITIONS)

    def is_genitive(self, m: Mention) -> bool:
        """"les bœufs des Peuls": the Peuls are not the subject of what follows."""
        k = m.start
        if k < 2 or self.tokens[k - 1].key not in ("des", "de", "d", "du", "of"):
            return False
        before = self.tokens[k - 2]
        return before.key not in self.compiled.function and before.sent == self.tokens[k].sent

    def relation(self, m: Mention, start: int, end: int, covered: set[int]) -> str | None:
        """How mention ``m`` relates to the term at tokens [start, end): copula, adjacent, ... or None."""
        toks = self.tokens
        if toks[m.start].sent != toks[start].sent:
            return None
        if m.end <= start:
            gap = range(m.end, start)
            if len(gap) == 0:
                return "adjacent"
            if len(gap) <= 2 and all(toks[i].key in DETERMINERS for i in gap):
                return "adjacent"
            if len(gap) <= COPULA_GAP and not self.is_genitive(m) and all(self.allowed_in_gap(i, covered) for i in gap):
                if any(toks[i].key in self.compiled.copula for i in gap):
                    return "copula"
                # Inverted, as in questions: "Why ARE Fulani so stupid?"
                k = m.start - 1
                while k >= 0 and toks[k].key in DETERMINERS and toks[k].sent == toks[m.start].sent:
                    k -= 1
                if k >= 0 and toks[k].key in self.compiled.copula and toks[k].sent == toks[m.start].sent:
                    return "copula"
            # The community is the subject of a copula and the term ends its clause's predicate:
            # "les Peuls sont la pire espèce de vermine", "Fulani are a stain on humanity and vermin".
            if not self.is_genitive(m):
                for c in gap:
                    if not self.allowed_in_gap(c, covered):
                        break
                    if toks[c].key in self.compiled.copula:
                        same_clause = all(toks[i].clause == toks[start].clause for i in range(c, start))
                        if start - c <= PREDICATE_REACH and same_clause:
                            return "predicate"
                        break
            return "sentence"
        if end <= m.start:
            gap = range(end, m.start)
            if len(gap) <= 2 and all(toks[i].key in DETERMINERS_BEFORE for i in gap):
                return "adjacent_before"
            if (
                len(gap) <= COPULA_GAP and all(self.allowed_in_gap(i, covered) for i in gap)
                and any(toks[i].key in self.compiled.copula for i in gap)
            ):
                return "copula_reverse"
            return "sentence"
        return "copula"  # overlapping: the pattern itself contains the community


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def _inside(a0: int, a1: int, b0: int, b1: int) -> bool:
    return b0 <= a0 and a1 <= b1


@dataclass(frozen=True)
class Analysis:
    """What the lexicon read in one post, for the learned detector to build on.

    ``detections``: as ``detect_lexicon`` returns them. ``mentions``: every
    protected community named, as ``(slug, start, end, rule_id)`` in original
    offsets, in order. ``signals``: the kinds of cue and dampener present
    anywhere in the post (``negation``, ``reporting``, ``counter_speech``,
    ``condemnation``, ``question``, ``identity``, ``call``, ``quantifier``),
    plus ``question_mark`` and ``quotation``, whether or not a hostile term was found.
    """

    detections: list[Detection]
    mentions: list[tuple[str, int, int, str]]
    signals: frozenset[str]
    signal_spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind → first span, original offsets
    # Per community with a hostile term: how much the scope dampeners leave of its least dampened term
    # (1.0 when one term is asserted as the author's own). The hybrid detector scales its learned score by it.
    scope: dict[str, float] = field(default_factory=dict)
    # Communities said something good of ("les Peuls sont accueillants", "I admire the Dogon"), unnegated,
    # with no hostile term aimed at them.
    praised: frozenset[str] = frozenset()


_EMPTY = Analysis([], [], frozenset())


def detect_lexicon(text: str, *, language: str = "", compiled: Compiled | None = None) -> list[Detection]:
    """Run the lexicon detector on one post; one ``Detection`` per targeted community.

    Pure: reads the YAML files once per process (``compiled_rules``), no database.
    """
    return lexicon_analyse(text, language=language, compiled=compiled).detections


def lexicon_analyse(text: str, *, language: str = "", compiled: Compiled | None = None) -> Analysis:
    """Run the lexicon on one post and keep what it read: detections, mentions and signals."""
    compiled = compiled or compiled_rules()
    if not text or not text.strip():
        return _EMPTY
    post = _Post(text, language, compiled)
    tokens = post.tokens
    if not tokens:
        return _EMPTY
    # 1. Who is named.
    communities, actors = _mentions(post.norm, tokens, compiled)
    if not communities:
        return _EMPTY
    mentions = []
    for m in communities:
        for slug in m.slugs:
            rule_id = next((r for r in m.rule_ids if r == f"community:{slug}" or f":{slug}:" in r), m.rule_ids[0])
            mentions.append((slug, *post.span(m.start, m.end), rule_id))
    post.actor_tokens = {i for a in actors for i in range(a.start, a.end)}
    mention_ends: dict[str, dict[int, list[int]]] = {COMMUNITY: {}, ACTOR: {}}
    for m in communities:
        mention_ends[COMMUNITY].setdefault(m.start, []).append(m.end)
    for m in actors:
        if m.armed:
            mention_ends[ACTOR].setdefault(m.start, []).append(m.end)

    # 2. Everything the lexicon knows, sorted by kind.
    hostile: list[Match] = []
    cues: dict[str, list[Match]] = {}
    dampeners: dict[str, list[Match]] = {}
    idioms: list[Match] = []
    for match in _find(compiled.main, tokens, mention_ends):
        rule = match.rule
        if not post.strict_ok(rule, match.start, match.end):
            continue
        if rule.kind == "hostile":
            hostile.append(match)
        elif rule.kind == "cue":
            cues.setdefault(rule.cue, []).append(match)
        elif rule.kind == "dampener":
            dampeners.setdefault(rule.cue, []).append(match)
        elif rule.kind == "idiom":
            idioms.append(match)
    signals = set(cues) | set(dampeners)
    signal_spans = {kind: post.span(found[0].start, found[0].end) for kind, found in {**cues, **dampeners}.items()}
    if post.questions:
        signals.add("question_mark")
    if any(t.quoted for t in tokens) and not all(t.quoted for t in tokens):
        signals.add("quotation")
    hostile = [h for h in hostile if not any(_overlaps(h.start, h.end, i.start, i.end) for i in idioms)]
    hostile = _dedupe(hostile, language=language)
    covered = {i for h in hostile for i in range(h.start, h.end)}
    mention_tokens = {i for m in communities for i in range(m.start, m.end)}
    gap_ok = covered | mention_tokens | {i for i, t in enumerate(tokens) if t.key in CONJUNCTIONS}
    calls = cues.get("call", [])
    # A negation that is part of a hostile phrase ("pas des humains"), of a
    # call ("n'hésitez pas", "why not") or of a fixed phrase ("no better than")
    # is not a negation of anything.
    not_negating = calls + cues.get("not_negation", [])
    negations = [
        n for n in dampeners.get("negation", [])
        if not any(_inside(n.start, n.end, h.start, h.end) and h.negative for h in hostile)
        and not any(_overlaps(n.start, n.end, c.start, c.end) for c in not_negating)
    ]
    # Only a negation that negates something is a signal for the learned detector.
    if negations:
        signal_spans["negation"] = post.span(negations[0].start, negations[0].end)
    else:
        signals.discard("negation")
        signal_spans.pop("negation", None)

    # 3. Link hostile terms to communities.
    hits: list[Hit] = []
    for h in hostile:
        rule = h.rule
        for target, relation in _targets(post, h, rule, communities, gap_ok):
            if rule.slugs and not set(rule.slugs) & set(target.slugs):
                continue  # an epithet aimed at another community
            strict_blame = rule.category == "collective_blame" and rule.needs == "predication"
            factor = (BLAME_FACTOR if strict_blame else LINK_FACTOR[rule.needs]).get(relation)
            if not factor:
                continue
            hits.append(Hit(rule, rule.category, h.start, h.end, rule.strength * factor, target,
                            negative=h.negative))
    # A community said to be an armed group: "les Peuls sont la katiba Macina".
    for a in actors:
        if not a.armed:
            continue
        for m in communities:
            relation = post.relation(m, a.start, a.end, gap_ok)
            if relation in ("copula", "copula_reverse") and not _overlaps(a.start, a.end, m.start, m.end):
                rule = Rule("hostile", a.rule_ids[0], category="collective_blame", strength=ACTOR_EQUATION_WEIGHT)
                weight = ACTOR_EQUATION_WEIGHT * BLAME_FACTOR[relation]
                hits.append(Hit(rule, "collective_blame", a.start, a.end, weight, m))
    hits += _denied_praise(post, communities, cues, negations)
    hits += _denied_liking(post, communities, cues, negations)
    # A slur names its target and is hostile by itself.
    for m in communities:
        for r in m.slur_rules:
            if r.strength:
                rule = Rule("hostile", r.rule_id, category=r.slur_category, strength=r.strength)
                hits.append(Hit(rule, r.slur_category, m.start, m.end, r.strength, m))
    if not hits:
        return Analysis([], mentions, frozenset(signals), signal_spans,
                        praised=_praised(post, communities, cues, negations, set()))

    # 4. Cues and dampeners.
    for hit in hits:
        _apply_cues(post, hit, cues)
        _apply_dampeners(post, hit, dampeners, negations, cues)
    hits = _strongest(hits)

    scope: dict[str, float] = {}
    for hit in hits:
        for slug in hit.target.slugs:
            scope[slug] = max(scope.get(slug, 0.0), hit.scope)
    praised = _praised(post, communities, cues, negations, set(scope))
    return Analysis(_assemble(post, hits), mentions, frozenset(signals), signal_spans, scope=scope, praised=praised)


def _denied_praise(
    post: _Post, communities: list[Mention], cues: dict[str, list[Match]], negations: list[Match]
) -> list[Hit]:
    """A good quality (``cues.positive``) denied to a community named before it, in its clause: derogation.

    "Les Peuls ne sont pas honnêtes", "aucun Dogon n'est honnête", "the Fulani are not brave". Only the
    community itself counts, not a noun it qualifies ("mes voisins peuls"). The negation is part of the
    attack (the hit spans it and is ``negative``); other dampeners (reporting, counter-speech, a question)
    still apply.
    """
    tokens = post.tokens
    out: list[Hit] = []
    for p in cues.get("positive", []):
        clause = tokens[p.start].clause
        # A negation of the quality's own language: Bambara "ni" ("and") is not French "ni".
        denied = [
            n for n in negations
            if tokens[n.start].clause == clause and n.end <= p.start and p.start - n.end <= NEGATION_REACH
            and n.rule.lang in ("", p.rule.lang)
        ]
        if not denied:
            continue
        # A comparison praises someone ("jamais vu un Peul aussi gentil que toi"); "pas tous", "not all"
        # deny only a generalisation.
        after = tokens[p.end].key if p.end < len(tokens) else ""
        if after in COMPARISON or any(t.key in PARTIAL for t in tokens[min(n.start for n in denied):p.start]):
            continue
        start = denied[-1].start
        for m in communities:
            if m.misspelt or tokens[m.start].clause != clause:
                continue
            # The quality qualifies the name itself: "never met a polite Peul", "jamais connu un Peul honnête".
            if m.end == p.start or p.end == m.start:
                if min(m.start, p.start) > start:
                    out.append(_denial_hit(post, "lexicon:denied_praise", p, m, start, max(m.end, p.end)))
                continue
            if m.start >= p.start:
                continue
            # The community itself, not some of its members ("mes voisins peuls ne sont pas gentils").
            before = tokens[m.start - 1] if m.start else None
            if before is not None and before.clause == clause and before.key not in post.compiled.function \
                    and not any(n.start <= m.start - 1 < n.end for n in negations):
                continue
            # A negation opening the community's own phrase is the same denial ("AUCUN Peul n'a JAMAIS été
            # honnête": French negative concord), not a second one that would undo it.
            opening = [n.start for n in negations if n.end <= m.start and _opens_phrase(post, n, m)]
            out.append(_denial_hit(post, "lexicon:denied_praise", p, m, min([start, m.start, *opening]), p.end))
    return out


# Words that may stand between a negation and the community it quantifies: "pas UN SEUL Peul", "not A SINGLE Fulani".
_PHRASE_OPENERS = ARTICLES | _keys("seul seule single one")


def _opens_phrase(post: _Post, n: Match, m: Mention) -> bool:
    """Negation ``n`` opens the noun phrase of mention ``m``: "aucun Peul", "pas un seul Peul", "no Fulani"."""
    gap = post.tokens[n.end:m.start]
    same_clause = post.tokens[n.start].clause == post.tokens[m.start].clause
    return same_clause and len(gap) <= 2 and all(t.key in _PHRASE_OPENERS for t in gap)


def _denied_liking(
    post: _Post, communities: list[Mention], cues: dict[str, list[Match]], negations: list[Match]
) -> list[Hit]:
    """Liking, respect or trust (``cues.liking``) negated, with the community as its object: derogation.

    "Je n'aime pas les Peuls", "I don't trust the Fulani", "je n'ai aucun respect pour les Dogons". The
    community must come right after the verb or noun, with only small words between, in its clause:
    "je n'aime pas qu'on insulte les Peuls" and "I don't like people who attack the Fulani" are left alone.
    """
    tokens = post.tokens
    small = ARTICLES | PREPOSITIONS | post.compiled.function
    out: list[Hit] = []
    for p in cues.get("liking", []):
        clause = tokens[p.start].clause
        denied = [
            n for n in negations
            if tokens[n.start].clause == clause and n.start < p.start and n.rule.lang in ("", p.rule.lang)
            and (n.end > p.start or p.start - n.end <= 2)
        ]
        if not denied:
            continue
        k = max(p.end, max(n.end for n in denied))
        while k < len(tokens) and tokens[k].clause == clause and tokens[k].key in small \
                and not any(m.start == k for m in communities) and k - p.end < 4:
            k += 1
        for m in communities:
            if m.start != k or m.misspelt or tokens[m.start].clause != clause:
                continue
            out.append(_denial_hit(post, "lexicon:denied_liking", p, m, denied[-1].start, m.end))
    return out


def _denial_hit(post: _Post, rule_id: str, p: Match, m: Mention, start: int, end: int) -> Hit:
    """A derogation hit on ``m`` over tokens ``start:end``, named after the denied word ``p``; its negation is
    part of it (``negative``)."""
    term = " ".join(t.key for t in post.tokens[p.start:p.end])
    rule = Rule("hostile", f"{rule_id}:{term}", category="derogation", strength=STRENGTH["medium"], term=term)
    return Hit(rule, "derogation", start, end, rule.strength, m, negative=True)


def _praised(
    post: _Post, communities: list[Mention], cues: dict[str, list[Match]], negations: list[Match], attacked: set[str]
) -> frozenset[str]:
    """Communities praised in their sentence, with no negation in that sentence and no hostile term at them.

    A good quality ("accueillants", "generous") counts anywhere in the sentence; a verb of liking or
    caring ("admirer", "honour") only when the community comes after it, as its object; what a community
    suffers ("stigmatisés", "being targeted") only when a copula says it of the community.
    """
    tokens = post.tokens
    out: set[str] = set()
    for kind in ("positive", "positive_act", "victim", "inclusion"):
        for p in cues.get(kind, []):
            sent = tokens[p.start].sent
            # A question asserts no praise ("Vous avez déjà vu un Peul honnête ?", "Marry a Fulani?").
            if sent in post.questions or any(tokens[n.start].sent == sent for n in negations):
                continue
            for m in communities:
                if tokens[m.start].sent != sent or m.misspelt:
                    continue
                if kind == "positive_act" and m.start < p.end:
                    continue
                if kind == "inclusion" and not 0 <= m.start - p.end <= 1:
                    continue
                if kind == "victim" and not _suffers(post, m, p):
                    continue
                if post.after_word_of(m, ABSENCE):
                    continue  # "le Mali serait paisible sans les Peuls": the good thing is their absence
                out.update(s for s in m.slugs if s not in attacked)
    return frozenset(out)


def _suffers(post: _Post, m: Mention, p: Match) -> bool:
    """A victim phrase said of the community: through a copula ("les Peuls sont stigmatisés"), or a verb
    phrase right after it ("les Peuls vivent dans la peur"); not "play the victim", not the victims of an
    attack, not a lone participle stuck to the name ("ces pauvres Peuls persécutés", often sarcastic)."""
    relation = post.relation(m, p.start, p.end, set())
    return relation in ("copula", "predicate") or (relation == "adjacent" and p.end - p.start >= 2)


def _dedupe(matches: list[Match], *, language: str = "") -> list[Match]:
    """One match per category and span ("rats" is French and English): the post's language first."""
    ordered = sorted(matches, key=lambda m: (-m.rule.strength, m.rule.lang != language, m.start))
    kept: dict[tuple[str, int, int, str], Match] = {}
    for m in ordered:
        kept.setdefault((m.rule.category, m.start, m.end, m.rule.needs), m)
    return sorted(kept.values(), key=lambda m: (m.start, m.end))


def _strongest(hits: list[Hit]) -> list[Hit]:
    """Where hits of one category on one target overlap ("cachent les jihadistes" and
    "jihadistes"), keep the heaviest, so one phrase is not counted twice."""
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: -h.weight):
        if any(
            k.category == hit.category and k.target is hit.target and _overlaps(k.start, k.end, hit.start, hit.end)
            for k in kept
        ):
            continue
        kept.append(hit)
    return kept


Linked = list[tuple[Mention, str]]  # target mentions and how each relates to the term


def _targets(post: _Post, h: Match, rule: Rule, communities: list[Mention], gap_ok: set[int]) -> Linked:
    """The mentions a hostile term is about, with how each relates to it."""
    tokens = post.tokens
    inside = [m for m in communities if _inside(m.start, m.end, h.start, h.end)]
    if inside:
        # "<community>" in the pattern: the target is written into the phrase, unless a
        # pattern that opens with it finds it behind a preposition: in "les attaques
        # CONTRE les Peuls me dégoûtent" the attacks are what disgusts.
        return [(m, "copula") for m in inside if not (m.start == h.start and post.after_preposition(m))]
    sent = tokens[h.start].sent
    same = [m for m in communities if tokens[m.start].sent == sent]
    close = [(m, post.relation(m, h.start, h.end, gap_ok)) for m in same]
    close = [(m, r) for m, r in close if r and r != "sentence" and not _subject_taken_up(post, m, h)]
    if rule.needs != "link":
        return (
            close or _pronoun_predication(post, h, communities, gap_ok) or _verbless(post, h, communities, gap_ok)
            or _demonstrative(post, h, communities)
        )
    # A misspelt name is only trusted when the sentence says what they are
    # ("Pelus sont des rats"); in a looser link it could be any look-alike word.
    misspelt = [(m, r) for m, r in close if m.misspelt]
    same = [m for m in same if not m.misspelt]
    if not tokens[h.start].quoted:
        # A term outside quotation marks is not about a community named only inside a quoted sentence:
        # in 'Elle devrait être virée pour avoir dit « les Peuls ... »' the quote is someone else's words.
        # Scare quotes around a name or a coded term (« peaux claires ») are the author's own words.
        same = [m for m in same if _quoted_run(tokens, m.start) < QUOTED_SENTENCE_TOKENS]
    if same:
        after = [m for m in same if m.start >= h.end]
        before = [m for m in same if m.end <= h.start]
        # Orders and threats aim at their object ("tuez les Peuls"); accusations
        # at their subject ("les Peuls cachent les terroristes").
        if rule.category == "collective_blame":
            chosen = before or after
        elif after:
            chosen = after
            if _has_own_object(post, h):
                # "éliminer les bandits QUI tuent les Peuls": the community is inside a relative clause
                # about the verb's own object, not what the verb is aimed at.
                chosen = [m for m in after if not any(tokens[i].key in RELATIVES for i in range(h.end, m.start))]
        else:
            # "Le JNIM tue les Peuls, il faut éliminer LE JNIM": the verb has an object of its own.
            chosen = [] if _has_own_object(post, h) else before
        return [(m, "sentence") for m in chosen] + misspelt
    if misspelt:
        return misspelt
    # A neighbouring sentence, close by, when a pronoun carries the community over:
    # "Les Peuls ont attaqué. Il faut tous les tuer." but not "... Il faut éliminer ces terroristes."
    if not _has_anaphora(post, h):
        return []
    near = [
        m for m in communities
        if not m.misspelt and abs(tokens[m.start].sent - sent) == 1
        and min(abs(m.start - h.end), abs(h.start - m.end)) <= WINDOW_TOKENS
    ]
    return [(m, "window") for m in near]


def _subject_taken_up(post: _Post, m: Mention, h: Match) -> bool:
    """A new clause after the community's says what its subject is, and that subject is an actor named before
    it: "Le JNIM tue les Peuls, ce sont des monstres" (the monsters are the JNIM). "Les Peuls, ce sont des
    monstres" names no actor first and is left alone."""
    tokens = post.tokens
    return m.end <= h.start and tokens[m.end - 1].clause != tokens[h.start].clause and post.actor_before(m)


QUOTED_SENTENCE_TOKENS = 4


def _quoted_run(tokens, i: int) -> int:
    """How many consecutive quoted tokens the token ``i`` belongs to (0 when it is not quoted)."""
    if not tokens[i].quoted:
        return 0
    start, end = i, i
    while start > 0 and tokens[start - 1].quoted:
        start -= 1
    while end + 1 < len(tokens) and tokens[end + 1].quoted:
        end += 1
    return end - start + 1


def _verbless(post: _Post, h: Match, communities: list[Mention], gap_ok: set[int]) -> Linked:
    """"Les Peuls pleurent en public. Hypocrites, vipères.": a sentence of insults alone
    describes the community named in the sentence before (or after: "Des cafards. Voilà les Peuls.")."""
    tokens = post.tokens
    sent = tokens[h.start].sent
    own = [i for i, t in enumerate(tokens) if t.sent == sent]
    if any(not (i in gap_ok or tokens[i].key in post.compiled.function or not tokens[i].key[0].isalnum()) for i in own):
        return []
    for other in (sent - 1, sent + 1):
        near = [m for m in communities if not m.misspelt and tokens[m.start].sent == other]
        if near:
            # "Le JNIM ne représente pas les Peuls. Des assassins.": about the actor named first.
            if other < sent and post.actor_before(near[-1]):
                return []
            return [(near[-1] if other < sent else near[0], "window")]
    return []


DEMONSTRATIVES = _keys("ces cette cet these those")
PLURAL_DETERMINERS = _keys("les des ces leurs nos vos the these those their our")


def _demonstrative(post: _Post, h: Match, communities: list[Mention]) -> Linked:
    """"Deux Peuls ont ouvert une pharmacie, boycottez ces escrocs.": a demonstrative before the term points
    back at the community named before it, in its sentence or the one before, unless an actor or another
    group is named before ("Des bandits ont volé le bétail des Peuls, ces voleurs ...")."""
    tokens = post.tokens
    k = h.start - 1
    if k < 0 or tokens[k].key not in DEMONSTRATIVES:
        return []
    sent = tokens[h.start].sent
    earlier = [m for m in communities if not m.misspelt and m.end <= k and sent - tokens[m.start].sent in (0, 1)]
    if not earlier:
        return []
    m = earlier[-1]
    first = next(i for i, t in enumerate(tokens) if t.sent == tokens[m.start].sent)
    if _actor_around(post, m, k) or _plural_noun_between(post, first, m.start) or _plural_noun_between(post, m.end, k):
        return []
    return [(m, "window")]


def _actor_around(post: _Post, m: Mention, end: int) -> bool:
    """Is an actor named before mention ``m`` in its sentence, or between it and token ``end``? Words that take
    up a group then take up the actor ("Le JNIM a attaqué les Peuls, ces lâches")."""
    return post.actor_before(m) or any(post.is_actor(i) for i in range(m.end, end))


def _plural_noun_between(post: _Post, start: int, end: int) -> bool:
    """Is another group named between tokens ``start`` and ``end`` ("des bandits ont volé ...")?"""
    tokens = post.tokens
    return any(
        tokens[i].key in PLURAL_DETERMINERS and tokens[i + 1].key.isalpha() and tokens[i + 1].key[-1] in "sx"
        for i in range(start, end - 1)
    )


def _pronoun_predication(post: _Post, h: Match, communities: list[Mention], gap_ok: set[int]) -> Linked:
    """"Les Peuls ? Ils sont tous dégoûtants.": a pronoun said to be the term, the community just before: in the
    sentence before, or in an earlier clause of its own ("I met some Fulani, and they are all thieves"). Words
    that take up a group are read as the pronoun ("ces gens-là sont dangereux", "those people are thieves")."""
    tokens = post.tokens
    sent = tokens[h.start].sent
    for k in range(h.start - 1, -1, -1):
        if tokens[k].sent != sent:
            break
        start = _group_anaphor_start(tokens, k)
        if start is None:
            continue
        pronoun = Mention(start, k + 1, (), (), "pronoun")
        if post.relation(pronoun, h.start, h.end, gap_ok) not in ("copula", "adjacent", "predicate"):
            continue
        clause = tokens[start].clause
        earlier = [
            m for m in communities
            if not m.misspelt and start - m.end <= WINDOW_TOKENS and m.end <= start and (
                tokens[m.start].sent == sent - 1 or (tokens[m.start].sent == sent and tokens[m.end - 1].clause != clause)
            )
        ]
        # "Le JNIM ne représente pas les Peuls. Ce sont des assassins.": the pronoun takes up the subject,
        # the actor named first, not the community after it; nor the actor named after it ("les Peuls
        # attaqués par les bandits, ces gens-là sont des monstres").
        if not earlier or _actor_around(post, earlier[-1], start):
            return []
        return [(earlier[-1], "window")]
    return []


def _group_anaphor_start(tokens: list[Token], k: int) -> int | None:
    """Where the pronoun or the words taking up a group that end at token ``k`` start, or None."""
    if tokens[k].key in SUBJECT_PRONOUNS:
        return k
    for words in GROUP_ANAPHORA:
        start = k - len(words) + 1
        if start >= 0 and all(tokens[start + i].key == w and tokens[start + i].sent == tokens[k].sent
                              for i, w in enumerate(words)):
            return start
    return None


def _has_own_object(post: _Post, h: Match) -> bool:
    """Is the verb followed by an object that is not a protected community ("éliminer le JNIM")?

    A pronoun object ("les tuer", "tuez-les", "kill them") refers back to people
    already named, so it is not an object of its own.
    """
    tokens = post.tokens
    clause = tokens[h.start].clause
    if h.start > 0 and tokens[h.start - 1].key in ANAPHORA and tokens[h.start - 1].clause == clause:
        return False
    k = h.end
    if k < len(tokens) and tokens[k].clause == clause and tokens[k].key in ANAPHORA - {"les"}:
        return False
    articles = 0
    while k < len(tokens) and tokens[k].clause == clause and tokens[k].key in ARTICLES:
        k += 1
        articles += 1
    if k >= len(tokens) or tokens[k].clause != clause:
        return False  # "tuez-les": the article was a pronoun after all
    return articles > 0 or post.is_actor(k)


def _has_anaphora(post: _Post, h: Match) -> bool:
    """Does the term's clause refer back to people with a pronoun ("les tuer", "kill them", "tuez-les")?"""
    tokens = post.tokens
    clause = tokens[h.start].clause
    for k in range(max(0, h.start - 3), min(len(tokens), h.end + 3)):
        if tokens[k].clause != clause or tokens[k].key not in ANAPHORA:
            continue
        # French "les" after the verb is a pronoun only when nothing follows it ("tuez-les"),
        # otherwise an article ("tuez les terroristes").
        if tokens[k].key == "les" and k >= h.end and k + 1 < len(tokens) and tokens[k + 1].clause == clause:
            continue
        return True
    return False


def _apply_cues(post: _Post, hit: Hit, cues: dict[str, list[Match]]) -> None:
    """A call to act lifts weak incitement and exclusion words; a quantifier lifts collective ones."""
    tokens = post.tokens
    clause = tokens[hit.start].clause
    if hit.category in CALLABLE and hit.rule.strength < STRENGTH["strong"]:
        called = [
            c for c in cues.get("call", [])
            if c.end <= hit.start and tokens[c.start].clause == clause and hit.start - c.end <= CALL_REACH
        ]
        if called:
            hit.weight = min(MAX_WEIGHT, hit.weight + CALL_BOOST)
            hit.cues.append(called[-1])
        elif hit.rule.clause_start and _opens_clause(post, hit):
            # An order: the verb opens its clause ("Tuer les Peuls", "Kill the Fulani").
            hit.weight = min(MAX_WEIGHT, hit.weight + CALL_BOOST)
    if hit.category != "threat":
        m = hit.target
        for q in cues.get("quantifier", []):
            near_mention = (q.end <= m.start and m.start - q.end <= 2) or (m.end <= q.start and q.start - m.end <= 2)
            in_gap = m.end <= q.start and q.end <= hit.start
            if (near_mention or in_gap) and tokens[q.start].sent == tokens[m.start].sent:
                hit.weight = min(MAX_WEIGHT, hit.weight + QUANTIFIER_BOOST)
                hit.cues.append(q)
                break


def _opens_clause(post: _Post, hit: Hit) -> bool:
    """Does the term open its clause, as an order does (only small words or the target before it)?"""
    tokens = post.tokens
    clause = tokens[hit.start].clause
    k = hit.start - 1
    while k >= 0 and tokens[k].clause == clause:
        if tokens[k].key not in ORDER_OPENERS and not (hit.target.start <= k < hit.target.end):
            return False
        k -= 1
    return True


def _apply_dampeners(
    post: _Post, hit: Hit, dampeners: dict[str, list[Match]], negations: list[Match], cues: dict[str, list[Match]]
) -> None:
    """Lower the hit's weight for each reason to read it as something other than the author's hate."""
    tokens = post.tokens
    sent, clause = tokens[hit.start].sent, tokens[hit.start].clause
    m = hit.target
    found: list[tuple[str, int, int]] = []

    def note(kind: str, match: Match) -> None:
        found.append((kind, tokens[match.start].start, tokens[match.end - 1].end))

    # "Je refuse de travailler avec ces terroristes", "I won't let those savages near my kids": what a
    # demonstrative names is presupposed, and a negation of the verb does not take it back.
    presupposed = hit.start > 0 and tokens[hit.start - 1].key in DEMONSTRATIVES
    for n in [] if presupposed else negations:
        inside = _inside(n.start, n.end, hit.start, hit.end)
        if inside and hit.negative:
            continue
        wraps = n.start <= hit.start and hit.end <= n.end
        before = n.end <= hit.start and tokens[n.start].clause == clause and hit.start - n.end <= NEGATION_REACH
        # "Les Peuls ne sont que des voleurs": between the community and the term, in the clause of one of them
        # (not "Mon voisin est peul. Je ne lui ferai jamais confiance, ces gens sont des traîtres").
        in_predication = (
            m.end <= n.start and n.end <= hit.start and tokens[n.start].sent == sent
            and clause in (tokens[n.start].clause, tokens[m.start].clause)
        )
        # "ne déteste pas les Peuls": the negation opens before the term and closes inside it (not when
        # the term starts at the negation's last word: "ne sont pas des humains" is hostile).
        straddles = n.start < hit.start < n.end - 1
        # "Quand est-ce que les Peuls vont arrêter de cacher les terroristes ?": the community told to stop is
        # said to do it. ("Arrêtez d'accuser les Peuls" stops what is done to them: still a negation.)
        if tokens[n.start].key in STOP_WORDS and m.end <= n.start and tokens[m.start].clause == tokens[n.start].clause \
                and not _stopped_being(post, n):
            continue
        if (inside or wraps or before or in_predication or straddles) and not (n.end <= hit.start and _taken_back(post, hit.end)):
            note("negation", n)
            break
    for c in dampeners.get("reporting", []):
        # "I said what I said", "je l'ai dit": the author's own saying reports nobody else.
        if tokens[c.start].sent == sent and not _said_by_author(post, c):
            note("reporting", c)
            break
    quoted = tokens[hit.start].quoted
    for kind in ("counter_speech", "condemnation"):
        for c in dampeners.get(kind, []):
            if _overlaps(c.start, c.end, hit.start, hit.end):
                continue
            # "Je ne suis pas raciste, mais ...": what follows "mais" is the speaker's own view.
            if c.end <= hit.start and _break_between(post, c.end, hit.start):
                continue
            # "Not every Fulani is a jihadist, but most of them are": the concession is taken back.
            if kind == "counter_speech" and _taken_back(post, hit.end):
                continue
            # Condemning an event ("je condamne l'attaque") says nothing about the
            # next sentence; it covers its own sentence or a quotation it comments on.
            if kind == "condemnation" and tokens[c.start].sent != sent and not (quoted and not tokens[c.start].quoted):
                continue
            note(kind, c)
            break
    if quoted:
        comment = [c for c in cues.get("quote_comment", []) if not tokens[c.start].quoted]
        if comment:
            note("counter_speech", comment[0])
    if sent in post.questions:
        # An enquiry ("est-ce vrai que ... ?") weighs less than a rhetorical question;
        # "Faut-il tous les tuer ?" asks for it: a call in the question keeps its weight.
        asked = [q for q in dampeners.get("question", []) if tokens[q.start].sent == sent]
        if not any(tokens[c.start].sent == sent for c in cues.get("call", [])):
            if asked:
                note("question", asked[0])
            else:
                q = post.questions[sent]
                found.append(("rhetorical", q, q + 1))
    if quoted and sum(1 for t in tokens if not t.quoted) >= 3:
        found.append(("quotation", tokens[hit.start].start, tokens[hit.end - 1].end))
    elif not quoted and _quoted_run(tokens, m.start) >= QUOTED_CLAIM:
        # "Statements like 'Fulani are scum' have no place here": the words outside are about the quoted claim.
        found.append(("quotation", tokens[hit.start].start, tokens[hit.end - 1].end))
    for i in dampeners.get("identity", []):
        if i.end <= m.start and m.start - i.end <= 2 and tokens[i.start].sent == tokens[m.start].sent \
                and all(tokens[k].key in IDENTITY_FILLERS or hit.start <= k < hit.end <= m.start for k in range(i.end, m.start)) \
                and _speaks_as(post, i):
            note("identity", i)
            break
    embedded = _embedding_verb(post, hit, cues, negations)
    if embedded is not None:
        note("embedding", embedded)
    doers = _doers(post, hit, cues)
    if doers is not None:
        note("doers", doers)
    endorsed = cues.get("endorsement", [])
    if endorsed and any(kind in ENDORSABLE for kind, _s, _e in found):
        # "Mon oncle dit que les Peuls sont des serpents, et il a raison": the author makes the report theirs.
        found = [f for f in found if f[0] not in ENDORSABLE]
        hit.cues.append(endorsed[0])
    for kind, _s, _e in found:
        hit.weight *= DAMPENING[kind]
        if kind in SCOPE_DAMPENERS:
            hit.scope *= DAMPENING[kind]
    hit.dampeners.extend(found)


# Negations that stop an action: said to the community that does it, they presuppose it.
STOP_WORDS = _keys("stop quit arreter arretez arretons cesser cessez cessons")
BEING = _keys("being be etre")


def _stopped_being(post: _Post, n: Match) -> bool:
    """"stop being treated as ...", "arrêter d'être traités de ...": what is done to the community stops."""
    k = n.end
    while k < len(post.tokens) and post.tokens[k].key in ("de", "d", "to"):
        k += 1
    return k < len(post.tokens) and post.tokens[k].key in BEING


# What may stand between "I am" and the community in a statement of identity ("je suis une fière Peule",
# "I'm a proud Fulani", "we are also Dogon"), besides the hostile term itself ("je suis une sale Peule");
# "I'm convinced Fulani are ..." states no identity.
IDENTITY_FILLERS = _keys(
    "a an un une des also aussi too proud fier fiere fiers fieres moi meme myself half moitie de d born ne nee nes "
    "originaire originaires pure pur vrai vraie true real fully tous toutes all both bel et bien just simply juste "
    "simplement simple le la les the"
)

# Words of the first person: "as a Fulani" is the speaker's identity only when the speaker is in the sentence.
SPEAKER = FIRST_PERSON | _keys("me my mine our us mon ma mes notre nos")


def _speaks_as(post: _Post, cue: Match) -> bool:
    """"As a Fulani, I ...", "en tant que Peule, je ...": the speaker's own identity. "No such thing as a Fulani
    patriot" names nobody's identity: "as a" and "en tant que" need the first person in their sentence."""
    tokens = post.tokens
    if tokens[cue.start].key not in ("as", "en"):
        return True  # "je suis", "I am", "proud to be" say it themselves
    sent = tokens[cue.start].sent
    return any(t.sent == sent and t.key in SPEAKER for t in tokens)


def _said_by_author(post: _Post, v: Match) -> bool:
    """The verb of saying has the author as its subject, a few words before it in its clause ("je pense que",
    "I said what I said")."""
    tokens = post.tokens
    clause = tokens[v.start].clause
    for k in range(v.start - 1, max(-1, v.start - 1 - SPEECH_SUBJECT_REACH), -1):
        if tokens[k].clause != clause:
            return False
        if tokens[k].key in FIRST_PERSON:
            return True
    return False


def _embedding_verb(post: _Post, hit: Hit, cues: dict[str, list[Match]], negations: list[Match]) -> Match | None:
    """The verb of saying or believing whose content the hostile words are, when it is not the author's own.

    "Dire que les Peuls sont des voleurs est faux", "tu as écrit que ...", "vous ne pouvez pas croire que ...",
    "calling Fulani rats": the verb comes before the hostile words in their sentence, and its subject is
    not "je"/"nous"/"I"/"we" asserting it ("je pense que les Peuls sont ..." stays the author's claim),
    unless a negation sits between ("je ne pense pas que ..."); a call just before the verb makes it the
    author's own too ("il faut dire que ...").
    """
    tokens = post.tokens
    sent = tokens[hit.start].sent
    calls = cues.get("call", [])
    hearsay = cues.get("hearsay", [])
    # The last verb before the hostile words; of two ending together, the longer ("entends des gens dire").
    for v in sorted(cues.get("speech", []) + hearsay, key=lambda c: (c.end, -c.start), reverse=True):
        if tokens[v.start].sent != sent or v.end > hit.start or _overlaps(v.start, v.end, hit.start, hit.end):
            continue
        if _overlaps(v.start, v.end, hit.target.start, hit.target.end):
            continue
        if _report_ended(post, v.end, hit.start):
            return None
        if v.end - v.start == 1 and tokens[v.start].key == "tel" and v.start and tokens[v.start - 1].key in ("can", "could"):
            continue  # "you can tell they're dirty": what is seen, not what is said
        clause = tokens[v.start].clause
        own = v not in hearsay and _said_by_author(post, v)
        negated = any(
            tokens[n.start].sent == sent and n.start < v.start and v.start - n.end <= SPEECH_SUBJECT_REACH
            for n in negations
        )
        own = own or any(
            c.end == v.start and tokens[c.start].clause == clause for c in calls
        )
        if own and not negated:
            return None
        return v
    return None


NEW_CLAUSE_SUBJECTS = _keys("je j tu il elle on nous vous ils elles i you he she we they")


def _report_ended(post: _Post, start: int, end: int) -> bool:
    """Has the sentence moved on from what the verb at ``start`` reports by token ``end``? After "but" ("they
    pretend to be herders but they're all terrorists"; not "mais qu'ils ...", still reported), or after a
    clause with a subject of its own ("a Tuareg told me he was Malian, I laughed, they're foreigners")."""
    tokens = post.tokens
    for i in range(start, end):
        if tokens[i].key in post.compiled.clause_break:
            if i + 1 < len(tokens) and tokens[i + 1].key not in ("que", "qu", "that"):
                return True
        elif i > start and tokens[i].clause != tokens[i - 1].clause and tokens[i].key in NEW_CLAUSE_SUBJECTS \
                and any(tokens[k].clause == tokens[i].clause + 1 for k in range(i + 1, end + 1)):
            return True
    return False


# A quotation of at least this many words around a community is a claim quoted, not a name in scare quotes
# (« Peuls » sont des rats).
QUOTED_CLAIM = 3


def _doers(post: _Post, hit: Hit, cues: dict[str, list[Match]]) -> Match | None:
    """"People who hate Fulani disgust me", "Ceux qui s'en prennent aux Peuls sont des lâches": the community
    is the object of a harm done by the people the sentence is about, so the hostile words (the harm itself, or
    what is said of those people) are not aimed at the community. The harm sits between "people who" and the
    community, a few words apart; "those who let Fulani live here are traitors" names no harm and is not covered,
    nor are doers praised after it ("... mérite une médaille", "... are heroes")."""
    tokens = post.tokens
    m = hit.target
    doers = [
        c for c in cues.get("doers", [])
        if tokens[c.start].clause == tokens[m.start].clause and c.end <= m.start and m.start - c.end <= DOERS_REACH
    ]
    # "Celui qui débarrasse le quartier des Bellas mérite une médaille": praise of the doers is the harm endorsed.
    if not doers or any(
        tokens[p.start].sent == tokens[m.start].sent and p.start >= m.end
        for kind in ("positive", "positive_act") for p in cues.get(kind, [])
    ):
        return None
    for c in doers:
        if c.end <= hit.start < m.start or any(c.start <= h.start and h.end <= m.start for h in cues.get("harm", [])):
            return c
    return None


# After "but", words that take a denied generalisation back ("..., but most of them are").
MOST = _keys("most majority plupart majorite many beaucoup nombreux almost presque")


def _taken_back(post: _Post, start: int) -> bool:
    """A "but"/"mais" after token ``start`` in its sentence, followed within three words by "most"/"la plupart"."""
    tokens = post.tokens
    sent = tokens[start - 1].sent if start else 0
    for k in range(start, len(tokens)):
        if tokens[k].sent != sent:
            return False
        if tokens[k].key in post.compiled.clause_break:
            return any(t.key in MOST for t in tokens[k + 1:k + 4] if t.sent == sent)
    return False


def _break_between(post: _Post, start: int, end: int) -> bool:
    """Is there a "mais"/"but" between tokens ``start`` and ``end``?"""
    return any(post.tokens[i].key in post.compiled.clause_break for i in range(start, end))


def _assemble(post: _Post, hits: list[Hit]) -> list[Detection]:
    """Step 5: one Detection per community, its score, categories and evidence in original offsets."""
    by_slug: dict[str, list[Hit]] = {}
    for hit in hits:
        for slug in hit.target.slugs:
            by_slug.setdefault(slug, []).append(hit)
    detections = []
    for slug, slug_hits in by_slug.items():
        remaining = 1.0
        for hit in slug_hits:
            remaining *= 1.0 - max(0.0, min(MAX_WEIGHT, hit.weight))
        score = round(1.0 - remaining, 4)
        strongest = max(h.weight for h in slug_hits)
        categories = {h.category for h in slug_hits if h.weight >= 0.25 or h.weight >= strongest}
        evidence: dict[tuple[int, int, str, str], dict] = {}

        def add(a: int, b: int, rule_id: str, role: str) -> None:
            evidence.setdefault(
                (a, b, rule_id, role), {"start": a, "end": b, "text": post.text[a:b], "rule": rule_id, "role": role}
            )

        for hit in slug_hits:
            m = hit.target
            rule_id = next((r for r in m.rule_ids if r == f"community:{slug}" or f":{slug}:" in r), m.rule_ids[0])
            add(*post.span(m.start, m.end), rule_id, "target")
            add(*post.span(hit.start, hit.end), hit.rule.rule_id, "hostile")
            for c in hit.cues:
                add(*post.span(c.start, c.end), c.rule.rule_id, "hostile")
            for kind, s, e in hit.dampeners:
                add(*post.norm.original_span(s, e), f"dampener:{kind}", "dampener")
        detections.append(
            Detection(
                community=slug,
                categories=[c for c in SEVERITY if c in categories],
                score=score,
                evidence=sorted(evidence.values(), key=lambda e: (e["start"], e["end"], e["role"], e["rule"])),
                detector=DETECTOR_ID,
            )
        )
    return sorted(detections, key=lambda d: (-d.score, d.community))
