"""The hybrid detector (hybrid-v2) behind ``detect_text``: categories, languages, obfuscation,
reading like a reviewer, and how it explains itself.

Content warning: the examples are hostile on purpose. They are written for these tests
(French, English, Bambara mixed with French), not taken from any evaluation set.
"""
from __future__ import annotations

import numpy as np
import pytest

from monitor.detection import (
    DETECTOR_ID,
    detect_text,
    detect_texts,
    detection_threshold,
)
from monitor.detection.hybrid import exemplars_read, hybrid_model
from monitor.embeddings import get_embedder

THRESHOLD = detection_threshold()


def _best(text: str, **kwargs):
    return max(detect_text(text, **kwargs), key=lambda d: d.score, default=None)


def _flagged(text: str, **kwargs) -> bool:
    d = _best(text, **kwargs)
    return d is not None and d.score >= THRESHOLD


def test_the_trained_model_is_committed_and_loads():
    model = hybrid_model()
    assert model is not None, "seeds/models/hybrid-v2.npz is missing: run manage.py train_detector"
    assert model.embed_model_id == get_embedder().model_id
    assert model.bank_vectors.shape[1] == get_embedder().dim and len(model.bank_ids) == len(model.bank_labels)
    assert DETECTOR_ID == "hybrid-v2"


def test_the_seed_exemplars_are_labelled_and_varied():
    rows = exemplars_read()
    assert len(rows) >= 500
    assert {r["label"] for r in rows} == {"hateful", "non-hateful"}
    assert {r["lang"] for r in rows} >= {"fr", "en", "bm"}


@pytest.mark.parametrize(
    "text, community, category",
    [
        ("Il faut brûler les cases des Dogons de Bankass cette nuit.", "dogon", "incitement"),
        ("Let's go and burn the Tuareg tents before dawn.", "tuareg", "incitement"),
        ("Sales Bozos, on sait où vous dormez, vous allez payer.", "bozo", "threat"),
        ("Mossi traders, your days in this market are numbered.", "mossi", "threat"),
        ("Les Songhaïs sont des cafards qui pullulent.", "songhai", "dehumanisation"),
        ("Those Hausa are vermin.", "haoussa", "dehumanisation"),
        ("Tous les Peuls sont des jihadistes.", "peul", "collective_blame"),
        ("Every Fulani is a jihadist.", "peul", "collective_blame"),
        ("Les Touaregs dehors, rentrez dans votre désert !", "tuareg", "exclusion"),
        ("No place for Bella people in our town, kick them out.", "bella", "exclusion"),
        ("Les Soninkés sont des voleurs et des menteurs.", "soninke", "derogation"),
        ("Bambara people are dirty liars.", "bambara", "derogation"),
    ],
)
def test_each_category_is_flagged_against_the_right_community(text, community, category):
    d = _best(text)
    assert d is not None and d.score >= THRESHOLD, text
    assert d.community == community
    assert category in d.categories
    assert d.detector == DETECTOR_ID
    assert 0.0 <= d.score <= 1.0


def test_a_slur_is_flagged_and_names_its_target():
    d = _best("Those killer herdsmen again, burning our farms.")
    assert d is not None and d.score >= THRESHOLD and d.community == "peul"
    # The seeds say what this coded term means ("killer herdsmen": collective blame).
    assert d.categories
    assert any(e["rule"].startswith("derogatory:peul:") for e in d.evidence)


@pytest.mark.parametrize(
    "text, language",
    [
        ("Il faut chasser tous les Peuls de Mopti.", "fr"),
        ("Drive every Fulani out of Mopti.", "en"),
        ("An ka Fulaw bɛɛ faga, ils sont tous des terroristes.", "bm"),
    ],
)
def test_each_language_is_read(text, language):
    assert _flagged(text, language=language)


@pytest.mark.parametrize(
    "text",
    [
        "L3s P3uls sont d3s s3rp3nts",  # leetspeak
        "les p.e.u.l.s sont des vermines",  # dotted letters
        "Les P e u l s sont des rats",  # spaced letters
        "Les Peuuuuls sont des raaats",  # repeated letters
        "Les Peuls = 🐍🐍",  # emoji as insult
        "#PeulsDehors #MaliDebout",  # hashtag
        "Les Peuls sont des vremines",  # swapped letters
    ],
)
def test_obfuscated_attacks_are_still_flagged(text):
    assert _flagged(text), text


