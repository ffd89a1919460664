"""Stance rules of ``monitor.claims.matching.post_stance``, on sentences written for these tests."""
from __future__ import annotations

import pytest

from monitor.claims.matching import post_stance, text_prepare, word_similarity


def asserts(claim: str, post: str) -> bool:
    return post_stance(claim=text_prepare(claim), post=text_prepare(post)).asserts


@pytest.mark.parametrize("claim,post", [
    # "ne … pas" is one negation, of the verb between its parts; the claim's own "ne … plus" matches it.
    ("Les dozos ne laissent plus passer les bergers.", "Les dozos ne laissent pas passer les bergers, c'est fini."),
    # A negation stops at the end of its sentence.
    ("Le gouvernement arme les dozos.", "Rien ne change. Le gouvernement arme les dozos."),
    # Nor does it cross a complementiser: "not say THAT ..." negates "say".
    ("The army burned the market.", "Why do the papers not say that the army burned the market?"),
    # Restrictive "ne … que", "rien d'autre que", "nothing but" do not deny.
    ("Ces bergers sont des bandits.", "Ces bergers ne sont rien d'autre que des bandits."),
    ("Those herders are bandits.", "Those herders are nothing but bandits."),
    # Rhetorical questions assert.
    ("Les bergers volent le bétail.", "N'est-ce pas évident que les bergers volent le bétail ?"),
    # "sans" in both.
    ("Une attaque sans témoin à Gao.", "Gao : une attaque, aucun témoin, sans témoin."),
])
def test_wordings_that_keep_the_claim_are_not_negations(claim, post):
    assert asserts(claim, post)


@pytest.mark.parametrize("claim,post", [
    ("Les dozos ont empoisonné les puits.", "Les dozos n'ont pas empoisonné les puits."),
    ("Les dozos ont empoisonné les puits.", "Les dozos n'ont jamais empoisonné aucun puits."),
    ("The herders poisoned the wells.", "The herders did not at all poison the wells."),
    ("I feel contempt for the herders.", "I feel no particular contempt for the herders."),
    ("Those herders are thieves.", "Those herders are not really thieves."),
])
def test_a_negated_claim_word_makes_the_post_deny_the_claim(claim, post):
    assert not asserts(claim, post)


def test_word_similarity_forgives_inflection_and_typos_but_not_other_words():
    assert word_similarity("empoisonne", "empoisonnent") == 1.0
    assert word_similarity("killed", "killing") == 1.0
    assert word_similarity("ignorance", "ignoratns") >= 0.5  # a typo after the stem
    assert word_similarity("marche", "bandits") == 0.0


@pytest.mark.parametrize("post", [
    "Attention : ces photos des « 50 soldats tués hier » sont sorties de leur contexte, elles datent de 2019.",
    "Cette vidéo est tirée de son contexte : elle ne montre pas l'attaque d'hier.",
    "Those photos of 50 soldiers killed yesterday are out of context: they are from 2019.",
])
def test_out_of_context_in_any_gender_or_number_is_a_debunk(post):
    claim = "Photos show 50 soldiers killed in yesterday's attack."
    stance = post_stance(claim=text_prepare(claim), post=text_prepare(post))
    assert not stance.asserts and any(c["cue"] == "debunk" for c in stance.cues)
