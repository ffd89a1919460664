"""How much a post says what a claim says, and whether it says it or refutes it.

Pure functions, no database (``services.posts_match_claims`` does the storing).

Score of a post against one claim "source" (the claim's text, or the text of a
post a reviewer confirmed as repeating it):

1. ``cosine``: dot product of the two L2-normalised sentence embeddings, the
   better of the original texts' and of their folded forms'
   (``text_for_embedding``: no case, no accents, leetspeak and spaced letters
   undone), so "P3ULS", "p.e.u.l.s" and a post typed without accents sit where
   the plain wording does.
2. ``lexical``: containment of the source's character 3-grams in the post's,
   over content words of the folded text; 3-grams forgive typos and
   inflections ("détetse", "massacrés"/"massacre"), containment forgives a
   post that says more than the claim.
3. ``score = COSINE_WEIGHT × cosine + (1 − COSINE_WEIGHT) × lexical``; a match
   when ``score ≥ MATCH_THRESHOLD``. Both constants are chosen with
   ``manage.py calibrate_matching`` on ``seeds/claims_calibration.csv`` (353
   invented Sahel posts of our own against the 22 seed claims: 207 repeats in
   French and English — paraphrases in the writer's own words, translations,
   typos, leetspeak, partial repeats with extra context —, 118 hard unrelated
   posts — same place or community but another event, the same event with
   another (official) figure, the same words elsewhere — and 28 debunks), never
   on the evaluation files: the grid row with the best recall minus false
   alarms, then the highest threshold. With the multilingual default
   embedding model that is a weight of 0.8 and a threshold of 0.56 (recall
   0.75 with 8.5% of the hard unrelated posts above it, and none of the 325
   unrelated demo posts). A confirmed match still carries a claim to posts the
   model does not read (Bambara), as an exemplar.

Stance (``post_stance``): a match only becomes a misinformation flag when the
post repeats the claim. It does not when:

- it carries a debunking cue ("faux", "intox", "démenti", "fact-check", "no,
  this is false") or one of the detector's counter-speech
  dampeners (``seeds/lexicon.yaml``), absent from the claim itself;
- it negates a word of the claim that the claim does not negate ("ils n'ont
  pas attaqué" against "ils ont attaqué"). A negation applies to the next two
  content words (past intensifiers: "not at all"), never past its clause
  (sentence punctuation, "mais"/"but", "que"/"that"); French "ne … pas" is
  one negation of the verb between its parts; "ne … que", "rien d'autre que",
  "nothing but" and rhetorical questions ("n'est-ce pas", "why not") do not
  negate. Words are compared by their Snowball stems (French and English)
  or, for typos, their 3-grams (``word_similarity``);
- it puts the claim's words in quotation marks and adds words of its own
  around them: it talks about the claim rather than making it ("mention, not
  use"), unless it also urges people to share it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import snowballstemmer
import yaml

from monitor.detection.normalise import text_normalise

METHOD = "claims-v1"
COSINE_WEIGHT = 0.8
MATCH_THRESHOLD = 0.56
# Only the sources closest by embedding get the (slower) lexical comparison.
CANDIDATES_PER_POST = 20

_WORD = re.compile(r"[^\W_]+")
# Words that carry no claim: they would make every French post look like every French claim.
STOPWORDS = frozenset(
    """
    a au aux avec c ce ces cet cette d dans de des du elle elles en est et eux il ils j je l la le les leur
    leurs lui m ma mais me mes mon n ne nos notre nous on ont ou par pas pour qu que qui s sa se ses si son
    sont sur ta te tes ton tu un une vos votre vous y ete etre a cela ca ici
    the a an and are as at be been but by for from has have he her his i in is it its of on or she that
    their them they this those to was we were which who will with you your our my me us do does did so
    """.split()
)

# Cues that a post refutes what it repeats (folded text, whole words).
DEBUNK_CUES = (
    # French
    "faux", "fausse", "fausses", "fake", "fake news", "intox", "infox", "c est une intox", "dementi", "dementent",
    "dement", "dementi", "contrairement a ce qui", "contrairement aux rumeurs", "fact check", "fact checking",
    "verification", "nous avons verifie", "en realite", "rumeur", "rumeurs", "fausse information",
    "fausses informations", "desinformation", "manipulation", "n a jamais eu lieu", "ne montre pas",
    "ancienne video", "video recyclee", "photo recyclee", "de son contexte", "de leur contexte", "hors contexte",
    "pas vrai", "c est faux", "ne partagez pas", "arretez de partager", "ne relayez pas", "attention a",
    "mensonge", "mensonges", "infonde", "infondee", "aucune preuve",
    # English
    "false", "fake", "hoax", "debunk", "debunked", "debunking", "fact check", "fact checked", "not true",
    "this is false", "no evidence", "misleading", "misinformation", "disinformation", "out of context",
    "old video", "old photo", "actually", "in reality", "don t share", "do not share", "stop sharing",
    "rumour", "rumours", "rumor", "rumors", "lie", "lies", "fabricated", "baseless", "untrue",
)
# Words that turn a quoted claim back into an assertion ("partagez !", "c'est confirmé").
AMPLIFIERS = (
    "partagez", "partager", "faites tourner", "faites circuler", "diffusez", "c est confirme", "c est vrai",
    "urgent", "alerte", "share", "retweet", "spread the word", "it s true", "confirmed", "breaking",
)
NEGATIONS = frozenset(
    "ne n pas jamais aucun aucune rien ni non sans not no never none nothing nobody neither nor cannot without"
    .split()
)
# Questions that assert ("n'est-ce pas ... ?", "why not ...?"): no negation of the claim.
RHETORICAL = (
    "n est ce pas", "pourquoi ne pas", "pourquoi pas", "why not", "why don t we", "isn t it", "aren t they",
    "don t you think",
)
_QUOTED = re.compile(r"[«“„\"]([^«»“”„\"]{3,}?)[»”\"]")


@dataclass
class Text:
    """A text prepared for lexical matching."""

    original: str
    folded: str
    words: list[tuple[str, int, int]]  # (word, start, end) in the folded text, stopwords included
    grams: frozenset[str]

    @property
    def content(self) -> list[tuple[str, int, int]]:
        return [w for w in self.words if w[0] not in STOPWORDS]


@dataclass
class Stance:
    """Whether a post repeats a claim, and the cues that said otherwise."""

    asserts: bool
    cues: list[dict] = field(default_factory=list)  # {"cue": "debunk"|"negation"|"quotation", "text": ...}


def _grams(words) -> frozenset[str]:
    grams: set[str] = set()
    for w, _, _ in words:
        if w in STOPWORDS:
            continue
        padded = f" {w} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


_STEMMERS = (snowballstemmer.stemmer("french"), snowballstemmer.stemmer("english"))


@lru_cache(maxsize=65536)
def _stems(word: str) -> tuple[str, ...]:
    """The word's French and English Snowball stems (the text's language is often unknown or mixed)."""
    return tuple(s.stemWord(word) for s in _STEMMERS)


@lru_cache(maxsize=65536)
def word_similarity(a: str, b: str) -> float:
    """1 for the same stem ("massacrés"/"massacre", "killed"/"killing"); 0.9 when one stem
    extends the other by a typo's worth ("ignoratns"/"ignorance"); else the Dice overlap
    of their 3-grams when at least 0.5 ("civlis"/"civils"), or 0."""
    if a == b:
        return 1.0
    sa, sb = _stems(a), _stems(b)
    if any(x == y for x, y in zip(sa, sb)):
        return 1.0
    short, long_ = sorted((sa[0], sb[0]), key=len)
    if len(short) >= 4 and long_.startswith(short):
        return 0.9
    ga, gb = _grams([(a, 0, 0)]), _grams([(b, 0, 0)])
    if not ga or not gb:
        return 0.0
    dice = 2 * len(ga & gb) / (len(ga) + len(gb))
    return dice if dice >= 0.5 else 0.0


@lru_cache(maxsize=8192)
def text_prepare(text: str) -> Text:
    """Fold a text and cut it into words and 3-grams (cached: claims are prepared once)."""
    folded = text_normalise(text).text
    words = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(folded)]
    return Text(original=text, folded=folded, words=words, grams=_grams(words))


def lexical_overlap(source: Text, post: Text) -> float:
    """Share of the source's 3-grams found in the post (0 when the source has no content word)."""
    if not source.grams:
        return 0.0
    return len(source.grams & post.grams) / len(source.grams)