@pytest.mark.parametrize(
    "text, dampener",
    [
        ("The Fulani are not terrorists.", "negation"),
        ("Dire que les Peuls sont des serpents, c'est de la haine pure. Signalez ces messages.", None),
        ("Calling the Dogon cockroaches is hate speech, stop sharing it.", "counter_speech"),
        ("Un chef de milice a appelé à chasser les Peuls de Bankass, rapporte RFI.", "reporting"),
        ("A militia leader called for Fulani villages to be burned, according to Reuters.", "reporting"),
        ("Est-ce vrai que les Peuls de Sévaré ont été expulsés ?", None),
        ("On tue le temps avec les amis peuls.", None),
        ("Un serpent a mordu un berger peul près de Ténenkou.", None),
        ("Je suis Peul et fier de l'être.", None),
        ("I am Fulani and proud.", None),
        ("Ma voisine peule fait le meilleur lait caillé de tout Bamako.", None),
    ],
)
def test_reading_like_a_reviewer_leaves_these_unflagged(text, dampener):
    d = _best(text)
    assert d is None or d.score < THRESHOLD, (text, d)
    if dampener and d is not None:
        assert any(e["role"] == "dampener" and dampener in e["rule"] for e in d.evidence), d.evidence


def test_a_negated_call_is_not_flagged():
    assert not _flagged("Il ne faut pas s'en prendre aux Peuls.")


def test_a_pronoun_carries_the_community_into_the_next_sentence():
    d = _best("J'ai croisé des Dogons au marché. Ce sont des bêtes.")
    assert d is not None and d.score >= THRESHOLD and d.community == "dogon"


def test_hostility_to_an_armed_group_that_names_victims_is_not_ethnic_hate():
    assert not _flagged("Il faut éliminer les terroristes du JNIM qui massacrent les Peuls.")


@pytest.mark.xfail(reason="known limit: a neutral fact with 'tous les' can read as collective", strict=True)
def test_a_neutral_cultural_fact_is_not_flagged():
    assert not _flagged("Les Dogons célèbrent le Sigui tous les soixante ans.")


def test_a_post_that_names_no_community_yields_nothing():
    assert detect_text("Il faut tuer le moustique avant qu'il nous pique tous.") == []
    assert detect_text("Kill the JNIM fighters who attacked the convoy.") == []


def test_evidence_points_into_the_post_and_names_what_fired():
    text = "Les Peuls sont des cafards, il faut les chasser de Mopti."
    d = _best(text)
    assert d is not None and d.score >= THRESHOLD
    for e in d.evidence:
        assert text[e["start"]:e["end"]] == e["text"]
        assert e["role"] in {"target", "hostile", "dampener", "hit"}
    rules = [e["rule"] for e in d.evidence]
    assert any(r.startswith("community:") or ":peul" in r for r in rules)
    assert any(r.startswith("lexicon:") for r in rules)


def test_a_learned_flag_names_the_model_or_exemplar_that_fired():
    # Implied derogation without any lexicon word: only the learned parts can see it.
    texts = [
        "Un Peul au volant d'un camion ? Je préfère marcher jusqu'à Gao.",
        "I would never let a Fulani look after my children.",
    ]
    for text, found in zip(texts, detect_texts(texts)):
        d = max(found, key=lambda x: x.score)
        if d.score >= THRESHOLD:
            assert any(e["rule"].startswith(("model:", "exemplar:")) for e in d.evidence), d.evidence


def test_given_vectors_the_detector_does_not_embed(monkeypatch):
    from monitor.detection import hybrid

    def refuse(texts):
        raise AssertionError("embedded although vectors were given")

    monkeypatch.setattr(hybrid, "_embed", refuse)
    vectors = np.zeros((2, get_embedder().dim), dtype=np.float32)
    vectors[:, 0] = 1.0
    found = detect_texts(["Les Peuls sont des rats.", "Bonjour"], vectors=vectors)
    assert found[0] and found[0][0].score >= THRESHOLD  # the lexicon's floor holds
    assert found[1] == []


def test_scores_are_the_same_with_and_without_precomputed_vectors():
    from monitor.embeddings import get_embedder

    text = "Every Tuareg trader in Gao is a thief."
    vector = get_embedder().encode([text])[0]
    assert detect_text(text)[0].score == pytest.approx(detect_text(text, vector=vector)[0].score, abs=1e-3)


