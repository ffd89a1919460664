"""Text normalisation that remembers where every character came from.

Detection matches words on a folded form of the post (no case, no accents,
no leetspeak, no spaced-out letters), but a reviewer must see the evidence in
the post as it was written. ``text_normalise`` therefore returns the folded
text together with, for each of its characters, the span of the original text
it came from; ``Normalised.original_span`` turns a span of the folded text
back into a span of the original, so ``original[start:end]`` is the evidence.

The steps, in order:

1. URLs, e-mail addresses and @mentions become one space: words inside them
   are not the author's words (``https://…/peuls-tues`` names an article).
2. Each remaining character is folded on its own: zero-width characters,
   variation selectors and skin-tone modifiers are dropped; NFKC (fullwidth and
   "mathematical bold" letters become plain ones), casefold, accents stripped,
   Sahelian letters mapped to their nearest Latin letter (ɓ→b, ɗ→d, ɛ→e, ɔ→o,
   ŋ→n, ɲ→ny) and a few Cyrillic/Greek look-alikes to Latin.
   ``#`` becomes a space and a camelCase hashtag is split (#PeulsDehors →
   " peuls dehors").
3. Letters spelled out one by one with the same separator are joined
   (p.e.u.l.s, P e u l s, p-e-u-l-s → peuls), and French inclusive endings
   are folded into the word (Peul·e·s, Peul.e.s, Peul(e)s → peules).
4. Leetspeak inside words (P3uls, k1ll, $ales, h@ine) becomes letters; numbers
   that stand alone or sit next to other digits (2024, covid19) are kept.
5. A letter repeated three times or more is written once (Peuuuuls → peuls).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Characters that carry no visible letter; obfuscators insert them inside words.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# Letters of Bambara, Fula, Songhay and Tamasheq orthographies that neither NFKC
# nor accent stripping turns into Latin letters, plus common typographic variants.
_SPECIAL = {
    "ɓ": "b", "ɗ": "d", "ƴ": "y", "ƙ": "k", "ɛ": "e", "ɔ": "o", "ŋ": "n", "ɲ": "ny",
    "ɣ": "g", "ʃ": "ch", "ʒ": "j", "ǝ": "e", "ə": "e", "ɩ": "i", "ʋ": "u",
    "œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ı": "i", "ß": "ss",
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u02bb": "'", "`": "'", "\u00b4": "'",
    # Look-alikes used to dodge keyword filters (Cyrillic, then Greek).
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ѕ": "s", "ј": "j", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h",
    "α": "a", "ε": "e", "ο": "o", "ι": "i", "κ": "k", "ν": "v", "ρ": "p", "τ": "t", "υ": "u",
}
_LEET = {"3": "e", "4": "a", "0": "o", "1": "i", "@": "a", "$": "s", "5": "s", "7": "t", "!": "i"}
# What may separate letters that are spelled out one at a time.
_SPACED = re.compile(r"(?<![^\W_])([^\W_@$])([ .\-_*·•|/+~]{1,2})[^\W_@$](?:\2[^\W_@$])+(?![^\W_])")
# French inclusive writing: the separators of "Peul·e·s", "Peul.e.s", "Peul(e)s", "Peul·es".
_INCLUSIVE = (
    re.compile(r"(?<=[a-z])([·⋅•])(?=[a-z])"),
    re.compile(r"(?<=[a-z])(\.)e(\.)s(?![^\W_])"),
    re.compile(r"(?<=[a-z])(\.)es?(?![^\W_]|\.[^\W_])"),
    re.compile(r"(?<=[a-z])(\()(?:e|es|s|ne|nes|se|ses|le|les|te|tes|x)(\))"),
)
_MASKED = re.compile(
    r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.-]+|(?<![\w@$])@\w+",
    re.IGNORECASE,
)
_LETTERISH = re.compile(r"[a-z@$!0-9]+")


@dataclass(frozen=True)
class Normalised:
    """A folded text, the original it came from, and the way back.

    ``starts[i]``/``ends[i]`` give the span of the original text that produced
    character ``i`` of ``text``.
    """

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the span ``[start, end)`` of ``text`` to a span of ``original``."""
        if end <= start:
            raise ValueError("empty span")
        return self.starts[start], self.ends[end - 1]

    def original_slice(self, start: int, end: int) -> str:
        """The original characters behind ``text[start:end]``."""
        a, b = self.original_span(start, end)
        return self.original[a:b]


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """Fold one character: NFKC, casefold, no accents, Sahelian letters to Latin."""
    if ch in _INVISIBLE:
        return ""
    code = ord(ch)
    # Variation selectors and emoji skin-tone modifiers change how an emoji looks, not what it says.
    if 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0100 <= code <= 0xE01EF:
        return ""
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        c = _SPECIAL.get(c, c)
        for d in unicodedata.normalize("NFD", c):
            if unicodedata.category(d) != "Mn":
                out.append(_SPECIAL.get(d, d))
    return "".join(out)