def text_for_embedding(text: str) -> str:
    """The text as the detector reads it (no case, no accents, leetspeak and spaced letters undone).

    It is embedded beside the original: "p.e.u.l.s", "P3ULS" and "peul" then land
    where "Peuls" does, and a post typed without accents near a claim written with them.
    """
    return text_normalise(text).text


def best_cosines(*, vector: np.ndarray, folded: np.ndarray, sources: np.ndarray,
                 folded_sources: np.ndarray) -> np.ndarray:
    """Cosine of a post (a vector; or each post, rows of a matrix) to each source: the better of
    original-to-original and folded-to-folded."""
    return np.maximum(vector @ sources.T, folded @ folded_sources.T)


def combined_score(*, cosine: float, lexical: float) -> float:
    """The one number compared to ``MATCH_THRESHOLD``."""
    return COSINE_WEIGHT * cosine + (1.0 - COSINE_WEIGHT) * lexical


def matched_words(source: Text, post: Text) -> list[tuple[str, int, int]]:
    """The post's content words that share at least half their 3-grams with the source."""
    out = []
    for w in post.content:
        grams = _grams([w])
        if grams and len(grams & source.grams) / len(grams) >= 0.5:
            out.append(w)
    return out


def match_span(source: Text, post: Text) -> tuple[int, int] | None:
    """The span of the ORIGINAL post from the first to the last word it shares with the source."""
    words = matched_words(source, post)
    if not words:
        return None
    norm = text_normalise(post.original)
    start, _ = norm.original_span(words[0][1], words[0][2])
    _, end = norm.original_span(words[-1][1], words[-1][2])
    return start, end