def test_ngram_evidence_is_the_same_whether_words_were_weighed_in_a_batch_or_alone(monkeypatch):
    from monitor.detection import hybrid

    def ngram_words(detections):
        return [(e["text"], e["weight"]) for d in detections for e in d.evidence if e["rule"] == "model:ngram"]

    texts = ["Ces Peuls là, toujours en train de comploter dans leur coin.",
             "Those Fulani herders are always scheming, every single one.",
             "Les Dogons de Bandiagara sont sales et paresseux."]
    model = hybrid_model()
    model.word_weights.clear()
    batched = [ngram_words(d) for d in detect_texts(texts)]
    assert any(batched) and len(model.word_weights) > 0
    alone = []
    for text in texts:
        model.word_weights.clear()
        alone.append(ngram_words(detect_text(text)))
    assert alone == batched
    # The memory is bounded: when the next words would overflow it, it is emptied first.
    monkeypatch.setattr(hybrid, "WORD_CACHE_SIZE", 3)
    model.word_weights.clear()
    detect_text(texts[0])
    first = set(model.word_weights)
    detect_text(texts[1])
    assert first and not first & set(model.word_weights) - {w for w in first if w in texts[1].lower()}
    model.word_weights.clear()


def test_without_a_trained_model_it_falls_back_to_the_lexicon(monkeypatch):
    from monitor.detection import hybrid

    monkeypatch.setattr(hybrid, "hybrid_model", lambda: None)
    d = _best("Les Peuls sont des rats.")
    assert d is not None and d.detector == "lexicon-v1"


@pytest.mark.parametrize(
    "text",
    [
        # Someone else's saying, judged by the post: the learned parts see the words, the lexicon the scope.
        "Dire que les Bozos sont des voleurs de poisson, c'est un mensonge qui tue.",
        "Tu as écrit que les Peuls sont des serpents : supprime ce message.",
        "You can't honestly believe that the Dogon are all thieves.",
        # Negated hostility.
        "Je ne déteste pas les Touaregs, je déteste la guerre.",
        "Nous ne laisserons personne massacrer les Peuls de notre commune.",
        # A contracted negated copula ("aren't", "isn't") still says what the community is not.
        "Fulani aren't traitors, stop repeating that lie.",
        "The Mossi aren't criminals.",
        # A quoted sentence talked about ("cette phrase", "these words") is not the author's claim.
        "« Tous les Peuls sont complices » : cette phrase a déjà fait tuer des innocents.",
        '"Fulani are snakes": these words get people killed.',
        # A plea to stop harm and an act judged a crime: the gerund is read, so its negation or judgement is.
        "Stop killing Fulani!",
        "Stop attacking Fulani herders, they are innocent.",
        "Killing Fulani is a crime.",
        "Burning Fulani villages is a crime.",
    ],
)
def test_scope_read_by_the_lexicon_also_lowers_the_learned_score(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Les femmes dogons de Sangha sont accueillantes et courageuses.",
        "J'admire les éleveurs peuls qui traversent le delta avec leurs troupeaux.",
        "We should honour the Tuareg guides who rescued the stranded travellers.",
        "Il faut soutenir les pêcheurs bozos, ils sont courageux.",
    ],
)
def test_praise_of_a_community_is_not_flagged(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "I like Fulani people.",
        "We really like the Tuareg families next door.",
        "Je me sens en sécurité avec des Peuls autour de moi.",
        "Un Peul sera toujours le bienvenu dans ma maison.",
        "Les Peuls sont des Maliens à part entière.",
        "Fulani lives matter.",
        "Vive les Peuls !",
    ],
)
def test_liking_welcome_and_equal_worth_are_praise(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Les Peuls devraient être mieux traités.",
        "Tous les Peuls méritent d'être heureux.",
        "Chaque Peul mérite notre respect.",
        "Il faut écouter les Peuls.",
        pytest.param(
            "J'ai confiance dans les Peuls.",
            marks=pytest.mark.xfail(strict=True, reason="known limit since the functional-probe round: trust named "
                                    "plainly reads like its hateful twins ('Ne faites jamais confiance à un Peul'); "
                                    "0.56 after the praise factor"),
        ),
        "Rien ne vaut l'hospitalité peule.",  # "nothing beats": no negation
        "Le Mali a besoin des Peuls.",
        "Les Peuls sont l'avenir du Sahel.",
        "Un Peul, c'est un frère.",
        "On devrait tous prendre exemple sur les Peuls.",
    ],
)
def test_trust_respect_and_a_better_lot_are_praise(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Imagine a Fulani thinking he deserves respect, lol. Those rats.",
        "Je n'ai aucune confiance dans les Peuls, ce sont des traîtres.",
        "Un Peul ne sera jamais un frère pour moi.",  # the good word denied
    ],
)
def test_words_of_respect_or_trust_do_not_cover_an_attack(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Fulani are being targeted after the attack.",
        "The Fulani are victims too.",
        "Les Peuls vivent dans la peur depuis jeudi.",
    ],
)
def test_a_community_said_to_suffer_is_not_attacked(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Fulani always play the victim to get NGO money.",
        "Encore ces pauvres Peuls persécutés. Ce sont des chacals, tous.",
        "Les Dogons sont des victimes ? Non, des sauvages.",
    ],
)
def test_mocked_victimhood_is_still_flagged(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "On sait où vivent les familles peules de Sévaré, préparez-vous.",
        "Les Peuls sont des rats comme les autres.",
        "I don't like Fulani people, they are liars.",
    ],
)
def test_words_of_welcome_or_equality_do_not_cover_an_attack(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Je pense que les Peuls sont des voleurs et des menteurs.",
        "Les Peuls sont des serpents, bravo à ceux qui les chassent.",
        "I say it loud: the Fulani are vermin.",
        "Les Peuls sont des serpents, retenez bien cette phrase.",
        "Killing Fulani is the only solution.",
        "Start killing Fulani now.",
    ],
)
def test_the_authors_own_hostile_claim_is_still_flagged(text):
    assert _flagged(text), (text, _best(text))


