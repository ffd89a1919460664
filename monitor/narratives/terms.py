"""Label narratives with their most distinctive terms (class-based TF-IDF).

Each narrative's posts are one "class document"; a term scores high when it is
frequent in that narrative and rare in the week's other narratives (and in a
sample of the week's unassigned posts, used as background):

    score(t, c) = tf(t, c) * log(1 + A / f(t))

with ``tf`` the term's share of the class's terms, ``A`` the mean number of
terms per class and ``f(t)`` the term's count over all classes. Text is folded
by the detector's normaliser first (URLs, e-mails and @handles removed, accents,
leetspeak and spacing undone), then split into words of three letters or more;
French and English stop words are dropped; unigrams and bigrams are scored.
A term must appear in at least two posts of the narrative (one odd post does
not name a narrative).
"""
from __future__ import annotations

import re
from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from monitor.detection.normalise import text_normalise

# Folded (no accents) French function words, written for this module.
FRENCH_STOP_WORDS = frozenset(
    """
    alors aussi autre autres avant avec avoir bien car ceci cela celle celles celui ces cet cette ceux chaque
    chez comme comment dans des depuis donc dont elle elles encore entre est etaient etait ete etre eux fait
    faire font hors ici ils jamais leur leurs lui mais meme memes mes moi moins mon nos notre nous ont oui par
    parce pas peu peut plus pour pourquoi quand que quel quelle quelles quels qui quoi rien sans ses sera
    serait seront son sont sous suis sur tant tes toi ton tous tout toute toutes tres une vos votre vous deja
    fois apres ceux cest sest quil quils quelle nest jai ete etes avons avez avait avaient aura auront sera
    ca voila cela ainsi tres trop alors aux les est une des par pour qui que quoi sur dans avec mais ou
    non oui ils elles nous vous leur leurs faut veut vont tout tous
    """.split()
)
STOP_WORDS = FRENCH_STOP_WORDS | frozenset(ENGLISH_STOP_WORDS) | {"http", "https", "www", "amp", "com"}
_WORD = re.compile(r"[^\W\d_]{3,40}")
# Elided articles and pronouns (l', d', qu'...) are split off before matching words.
_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)'", re.IGNORECASE)


def text_terms(text: str) -> list[str]:
    """The unigrams and bigrams of one post, folded and without stop words."""
    folded = _ELISION.sub(" ", text_normalise(text[:5000]).text)
    words = [w for w in _WORD.findall(folded) if w not in STOP_WORDS]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


def distinctive_terms(
    classes: list[list[str]], *, background: list[str] | None = None, top: int = 6
) -> list[list[str]]:
    """For each class (a list of post texts), its ``top`` most distinctive terms, best first."""
    docs = [[set(text_terms(t)) for t in texts] for texts in classes]
    counts: list[Counter] = []
    doc_freq: list[Counter] = []
    for texts, sets in zip(classes, docs):
        c: Counter = Counter()
        for t in texts:
            c.update(text_terms(t))
        counts.append(c)
        doc_freq.append(Counter(term for s in sets for term in s))
    if background:
        bg: Counter = Counter()
        for t in background:
            bg.update(text_terms(t))
        counts_all = counts + [bg]
    else:
        counts_all = counts
    total: Counter = Counter()
    for c in counts_all:
        total.update(c)
    mean_terms = np.mean([sum(c.values()) for c in counts_all]) if counts_all else 0.0

    results: list[list[str]] = []
    for c, df, texts in zip(counts, doc_freq, classes):
        size = sum(c.values()) or 1
        need = 2 if len(texts) >= 2 else 1
        scored = [
            (c[t] / size * np.log(1 + mean_terms / total[t]), t) for t in c if df[t] >= need
        ]
        scored.sort(key=lambda st: (-st[0], st[1]))
        chosen: list[str] = []
        for _, term in scored:
            # A word already said by a chosen bigram (or vice versa) adds nothing to the label.
            words = set(term.split())
            if any(words <= set(o.split()) or set(o.split()) <= words for o in chosen):
                continue
            chosen.append(term)
            if len(chosen) == top:
                break
        results.append(chosen)
    return results


def terms_label(terms: list[str], *, count: int = 4) -> str:
    """The label shown for a narrative: its top terms joined by " · ", at most 255 characters."""
    return " · ".join(terms[:count])[:255]