def _phrase_re(phrases) -> re.Pattern:
    alternatives = sorted({re.escape(p) for p in phrases if p}, key=len, reverse=True)
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])")


class _Cues(NamedTuple):
    dampers: re.Pattern | None
    not_negation: re.Pattern | None
    clause_break: re.Pattern | None


@lru_cache(maxsize=4)
def _lexicon_cues(path: str) -> _Cues:
    """The detector's counter-speech dampeners, not-negation phrases and clause breaks.

    Only plain phrases are used (the detector's pattern syntax, ``_`` and
    ``...``, is its own business); each is folded like post text.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError:
        return _Cues(None, None, None)

    def phrases(section: dict, kinds: tuple[str, ...]) -> list[str]:
        out = []
        for kind in kinds:
            for items in (section.get(kind) or {}).values():
                for item in items or []:
                    p = item.get("pattern") if isinstance(item, dict) else item
                    if isinstance(p, str) and not re.search(r"[()|_*]|\.\.\.", p):
                        out.append(" ".join(_WORD.findall(text_normalise(p).text)))
        return out

    # Not "condemnation": "je condamne le massacre de 300 civils" condemns the event and
    # still spreads the figure; counter-speech is about the speech itself ("amalgame").
    dampers = phrases(data.get("dampeners") or {}, ("counter_speech",))
    not_negation = phrases(data.get("cues") or {}, ("not_negation",))
    breaks = [" ".join(_WORD.findall(text_normalise(str(w)).text))
              for words in ((data.get("cues") or {}).get("clause_break") or {}).values() for w in words or []]
    return _Cues(
        _phrase_re(dampers) if dampers else None,
        _phrase_re(not_negation) if not_negation else None,
        _phrase_re(breaks) if breaks else None,
    )


def _lexicon_path() -> str:
    from monitor.communities import seeds_dir

    return str(seeds_dir() / "lexicon.yaml")


_DEBUNK = _phrase_re(DEBUNK_CUES)
_RHETORICAL = _phrase_re(RHETORICAL)
_AMPLIFY = _phrase_re(AMPLIFIERS)


def _plain(text: Text) -> str:
    """Folded words joined by single spaces, so phrase cues match across punctuation."""
    return " ".join(w for w, _, _ in text.words)


def _cue_hits(pattern: re.Pattern | None, text: str) -> list[str]:
    return [m.group() for m in pattern.finditer(text)] if pattern is not None else []


# French two-part negations: "ne … pas" is ONE negation of the verb between its parts.
_SECOND_PART = frozenset("pas jamais plus rien aucun aucune personne guere point nullement".split())
# A negation followed by one of these within a few words restricts rather than denies:
# "ne … que", "rien (d'autre) que", "nothing but", "nothing more than".
_RESTRICTORS = frozenset("que qu but".split())
# A negation applies to the next two content words ("no particular contempt"), looking past
# intensifiers ("not at all ignorant", "pas du tout", "not really") ...
NEGATION_SCOPE = 2
_INTENSIFIERS = frozenset(
    "all very really truly so too particularly quite much any at tout du tres vraiment trop tellement "
    "particulierement absolument".split()
)
# ... and never past a complementiser: "I don't think THAT they lie" negates "think", not "lie".
_SCOPE_END = frozenset("that que qu if si whether because parce car".split())
_CLAUSE_END = re.compile(r"[.!?;:\n]+")


def _clauses(folded: str, cues: _Cues) -> list[list[str]]:
    """The folded text cut into clauses (sentence punctuation, "mais", "but"), each a word list,
    without the detector's not-negation phrases."""
    out = []
    for sentence in _CLAUSE_END.split(folded):
        plain = " ".join(_WORD.findall(sentence))
        plain = _RHETORICAL.sub(" ", plain)
        if cues.not_negation is not None:
            plain = cues.not_negation.sub(" ", plain)
        parts = cues.clause_break.split(plain) if cues.clause_break is not None else [plain]
        out += [p.split() for p in parts if p.strip()]
    return out