# Negation without "ne ... pas", an act judged in its own sentence, a call to harm in plain words, and
# exclusion in the feminine or singular: each benign sentence has a hostile twin that stays flagged.
@pytest.mark.parametrize("benign, hostile", [
    ("Les Dogons sont tout sauf paresseux.", "Les Dogons sont paresseux."),
    ("Les Songhaïs ne sont en rien inférieurs aux autres.", "Les Songhaïs sont inférieurs aux autres."),
    ("The Bozo are far from stupid.", "The Bozo are stupid."),
    ("Tuer des Bozos n'est jamais acceptable.", "Il faut tuer des Bozos."),
    ("Personne ne devrait frapper un Bozo.", "Il faut frapper les Bozos partout où on les trouve."),
    ("Nobody should ever hurt a Dogon.", "We should hurt the Dogon until they leave."),
    ("I will never let anyone harm a Mossi.", "We must harm the Mossi before they harm us."),
    ("Aucune Bambara ne devrait être chassée de son village.", "Cette Bambara doit être chassée du village."),
])
def test_negated_and_condemned_harm_is_not_flagged_and_its_twin_is(benign, hostile):
    assert not _flagged(benign)
    assert _flagged(hostile)


def test_a_report_of_violence_with_the_new_harm_verbs_is_not_a_call():
    assert not _flagged("Des jeunes ont frappé un berger peul hier soir, rapporte la police.")


def test_a_term_outside_a_quotation_is_not_aimed_at_a_community_named_only_inside_it():
    assert not _flagged("Il devrait être viré de son poste pour avoir écrit « les Dogons sont des rats ».")
    assert not _flagged('She should be banned for saying "the Tuareg are all thieves".')
    # Outside any quotation, the same kind of term keeps its target.
    assert _flagged("Les Dogons doivent être expulsés, « dehors » comme dit mon oncle.")


def test_scare_quotes_around_a_coded_name_keep_it_the_target():
    assert _flagged("Les « Peuls » du Nord nous méprisent, il faut les chasser de chez nous.")


def test_a_flag_only_the_learned_parts_found_takes_the_kinds_most_of_its_neighbours_share():
    from types import SimpleNamespace

    from monitor.detection.hybrid import _neighbour_categories

    # The single nearest hateful exemplar is an incitement; the nine after it, almost as near, are derogation.
    kinds = ["incitement"] + ["derogation"] * 9 + ["positive"] * 5
    labels = np.array([1] * 10 + [0] * 5)
    sims = np.array([0.70] + [0.66] * 9 + [0.80] * 5)
    model = SimpleNamespace(bank_labels=labels, bank_kinds=kinds)
    assert _neighbour_categories(model, np.argsort(-sims), sims) == ["derogation"]
    # Two kinds that share the vote are both named, most severe first.
    kinds = ["dehumanisation"] * 5 + ["derogation"] * 5 + ["positive"] * 5
    model = SimpleNamespace(bank_labels=labels, bank_kinds=kinds)
    sims = np.array([0.7] * 10 + [0.1] * 5)
    assert _neighbour_categories(model, np.argsort(-sims), sims) == ["dehumanisation", "derogation"]