def _fold(original: str) -> tuple[list[str], list[int], list[int]]:
    """Steps 1 and 2: mask URLs and mentions, fold characters, split hashtags."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    masked = {m.start(): m.end() for m in _MASKED.finditer(original)}
    i, n = 0, len(original)
    in_hashtag = False
    previous_lower = False
    while i < n:
        if i in masked:
            end = masked[i]
            chars.append(" ")
            starts.append(i)
            ends.append(end)
            i = end
            in_hashtag = previous_lower = False
            continue
        ch = original[i]
        if ch == "#" and i + 1 < n and (original[i + 1].isalnum()):
            chars.append(" ")
            starts.append(i)
            ends.append(i + 1)
            in_hashtag, previous_lower = True, False
            i += 1
            continue
        if in_hashtag:
            if not (ch.isalnum() or ch in "_" or ch in _INVISIBLE):
                in_hashtag = False
            elif ch.isupper() and previous_lower:
                # camelCase inside a hashtag: #PeulsDehors is two words.
                chars.append(" ")
                starts.append(i)
                ends.append(i)
            elif ch == "_":
                chars.append(" ")
                starts.append(i)
                ends.append(i + 1)
                previous_lower = False
                i += 1
                continue
            previous_lower = ch.islower() or (previous_lower and ch in _INVISIBLE)
        for c in _fold_char(ch):
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    return chars, starts, ends


def _join_spaced(chars: list[str], starts: list[int], ends: list[int]) -> None:
    """Step 3, in place: p.e.u.l.s → peuls (at least two letters among the units)."""
    text = "".join(chars)
    drop: set[int] = set()
    for m in _SPACED.finditer(text):
        units = [k for k in range(m.start(), m.end()) if text[k].isalnum() or text[k] in "@$"]
        if sum(text[k].isalpha() for k in units) < 2:
            continue
        drop.update(k for k in range(m.start(), m.end()) if k not in units)
    if drop:
        keep = [k for k in range(len(chars)) if k not in drop]
        chars[:] = [chars[k] for k in keep]
        starts[:] = [starts[k] for k in keep]
        ends[:] = [ends[k] for k in keep]


def _fold_inclusive(chars: list[str], starts: list[int], ends: list[int]) -> None:
    """Step 3b, in place: drop the separators of French inclusive endings (Peul·e·s → peules)."""
    text = "".join(chars)
    drop: set[int] = set()
    for pattern in _INCLUSIVE:
        for m in pattern.finditer(text):
            for g in range(1, (m.lastindex or 0) + 1):
                drop.add(m.start(g))
    if drop:
        keep = [k for k in range(len(chars)) if k not in drop]
        chars[:] = [chars[k] for k in keep]
        starts[:] = [starts[k] for k in keep]
        ends[:] = [ends[k] for k in keep]


def _unleet(chars: list[str]) -> None:
    """Step 4, in place: leet characters inside a word that is mostly letters."""
    text = "".join(chars)
    if not any(c in _LEET for c in text):
        return
    for m in _LETTERISH.finditer(text):
        word = m.group()
        letters = sum(c.isalpha() for c in word)
        leet = sum(c in _LEET for c in word)
        # "G5" (Sahel) and "5G" are names, not leet: at least two real letters.
        if letters < 2 or not leet or leet > letters:
            continue
        # A digit that is not leet (2, 6, 8, 9) means a number or a code: leave it alone.
        if any(c.isdigit() and c not in _LEET for c in word):
            continue
        # Punctuation-like leet (! @ $) only counts between letters or at a word's edge next to one.
        for k, c in enumerate(word):
            if c not in _LEET:
                continue
            if c in "!" and not (0 < k < len(word) - 1 and word[k - 1].isalpha() and word[k + 1].isalpha()):
                continue
            chars[m.start() + k] = _LEET[c]


_TRIPLE = re.compile(r"([^\W\d_])\1\1")


def _squash_repeats(chars: list[str], starts: list[int], ends: list[int]) -> None:
    """Step 5, in place: a letter written three times or more is written once."""
    if not _TRIPLE.search("".join(chars)):
        return
    out_c: list[str] = []
    out_s: list[int] = []
    out_e: list[int] = []
    k, n = 0, len(chars)
    while k < n:
        c = chars[k]
        j = k + 1
        while j < n and chars[j] == c:
            j += 1
        if c.isalpha() and j - k >= 3:
            out_c.append(c)
            out_s.append(starts[k])
            out_e.append(ends[j - 1])
        else:
            out_c.extend(chars[k:j])
            out_s.extend(starts[k:j])
            out_e.extend(ends[k:j])
        k = j
    chars[:], starts[:], ends[:] = out_c, out_s, out_e


def text_normalise(text: str) -> Normalised:
    """Fold ``text`` for matching and keep the way back to its original offsets.

    See the module docstring for the steps. Pure and deterministic.
    """
    chars, starts, ends = _fold(text)
    _join_spaced(chars, starts, ends)
    _fold_inclusive(chars, starts, ends)
    _unleet(chars)
    _squash_repeats(chars, starts, ends)
    return Normalised(original=text, text="".join(chars), starts=tuple(starts), ends=tuple(ends))


@lru_cache(maxsize=65536)
def word_normalise(word: str) -> str:
    """Fold a lexicon word or name the way post text is folded (no offsets). Cached: the detector's
    evidence folds every word of a flagged post."""
    return text_normalise(word).text.strip()