def _negation_targets(folded: str, grams: frozenset[str] | None, cues: _Cues) -> set[str]:
    """The claim's words a negation applies to ("ne déteste pas les Peuls" → {deteste}).

    1. A negation never reaches past its clause (sentence punctuation, "mais", "but").
    2. French "ne … pas/jamais/rien…" is one negation: it applies to the verb
       between its two parts or, when nothing but small words stands there
       ("ne sont pas dangereux"), to what follows the second part.
    3. Any other negation ("not", "never", "no", "sans", a lone "pas") applies
       to the next ``NEGATION_SCOPE`` content words.
    4. "ne … que", "rien d'autre que", "nothing but" restrict, they do not negate;
       nor do the detector's not-negation phrases ("pas seulement", "no wonder").

    A target counts only when it is one of the claim's words (``grams`` is None
    for the claim itself: all its words are).
    """
    targets: set[str] = set()
    for words in _clauses(folded, cues):
        consumed: set[int] = set()
        for i, w in enumerate(words):
            is_negation = w in NEGATIONS or (w == "t" and i > 0 and words[i - 1].endswith("n"))
            if not is_negation or i in consumed:
                continue
            if _restrictive(w, words[i + 1 : i + 6]):
                continue
            found: list[str] = []
            if w in ("ne", "n"):
                second = next((j for j in range(i + 1, min(i + 6, len(words))) if words[j] in _SECOND_PART), None)
                if second is not None:
                    consumed.add(second)
                    between = [x for x in words[i + 1 : second] if x not in STOPWORDS and x not in NEGATIONS]
                    found = between[:1] or _content_after(words, second, NEGATION_SCOPE)
                else:
                    found = _content_after(words, i, 1)
            else:
                found = _content_after(words, i, NEGATION_SCOPE)
            for nxt in found:
                word_grams = _grams([(nxt, 0, 0)])
                if grams is None or (word_grams and len(word_grams & grams) / len(word_grams) >= 0.5):
                    targets.add(nxt)
    return targets


def _content_after(words: list[str], i: int, n: int) -> list[str]:
    out: list[str] = []
    for nxt in words[i + 1 :]:
        if nxt in _SCOPE_END:
            break
        if nxt in STOPWORDS or nxt in NEGATIONS or nxt in _INTENSIFIERS or nxt == "t":
            continue
        out.append(nxt)
        if len(out) >= n:
            break
    return out


def _restrictive(negation: str, following: list[str]) -> bool:
    """"ne … que", "rien d'autre que", "nothing but": the negation restricts, it does not deny."""
    if negation not in ("ne", "n"):
        return bool(following) and following[0] in _RESTRICTORS
    for w in following:
        if w in ("que", "qu"):
            return True
        if w in NEGATIONS and w not in ("rien", "personne"):
            return False
    return False


def _similar_word(word: str, others: set[str]) -> bool:
    return any(word_similarity(word, o) >= 0.5 for o in others)


def post_stance(*, claim: Text, post: Text) -> Stance:
    """Does the post repeat the claim (True) or quote, deny or debunk it (False)? With the cues."""
    cues_ = _lexicon_cues(_lexicon_path())
    post_plain, claim_plain = _plain(post), _plain(claim)
    cues: list[dict] = []

    # 1. Debunking and counter-speech cues the claim itself does not contain.
    for pattern, kind in ((_DEBUNK, "debunk"), (cues_.dampers, "counter_speech")):
        claim_has = set(_cue_hits(pattern, claim_plain))
        for hit in _cue_hits(pattern, post_plain):
            if hit not in claim_has:
                cues.append({"cue": kind, "text": hit})
    # 2. More of the claim's words negated in the post than in the claim itself.
    claim_negated = _negation_targets(claim.folded, None, cues_)
    negated = sorted(w for w in _negation_targets(post.folded, claim.grams, cues_)
                     if not _similar_word(w, claim_negated))
    if negated:
        cues.append({"cue": "negation", "text": " ".join(negated)})
    # 3. The claim in quotation marks, framed by the post's own words.
    quoted = " ".join(m.group(1) for m in _QUOTED.finditer(post.original))
    if quoted:
        inside = text_prepare(quoted)
        outside = text_prepare(_QUOTED.sub(" ", post.original))
        if (
            lexical_overlap(claim, inside) >= 0.6
            and lexical_overlap(claim, inside) >= lexical_overlap(claim, outside)
            and len(outside.words) >= 3
            and not _cue_hits(_AMPLIFY, _plain(outside))
        ):
            cues.append({"cue": "quotation", "text": quoted[:200]})
    return Stance(asserts=not cues, cues=cues)