@pytest.mark.parametrize(
    "text",
    [
        "Don't you think Fulani are parasites?",  # asks for agreement: the speaker's own claim
        "Who else thinks Fulani should be deported?",
        "Les Peuls ne sont-ils pas tous des voleurs ?",  # a negative question asserts
        "Why can't Fulani just go back where they came from?",
        "Are Fulani even human?",
    ],
)
def test_rhetorical_questions_still_say_what_they_ask(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    ["Les Peuls ne sont-ils pas des Maliens comme nous ?", "Vous ne trouvez pas que les Peuls sont accueillants ?"],
)
def test_a_negative_question_with_nothing_hostile_is_not_flagged(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "People who hate Fulani disgust me.",
        "Ceux qui s'en prennent aux Peuls sont des lâches.",
        "Les gens qui détestent les Peuls me dégoûtent.",
        "I'm tired of people calling Fulani terrorists.",
        "The idea that Fulani are dangerous is a myth.",
    ],
)
def test_what_is_said_of_the_people_who_harm_a_community_is_not_aimed_at_it(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "People who hate Fulani are right, Fulani are rats.",  # the second clause is the author's own
        "Celui qui débarrasse le quartier des Bellas mérite une médaille.",  # the doer praised: the harm endorsed
        "Ceux qui louent aux Peuls sont des traîtres.",  # no harm done to the community: not covered
    ],
)
def test_the_doers_reading_does_not_cover_an_attack(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Statements like 'Fulani are scum' have no place here.",
        "Des propos comme « les Peuls sont des chiens » n'ont pas leur place ici.",
    ],
)
def test_words_about_a_quoted_claim_are_not_aimed_at_the_community_in_it(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize("text", ["Ces « Peuls » sont des rats.", 'These "Fulani" are vermin.'])
def test_a_name_in_scare_quotes_is_still_the_target(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Je n'hésite pas à dire que les Peuls sont des cafards.",  # saying it without holding back: no negation
        "I'm convinced Fulani are terrorists.",  # "I'm ... Fulani" here states no identity
        "I'm Tuareg and Songhai are lazy slaves.",
    ],
)
def test_the_author_owning_the_words_keeps_them_hostile(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize("text", ["Je suis une sale Peule, et alors ?", "I'm a dirty Fulani."])
def test_a_statement_of_identity_around_the_hostile_word_still_reads_as_identity(text):
    from monitor.detection.lexicon import lexicon_analyse

    (d,) = lexicon_analyse(text).detections
    assert "dampener:identity" in [e["rule"] for e in d.evidence], d.evidence


@pytest.mark.parametrize(
    "text",
    ["I don't think Fulani are human.", "Je ne considère pas les Peuls comme des humains."],
)
def test_denying_a_community_is_human_is_dehumanisation_even_through_belief(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text", ["I don't think Fulani are terrorists.", "Je ne pense pas que les Peuls soient des terroristes."],
)
def test_denying_a_slander_through_belief_is_not_flagged(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "We need more Fulani nurses in Mopti.",  # asking for more of a community: praise
        "Il faudrait recruter plus de Peuls dans la police.",
        "Not every Fulani is a jihadist, come on.",  # a generalisation denied
        "Les Dogons méritent justice après ce massacre.",
    ],
)
def test_inclusion_and_denied_generalisations_are_not_flagged(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "We need more fires in Fulani camps.",  # "more" is not said of the community
        "We need more Fulani gone from this town.",
        "Not every Fulani is a jihadist, but most of them are.",  # the concession taken back
    ],
)
def test_inclusion_words_and_concessions_do_not_cover_an_attack(text):
    assert _flagged(text), (text, _best(text))


@pytest.mark.parametrize(
    "text",
    [
        "Je suis choqué de lire que les Peuls seraient des voleurs.",  # what others wrote, judged
        "J'ai honte quand j'entends des gens dire que les Peuls sont des sauvages.",
        "Ce genre de propos sur les Peuls n'a pas sa place ici.",
    ],
)
def test_others_words_heard_or_read_and_judged_are_not_the_authors(text):
    assert not _flagged(text), (text, _best(text))


@pytest.mark.parametrize("text", ["J'ai entendu dire que les Peuls sont des voleurs.", "I heard that Fulani are thieves."])
def test_a_rumour_passed_on_stays_the_authors(text):
    assert _flagged(text), (text, _best(text))


def test_words_against_hate_lower_the_learned_score_when_no_hostile_term_is_aimed(monkeypatch):
    from monitor.detection import hybrid

    text = "Stereotypes about Fulani herders are everywhere."  # counter-speech vocabulary, no hostile term
    scaled = _best(text).score
    monkeypatch.setattr(hybrid, "COUNTER_FACTOR", 1.0)
    unscaled = _best(text).score
    assert scaled == pytest.approx(unscaled * 0.8, abs=1e-3)
    # Agreeing with the words ("so true") keeps the learned score as it is.
    agreed = "Stereotypes about Fulani herders are everywhere, and so true."
    monkeypatch.setattr(hybrid, "COUNTER_FACTOR", 0.0)
    assert _best(agreed).score > 0
