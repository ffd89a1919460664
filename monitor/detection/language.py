"""A small, offline language guess for Sahel posts: fr, en, bm, ff, ar or other.

No model and no network: posts are short, mixed and often in languages that
general-purpose identifiers do not know (Bambara, Fula). The guess rests on
what is cheap and reliable:

1. Script: mostly Arabic letters → "ar"; mostly N'Ko (the alphabet written for
   Manding languages) → "bm"; Tifinagh or another script → "other".
2. Letters of Sahelian orthographies: ɛ and ɔ are Bambara (Fula has five plain
   vowels); ɓ, ɗ and ƴ are Fula, unless ƙ says Hausa.
3. Function words of each language, with weights for the ones shared by
   several (French "la", Bambara "la"), and Bambara plurals in -w (Fulaw).

When no language clearly leads, the answer is "other": a wrong "fr" would
change how short Bambara words are read; "other" changes nothing.
"""
from __future__ import annotations

import functools
import re
import unicodedata

_MASK = re.compile(r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.-]+|[@#]\w+", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")

_FR = set(
    """le la les des du une et est sont il ils elle elles nous vous je tu ce cette ces que qui quoi pas pour
    dans sur avec par au aux mais ou donc car tres tout tous toutes ete faut c qu d l j leur leurs mon mes ton
    tes ses notre nos votre vos se lui ont etait etre avoir fait comme plus meme aussi alors hier soir contre
    depuis encore chez apres avant sans sous entre quand parce rien jamais toujours ici deja ca cela voila
    veut peut doit doivent ya aujourd hui oui non merci bonjour""".split()
)
_EN = set(
    """the and is are was were of to in that it for with they we you this not be have has had will would
    should all but from by at as or their them there what who if so do does don can just people my our
    your his her he she been about than then because when where these those after before us its it's
    how why which were being get got must never very today yesterday""".split()
)
# Bambara words that French or English do not have, then ones they share (weighted lower).
_BM_STRONG = set(
    """ka ye bɛ tɛ kɔ mɔgɔ ani fana sisan walima bɛɛ aw yɛrɛ nka lajɛ ko tuma sɔrɔ fɔ dugu jamana baara cɛ muso
    faga jɛni kɛ dɔ ɲɛ ɲi kɔnɔ kuma bɛna tɛna kana kelen fila saba minɛ bolo sira tigi ale olu anw aw
    denw mɔgɔw fɛ ɲɔgɔn kosɔn ɲinɛ ɲininka kɔrɔ mankan jɔn jɔnw diya jugu wulu sogo nafa""".split()
)
_BM_WEAK = set("be te ni don la kan min ma an na u i n ne e o bee mogo mogow nin in di ta bo taa".split())
_FF_STRONG = set(
    """ina nde ngam kadi woni wonaa miɗo mido ɗum dum jaaraama hande yimɓe yimbe leydi nder ngal ndu gorko debbo
    suudu waawi ɓe ɓen ɗiɗi ɗon mbiyi ndiyam hoore fulɓe pulaar fulfulde jam haɗi ɗo ko""".split()
)
_FF_WEAK = set("e no mi en won haa tan nii on maa mo yo be do".split())
# Common English and French words ending in -w that are not Bambara plurals.
_NOT_BM_PLURAL = set(
    "how now new know show few law saw view allow follow below grow draw blow throw snow slow window "
    "interview review crew yellow tomorrow jaw raw paw bow cow low row sow tow vow knew threw drew flew "
    "grew blew chew stew screw narrow shadow widow arrow borrow sorrow sparrow elbow fellow pillow".split()
)


def _fold(word: str) -> str:
    """Lower case without accents, keeping the letters that tell languages apart (ɛ ɔ ɲ ŋ ɓ ɗ ƴ)."""
    return "".join(c for c in unicodedata.normalize("NFD", word.casefold()) if unicodedata.category(c) != "Mn")


def _script(ch: str) -> str:
    code = ord(ch)
    if 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0x08A0 <= code <= 0x08FF or 0xFB50 <= code <= 0xFEFF:
        return "arabic"
    if 0x07C0 <= code <= 0x07FF:
        return "nko"
    if code < 0x0250 or ch in "ɛɔɲŋɓɗƴƙƐƆƝŊƁƊƳƘ" or 0x1E00 <= code <= 0x1EFF:
        return "latin"
    return "other"


def language_detect(text: str) -> str:
    """Guess the language of ``text``: "fr", "en", "bm", "ff", "ar" or "other" when unsure.

    Pure and offline; works on a few words, better on a sentence.
    """
    text = _MASK.sub(" ", text or "")
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "other"
    scripts: dict[str, int] = {}
    for c in letters:
        s = _script(c)
        scripts[s] = scripts.get(s, 0) + 1
    main_script, count = max(scripts.items(), key=lambda kv: kv[1])
    if main_script != "latin" and count >= 0.5 * len(letters):
        return {"arabic": "ar", "nko": "bm"}.get(main_script, "other")

    words = [_fold(w) for w in _WORD.findall(text)]
    if not words:
        return "other"
    if any("ƙ" in w for w in words):
        return "other"  # Hausa
    scores = {"fr": 0.0, "en": 0.0, "bm": 0.0, "ff": 0.0}
    for w in words:
        if w in _FR:
            scores["fr"] += 1
        if w in _EN:
            scores["en"] += 1
        if w in _BM_STRONG:
            scores["bm"] += 1
        elif w in _BM_WEAK:
            scores["bm"] += 0.3
        if w in _FF_STRONG:
            scores["ff"] += 1
        elif w in _FF_WEAK:
            scores["ff"] += 0.3
        if "ɛ" in w or "ɔ" in w:
            scores["bm"] += 2
        elif "ɲ" in w or "ŋ" in w:
            scores["bm"] += 0.5
            scores["ff"] += 0.5
        if "ɓ" in w or "ɗ" in w or "ƴ" in w:
            scores["ff"] += 2
        if len(w) >= 4 and w.endswith("w") and w[-2] in "aeiouɛɔ" and w not in _NOT_BM_PLURAL:
            scores["bm"] += 0.5
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    needed = 1.0 if len(words) <= 4 else 2.0
    if top >= needed and top >= 1.5 * second and top - second >= 0.7:
        return best
    return "other"


def common_words() -> frozenset[str]:
    """French, English, Bambara and Fula function words (folded), for other modules' sanity checks."""
    return frozenset(_FR | _EN | _BM_STRONG | _BM_WEAK | _FF_STRONG | _FF_WEAK)


@functools.lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """French and English words (every word of pyspellchecker's lists, folded: lower case, no accents).

    The lexicon reads an unknown token as a slip of a hostile word ("haet" → "hate") or as words run
    together ("ihate" → "i hate") only when it is not a word of its own ("hat", "arts", "therapist").
    """
    from spellchecker import SpellChecker

    words: set[str] = set()
    for lang in ("en", "fr"):
        counts = SpellChecker(language=lang, distance=1).word_frequency.dictionary
        for word in counts:
            folded = unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()
            if folded.isalpha():
                words.add(folded)
    return frozenset(words)
