"""The lexicon detector ("lexicon-v1", the rule layer of hybrid-v2): what it flags, what it
leaves alone, and how it explains itself. The hybrid detector is tested in test_detection_hybrid.py.

Content warning: the examples are hostile on purpose. They are written for these
tests (French, English, Bambara mixed with French), not taken from any evaluation set.
"""
from __future__ import annotations

import pytest

from monitor.detection import Detection, detection_threshold
from monitor.detection.lexicon import DETECTOR_ID, compiled_rules, lexicon_analyse
from monitor.detection.lexicon import detect_lexicon as detect_text

THRESHOLD = detection_threshold()


def _peul(text: str, **kwargs) -> Detection | None:
    return next((d for d in detect_text(text, **kwargs) if d.community == "peul"), None)


def _flagged(text: str, **kwargs) -> bool:
    d = _peul(text, **kwargs)
    return d is not None and d.score >= THRESHOLD


def _rules(d: Detection, role: str) -> list[str]:
    return [e["rule"] for e in d.evidence if e["role"] == role]


# --- what is flagged ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Il faut tuer tous les Peuls.",
        "Tuez les Peuls, ils ont attaqué l'aéroport !",
        "Exterminer les Peuls, voilà la solution.",
        "On doit chasser les Peuls de Bamako et brûler leurs maisons.",
        "Kill all the Fulani.",
        "We must burn every Fulani village tonight.",
        "Les Peuls ont attaqué l'aéroport. Il faut tous les tuer.",
    ],
)
def test_calls_for_violence_against_peul_are_incitement(text):
    d = _peul(text)
    assert d is not None and d.score >= THRESHOLD
    assert d.categories[0] == "incitement"
    assert d.detector == DETECTOR_ID == "lexicon-v1"


def test_code_switched_bambara_call_to_kill_is_incitement():
    d = _peul("An ka Fulaw bɛɛ faga, ils sont tous des terroristes", language="bm")
    assert d is not None and d.score >= THRESHOLD
    assert d.categories[0] == "incitement"
    assert "lexicon:bm:incitement:faga" in _rules(d, "hostile")


@pytest.mark.parametrize(
    "text",
    ["les peuls sont des 🐍", "Les Peuls sont des cafards.", "Fulani are vermin", "Fulaw ye wuluw ye", "ces chiens de Peuls"],
)
def test_calling_peul_animals_or_vermin_is_dehumanisation(text):
    d = _peul(text)
    assert d is not None and d.score >= THRESHOLD
    assert d.categories == ["dehumanisation"]


@pytest.mark.parametrize(
    "text",
    [
        "Les P3uls sont des rats",
        "p.e.u.l.s dehors",
        "#PeulsDehors",
        "#peulsdehors",
        "Les Peuuuuls sont des cafards",
        "Les Pe\u200buls sont des cafards",
        "P e u l s = vermine",
        "Fualni are rats",
    ],
)
def test_obfuscated_spellings_are_still_caught(text):
    assert _flagged(text), text


@pytest.mark.parametrize(
    "text",
    [
        "I haet Fulani people.",  # two letters swapped in a short word of a hostile phrase
        "I htae Fulani people.",
        "Ihate Fulani people.",  # words run together
        "I h a t e Fulani people.",  # spaced letters, read as "ihate"
        "We must killall the Fulani.",
        "Je dteeste les Peuls.",
        "Fulaniwomen are worthless.",  # a name glued to a word the lexicon does not know
        "Les Pheuls sont des traîtres.",  # a letter added inside a name
        "Fulani dserve no respect.",  # a letter dropped from a phrase word of six letters or more
        "Les Peuls sont des anmaux.",
    ],
)
def test_slips_in_the_words_of_a_hostile_phrase_are_still_caught(text):
    assert _flagged(text), text


@pytest.mark.parametrize(
    "text",
    [
        "The therapist met Fulani families in Mopti.",  # a word of its own, not "the rapist"
        "He lost his hat at the Fulani wedding.",  # "hat" is a word, not a slip of "hate"
        "Our arts festival welcomes Fulani musicians.",
        "Ce week-end c'est le mariage de ma collègue peule à Kalaban.",  # ka la ban: three pieces
        "Fulani are Savile fans.",  # a capital inside a sentence: a name, not "sa vile" ("savile" would be)
    ],
)
def test_real_words_are_not_read_as_slips_or_run_together(text):
    assert not _flagged(text), text


def test_collective_blame_needs_the_community_to_be_said_to_be_terrorists():
    d = _peul("Tous les Peuls sont des jihadistes.")
    assert d is not None and d.score >= THRESHOLD
    assert d.categories == ["collective_blame"]
    assert "cue:quantifier" in _rules(d, "hostile")


def test_equating_a_community_with_an_armed_group_is_collective_blame():
    d = _peul("Les Peuls, c'est la katiba Macina.")
    assert d is not None and d.score >= THRESHOLD
    assert d.categories == ["collective_blame"]
    assert "actor:katiba-macina" in _rules(d, "hostile")


def test_accusing_peul_of_hiding_jihadists_is_collective_blame():
    d = _peul("Les Peuls cachent les jihadistes dans leurs campements.")
    assert d is not None and d.score >= THRESHOLD and d.categories == ["collective_blame"]


@pytest.mark.parametrize("text", ["Peuls dehors !", "Rentrez chez vous, les Peuls.", "Fulani are not welcome here."])
def test_telling_peul_to_leave_is_exclusion(text):
    d = _peul(text)
    assert d is not None and d.score >= THRESHOLD and d.categories[0] == "exclusion"


def test_second_person_threats_are_threats():
    d = _peul("Les Peuls, vos jours sont comptés.")
    assert d is not None and d.score >= THRESHOLD and d.categories == ["threat"]


def test_several_cues_score_higher_than_one():
    one = _peul("Les Peuls sont des cafards.")
    two = _peul("Les Peuls sont des cafards, il faut les exterminer.")
    assert two.score > one.score
    assert two.categories == ["incitement", "dehumanisation"]  # most severe first


def test_a_slur_names_its_target_by_itself():
    d = _peul("Those killer herdsmen again.")
    assert d is not None and d.score >= THRESHOLD
    assert "derogatory:peul:en:killer herdsmen" in _rules(d, "hostile")


def test_each_targeted_community_gets_its_own_detection():
    found = {d.community for d in detect_text("Les Peuls et les Dogons sont des serpents.") if d.score >= THRESHOLD}
    assert found == {"peul", "dogon"}


# --- what is not flagged -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Les Peuls ne sont pas des terroristes.",
        "Il ne faut pas tuer les Peuls.",
        "Ne tuez pas les Peuls.",
        "Il faut arrêter de chasser les Peuls de leurs terres.",
        "Fulani are not animals.",
        # "ne VERBE pas les Peuls": the term is linked to the community through "pas", then negated.
        "Je ne déteste pas les Peuls.",
        "Nous ne méprisons pas les Peuls, au contraire.",
        "Ne chassez jamais les Peuls de leurs terres.",
    ],
)
def test_negated_hostility_is_not_flagged_and_says_why(text):
    d = _peul(text)
    assert d is not None and d.score < THRESHOLD
    assert "dampener:negation" in _rules(d, "dampener")


@pytest.mark.parametrize(
    "text, category",
    [
        ("Je déteste les Peuls.", "derogation"),
        ("Les Peuls ne sont pas des humains.", "dehumanisation"),
        ("Je déteste plus les Peuls que jamais.", "derogation"),
    ],
)
def test_without_a_negation_of_the_term_the_same_words_stay_hostile(text, category):
    d = _peul(text)
    assert d is not None and d.score >= THRESHOLD and category in d.categories


@pytest.mark.parametrize(
    "text",
    [
        "« Les Peuls sont des rats » : ces propos sont honteux.",
        "Dire que les Peuls sont des terroristes, c'est honteux.",
        "Stop à la haine : non, les Peuls ne sont pas des serpents.",
        "Saying Fulani are cockroaches is hate speech and we must reject it.",
    ],
)
def test_counter_speech_quoting_hate_is_not_flagged(text):
    d = _peul(text)
    assert d is None or d.score < THRESHOLD
    assert d is None or _rules(d, "dampener")


def test_a_condemnation_does_not_excuse_the_next_sentence():
    assert _flagged("Je condamne l'attaque de l'aéroport. Il faut tuer tous les Peuls.")


def test_what_follows_mais_is_the_speakers_own_view():
    assert _flagged("Je ne suis pas raciste mais les Peuls sont des serpents.")


@pytest.mark.parametrize(
    "text",
    [
        "Selon RFI, des hommes armés ont tué des Peuls à Ogossagou.",
        "Les FAMa et Wagner ont tué des civils peuls à Moura, selon HRW.",
        "Des Peuls massacrés dans le centre, rapporte l'AFP.",
        "Fulani herdsmen were killed in Benue, police said.",
    ],
)
def test_news_reports_of_violence_against_peul_are_not_flagged(text):
    assert not _flagged(text)


@pytest.mark.parametrize(
    "text",
    [
        "Je suis Peul et fier de l'être.",
        "Ma voisine peule fait le meilleur lait caillé du quartier.",
        "Les éleveurs peuls ont perdu leurs animaux dans l'attaque.",
        "Les chiens des Peuls gardent les troupeaux.",
        "Un berger peul a été mordu par un serpent près de Sévaré.",
        "Les Peuls sont les premières victimes des terroristes.",
    ],
)
def test_mentions_without_hostility_toward_peul_yield_no_flag(text):
    assert not _flagged(text)


@pytest.mark.parametrize(
    "text",
    [
        "Je déteste la violence contre les Peuls.",
        "I hate the violence against Fulani.",
        "Ces attaques contre les Peuls me dégoûtent.",
        "Les Peuls n'ont pas confiance en l'État.",
        "Fulani are sick of the violence.",
        "Je ne supporte pas qu'on insulte les Peuls.",
    ],
)
def test_hating_what_is_done_to_peul_is_not_hating_peul(text):
    assert not _flagged(text)


@pytest.mark.parametrize("text", ["Je déteste les Peuls.", "I hate all Fulani.", "Les Peuls me dégoûtent."])
def test_hating_peul_themselves_is_derogation(text):
    d = _peul(text)
    assert d is not None and d.score >= THRESHOLD and d.categories == ["derogation"]


def test_a_mention_alone_yields_no_detection_at_all():
    assert detect_text("Je suis Peul. Les Peuls du Mali, Fulani, Fulɓe, Pullo.") == []


def test_benign_idioms_are_not_hostile():
    assert detect_text("On va tuer le temps avec les amis peuls en attendant le bus.") == []
    assert detect_text("Killing time with my Fulani friends before the match.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Il faut éliminer tous les jihadistes du JNIM.",
        "Wagner dehors ! La junte doit partir.",
        "Death to ISIS and the JNIM terrorists.",
        "Les Dozos sont des criminels.",
    ],
)
def test_hostility_toward_armed_groups_alone_is_not_ethnic_hate(text):
    assert detect_text(text) == []


def test_hostility_to_an_armed_group_is_not_moved_onto_its_victims():
    assert not _flagged("Le JNIM massacre les Peuls, il faut éliminer le JNIM.")


@pytest.mark.parametrize(
    "text",
    [
        "Le JNIM ne représente pas les Peuls, ce sont des assassins.",
        "Le JNIM ne représente pas les Peuls. Ce sont des assassins.",
        "La katiba Macina tue des Peuls. Des assassins, rien d'autre.",
        "JNIM doesn't speak for the Fulani. They are murderers.",
    ],
)
def test_a_pronoun_after_an_actor_and_a_community_takes_up_the_actor(text):
    # The subject named first (the armed group) is what "ce sont" / "they are" describes.
    assert not _flagged(text)


def test_a_community_set_apart_before_its_pronoun_is_still_its_target():
    assert _flagged("Les Peuls, ce sont des assassins.")
    assert _flagged("The Fulani? They are murderers.")


def test_a_negated_contracted_copula_is_a_negated_predication():
    d = _peul("Fulani aren't traitors.")
    assert d is not None and d.score < THRESHOLD and "dampener:negation" in _rules(d, "dampener")


def test_ordinary_words_that_look_like_names_are_not_communities():
    # "bozo" is English slang; Bozo the community is written with a capital.
    assert detect_text("What a bozo, he should be banned from the league.") == []


# --- evidence ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Les P3uls sont des 🐍🐍 !!",
        "Il faut tuer tous les p.e.u.l.s, non ?",
        "#PeulsDehors 😡 https://exemple.org/x",
        "Ce n'est pas vrai : les Peuls ne sont pas des terroristes.",
        "Ｐｅｕｌｓ = vermine",
    ],
)
def test_evidence_spans_slice_the_original_text_exactly(text):
    detections = detect_text(text)
    assert detections
    for d in detections:
        assert d.evidence
        for e in d.evidence:
            assert set(e) == {"start", "end", "text", "rule", "role"}
            assert 0 <= e["start"] < e["end"] <= len(text)
            assert text[e["start"]:e["end"]] == e["text"]
            assert e["role"] in {"target", "hostile", "dampener"}


def test_evidence_names_the_target_the_lexicon_entry_and_the_dampener():
    text = "Les P3uls ne sont pas des cafards."
    d = _peul(text)
    by_role = {e["role"]: e for e in d.evidence}
    assert by_role["target"]["text"] == "P3uls" and by_role["target"]["rule"] == "community:peul"
    assert by_role["hostile"]["rule"] == "lexicon:fr:dehumanisation:cafards"
    assert by_role["dampener"]["rule"] == "dampener:negation"


def test_scores_stay_between_zero_and_one():
    text = "Tous les Peuls sont des cafards, des rats, des serpents 🐍, il faut les exterminer, les brûler, les chasser !"
    d = _peul(text)
    assert 0.0 <= d.score <= 1.0 and d.score >= THRESHOLD


def test_the_threshold_is_a_probability_like_score():
    assert 0.0 < THRESHOLD < 1.0


def test_categories_are_flag_category_values_most_severe_first():
    from monitor.models import Flag

    d = _peul("Les Peuls sont des menteurs et des rats, dehors les Peuls, il faut les tuer.")
    assert set(d.categories) <= set(Flag.Category.values)
    order = list(Flag.Category.values)
    assert d.categories == sorted(d.categories, key=order.index)


# --- how it runs ------------------------------------------------------------


def test_a_lexicon_file_with_an_unquoted_yes_or_no_is_refused(tmp_path):
    # YAML reads a bare no as false; matching the word "False" would be a silent bug.
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text("categories: {}\ncues:\n  quantifier:\n    en: [all, no]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="quote it"):
        compiled_rules(lexicon_path=lexicon)


def test_a_custom_lexicon_is_used_instead_of_the_seed_one(tmp_path):
    lexicon = tmp_path / "lexicon.yaml"
    lexicon.write_text(
        "categories:\n  derogation:\n    defaults: {strength: medium, needs: predication}\n"
        "    fr:\n      - {term: grincheux, patterns: [grincheux]}\n"
        "cues:\n  copula:\n    fr: [sont]\n",
        encoding="utf-8",
    )
    from monitor.detection.lexicon import detect_lexicon

    compiled = compiled_rules(lexicon_path=lexicon)
    found = detect_lexicon("Les Peuls sont grincheux.", compiled=compiled)
    assert [d.community for d in found] == ["peul"]
    assert "lexicon:fr:derogation:grincheux" in _rules(found[0], "hostile")
    assert detect_lexicon("Les Peuls sont des rats.", compiled=compiled) == []


def test_detection_is_pure_and_repeatable():
    text = "Il faut tuer tous les Peuls."
    assert detect_text(text) == detect_text(text)


def test_empty_and_blank_posts_yield_nothing():
    assert detect_text("") == [] and detect_text("   \n ") == []


def test_a_thousand_posts_in_a_row_are_each_read_as_alone():
    # Speed is measured by bench/detect.py (a ratio against embedding, in the same run), not here: a timing
    # assertion in a test fails on a busy machine and says nothing about behaviour.
    posts = [
        "Les Peuls ont caché les assaillants de l'aéroport, il faut les chasser de Bamako.",
        "Le prix du sac de riz a encore augmenté au marché de Médine.",
        "Kill every Fulani before they kill us, they are all terrorists.",
        "Coupure d'électricité à Kalaban Coura depuis ce matin #Bamako",
    ]
    alone = [detect_text(p) for p in posts]
    in_a_row = [detect_text(p) for p in posts * 250]
    assert all(result == alone[i % len(posts)] for i, result in enumerate(in_a_row))
    assert [bool(a) and a[0].score >= THRESHOLD for a in alone] == [True, False, True, False]


# --- reading like a reviewer: scope of verbs of saying, praise, short-name slips -----------------


@pytest.mark.parametrize(
    "text",
    [
        "Dire que les Dogons sont des voleurs, c'est répandre un mensonge.",
        "Tu as écrit que les Peuls sont des rats : efface ce message.",
        "Vous ne pouvez pas croire que les Peuls sont tous des bandits.",
        "Calling Fulani herders rats only feeds the killings.",
    ],
)
def test_hostile_words_under_someone_elses_verb_of_saying_are_dampened(text):
    analysis = lexicon_analyse(text)
    d = next(iter(analysis.detections), None)
    assert d is None or d.score < THRESHOLD, (text, d)
    if d is not None:
        assert analysis.scope[d.community] < 1.0
        assert any(e["role"] == "dampener" for e in d.evidence), d.evidence


@pytest.mark.parametrize(
    "text",
    [
        "Je pense que les Peuls sont des voleurs.",  # the author's own belief
        "Il faut dire que les Peuls sont des menteurs.",  # a call makes the saying the author's
        "I think Fulani are rats.",
    ],
)
def test_the_authors_own_verb_of_saying_is_not_a_dampener(text):
    analysis = lexicon_analyse(text)
    d = _peul(text)
    assert d is not None and d.score >= THRESHOLD, (text, d)
    assert analysis.scope["peul"] == 1.0
    assert "dampener:embedding" not in _rules(d, "dampener")


def test_a_negated_verb_of_belief_by_the_author_is_dampened():
    analysis = lexicon_analyse("Je ne crois pas que les Peuls soient des voleurs.")
    d = next(iter(analysis.detections), None)
    assert d is None or d.score < THRESHOLD


@pytest.mark.parametrize(
    "text, praised",
    [
        ("Les Dogons de Sangha sont accueillants et généreux.", True),
        ("We should honour the Fulani nurses of Mopti hospital.", True),
        ("Les Peuls ne sont pas accueillants.", False),  # negated: nothing praised
        ("Les Peuls sont des voleurs, merci de les éviter.", False),  # attacked: not praised
        ("Les Peules sont charmantes et tellement élégantes.", True),
        ("I'd love to go out with a Fulani girl, they're so polite.", True),
        ("Vous avez déjà vu un Peul honnête ?", False),  # a question asserts no praise
        ("Le Mali serait magnifique sans les Peuls.", False),  # the good thing is their absence
        ("Mali was peaceful before the Fulani came.", False),
        # Trust given is praise; trust denied is not.
        ("Faites confiance aux Peuls, ils connaissent la brousse.", True),
        ("You can count on the Fulani of Djenné.", True),
        ("Ne faites jamais confiance aux Peuls.", False),
        # What the community should receive: protection, respect.
        ("Les Peuls doivent être protégés.", True),
        ("Fulani should not be respected.", False),
        # Regrets and disappointments denied are praise; what a community brings too.
        ("Je n'ai jamais regretté de travailler avec des Peuls.", True),
        ("My Fulani neighbours have never let me down.", True),
        ("Les Dogons apportent beaucoup à Bandiagara.", True),
        ("I regret ever trusting the Fulani.", False),
    ],
)
def test_a_community_praised_without_negation_or_attack_is_noted(text, praised):
    analysis = lexicon_analyse(text)
    assert bool(analysis.praised) is praised, (text, analysis.praised)


def test_a_capitalised_short_name_missing_a_letter_is_read_as_the_name():
    d = _peul("Les Puls sont des pourritures.")
    assert d is not None and d.score >= THRESHOLD
    # Without the capital, the slip is not trusted.
    assert _peul("les puls sont des pourritures.") is None
    # A cut-off ending is never read as a name.
    assert "boz" not in compiled_rules().misspelt_capital


def test_a_slip_two_names_of_one_community_could_produce_is_still_that_community():
    # "Pul" is one letter from "Peul" and from "Pullo": both name the Peul, so it is no ambiguity.
    assert compiled_rules().misspelt_capital.get("pul") == "peul"
    d = _peul("Je ne ferai jamais confiance à un Pul, jamais.")
    assert d is not None and d.score >= THRESHOLD
    # A real word a slip produces is never read as the name ("Mois" is not "Mossi").
    assert "mois" not in compiled_rules().misspelt_capital
    assert not lexicon_analyse("Mois de galère au marché : tout augmente.").mentions


def test_a_community_inside_a_relative_clause_about_the_verbs_own_object_is_not_the_target():
    assert _peul("Il faut neutraliser les bandits armés qui rançonnent les Peuls de Douentza.") is None
    assert _peul("Arrest the gunmen who attacked the Fulani herders.") is None
    # The community itself as the object, with a relative clause after it, is still the target.
    assert _flagged("Il faut éliminer les Peuls qui restent dans le cercle.")


def test_neither_nor_negates_what_the_community_is_said_to_be():
    d = _peul("The Fulani of Mopti are neither liars nor thieves.")
    assert d is None or d.score < THRESHOLD
    if d is not None:
        assert "dampener:negation" in _rules(d, "dampener")


@pytest.mark.parametrize(
    "text, flagged",
    [
        # Exclusion in the passive and other tenses; threats with words between their parts.
        ("The Fulani should be chased out of Mopti before the rains.", True),
        ("Those Fula herders must be driven away from our wells.", True),
        ("Les Peuls, vos jours dans ce marché sont comptés.", True),
        ("Fula traders, your days in this town are numbered.", True),
        # The same words negated, or reported, are not an attack.
        ("No Fulani family should be chased away from the river.", False),
        ("Fulani herders were driven out of the village by a militia, the prefect said.", False),
        # Reported words the author agrees with are the author's own claim.
        ("Mon voisin répète que les Peuls sont des rats, et il a bien raison.", True),
        ("My cousin wrote that the Fulani are vermin. So true.", True),
        # Reported and rejected, or reported alone, they are not.
        ("Mon voisin répète que les Peuls sont des rats. Il a tort.", False),
        ("My cousin wrote that the Fulani are vermin. I don't agree at all.", False),
        ("My cousin wrote that the Fulani are vermin.", False),
        # A negation inside a hostile phrase that does not say one itself negates it.
        ("Mopti would not be better off without the Fulani, it would be empty.", False),
        ("Le pays ne serait jamais meilleur sans les Peuls.", False),
        ("The Fulani must never be deported.", False),
        # The same phrases unnegated, and phrases whose negation is their own, stay hostile.
        ("Mopti would be better off without the Fulani.", True),
        ("Le pays serait meilleur sans les Peuls.", True),
        ("The Fulani are not welcome in Mopti.", True),
        ("Les Peuls ne sont pas des humains.", True),
        # A good quality denied to the whole community is derogation.
        ("Les Peuls ne sont jamais honnêtes en affaires.", True),
        ("Aucun Peul n'est courageux quand il faut se battre.", True),
        ("Fulani are not honest people, everyone knows it.", True),
        # Denying a bad quality, praising, denying it of a few members, or reporting it to reject it is not.
        ("Les Peuls ne sont pas paresseux, arrêtez.", False),
        ("Les Peuls sont honnêtes et travailleurs.", False),
        ("Mes collègues peuls ne sont pas gentils avec moi ce matin.", False),
        ("Dire que les Peuls ne sont pas honnêtes, c'est faux et raciste.", False),
        ("Fulaw ye balimaw ye, an bɛɛ ye kelen ye.", False),
        # The quality qualifying the name itself, denied: "never met a polite Peul".
        ("I've never met a polite Peul in my whole life.", True),
        ("Je n'ai jamais connu un Peul honnête, pas un seul.", True),
        ("Not a single Fulani is hardworking.", True),
        # "Aucun ... jamais" is one French negation (negative concord), not two that cancel out.
        ("Aucun Peul n'a jamais été honnête avec nous.", True),
        ("Aucune Peule n'a jamais été fidèle.", True),
        # "as a" names the speaker's identity only with the speaker in the sentence.
        ("There's no such thing as a Fulani patriot.", True),
        # The community told to stop doing something is said to do it; stopping what is done to it is a negation.
        ("Les Peuls doivent arrêter de protéger les terroristes.", True),
        ("When will the Fulani stop hiding terrorists?", True),
        ("Arrêtez de dire que les Peuls cachent les terroristes.", False),
        ("Les Peuls doivent arrêter d'être traités de terroristes.", False),
        # The community as the subject of taking part in or knowing of an attack is blamed for it.
        ("Les Peuls ont aidé à préparer l'attaque de l'aéroport.", True),
        ("The Fulani knew about the airport attack in advance.", True),
        ("Des jihadistes ont mené l'attaque contre les Peuls.", False),
        ("Les Peuls n'ont pas participé à l'attaque.", False),
        ("It is false that the Fulani planned the attack.", False),
        ("It is false that the Fulani are terrorists.", False),
        # The author's own saying reports nobody else's words.
        ("The Fulani are the most arrogant lot in the Sahel, I said what I said.", True),
        ("Les Peuls sont des voleurs, a déclaré le chef de milice selon RFI.", False),
        ("As a Fulani, I am tired of hearing that we are not patriots.", False),
        # A comparison that praises someone, or "not all", denies nothing of the community.
        ("Je n'ai jamais vu un Peul aussi gentil que toi.", False),
        ("Les Peuls ne sont pas tous gentils, comme partout.", False),
        # Liking, respect or trust denied, the community as its object.
        ("Je n'aime pas les Peuls.", True),
        ("I don't trust the Fulani.", True),
        ("Je n'ai aucun respect pour les Peuls.", True),
        # ... not when the object is something else, or the words are judged.
        ("Je n'aime pas qu'on insulte les Peuls.", False),
        ("I don't like people who attack the Fulani.", False),
        ("Ne pas aimer les Peuls, c'est du racisme.", False),
    ],
)
def test_passive_exclusion_endorsed_reports_negations_and_denied_praise_are_read(text, flagged):
    assert _flagged(text) is flagged, text


def test_a_rhetorical_question_does_not_negate_what_it_asserts():
    d = detect_text("Isn't it clear the Fulani are parasites?")
    assert d and max(x.score for x in d) >= THRESHOLD
    assert not any(e["rule"] == "dampener:negation" for x in d for e in x.evidence)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # not wanting a community around
        ("Je ne voudrais pas d'un Peul comme voisin.", "exclusion"),
        ("Personne ne veut de Peuls dans son quartier.", "exclusion"),
        ("Les Peuls ne méritent pas d'être maliens.", "exclusion"),
        ("I wouldn't want a Fulani as my neighbour.", "exclusion"),
        ("Nobody wants Fulani in this town.", "exclusion"),
        # spoken disgust
        ("Je supporte plus les Peuls, ils sont partout.", "derogation"),  # spoken French drops "ne"
        ("Ça me dégoûte de voir des Peuls au marché.", "derogation"),
        ("Fulani honestly make my skin crawl.", "derogation"),
        ("The Fulani are rotten to the core.", "derogation"),
    ],
)
def test_unwanted_presence_and_spoken_disgust_are_read(text, category):
    d = _peul(text)
    assert d is not None and d.score >= THRESHOLD and category in d.categories, (text, d)


@pytest.mark.parametrize(
    "text",
    ["Je ne voudrais pas d'ennuis avec mes voisins peuls.", "I wouldn't want my Fulani friends to leave."],
)
def test_not_wanting_something_else_is_not_exclusion(text):
    assert not _flagged(text), text


def test_hatred_of_a_community_said_in_the_first_person_is_derogation():
    d = _peul("J'ai la haine des Peuls.")
    assert d is not None and d.score >= THRESHOLD and d.categories == ["derogation"]
    assert not _flagged("J'ai la haine contre ceux qui attaquent les Peuls.")


def test_a_place_name_is_not_cut_into_a_community_name():
    # "diafarabe" (Diafarabé, a town): not "di af arabe"
    assert detect_text("Les pêcheurs de diafarabe sont des voleurs.") == []


def test_spoken_negation_of_an_insult_is_not_disgust():
    assert not _flagged("Je supporte pas qu'on insulte les Peuls.")


@pytest.mark.parametrize(
    "text",
    [
        "Dogon men have no manners whatsoever.",  # a good quality denied with "no"/"zero"
        "Les Peuls n'ont aucune éducation.",
        "Fulani people don't know the meaning of honesty.",
        "Le Burkina se porterait bien mieux sans les Peuls.",
        "Keep your Fulani neighbours away from my kids.",
        "Those Tuareg should be grateful we let them stay.",
        "Fulani are not worth my time.",
        "Fulani men are not real men.",
    ],
)
def test_denied_qualities_and_unwanted_presence_are_caught(text):
    assert detect_text(text) and detect_text(text)[0].score >= THRESHOLD, text


@pytest.mark.parametrize(
    "text",
    ["I don't know the meaning of this Fulani word.", "Les Peuls n'ont aucune chance face à la sécheresse."],
)
def test_not_knowing_a_word_or_having_no_chance_is_not_derogation(text):
    assert all(d.score < THRESHOLD for d in detect_text(text)), text


@pytest.mark.parametrize(
    "text",
    [
        # Hatred said through a negation.
        "There is nothing I hate more than Fulani.",
        "Il n'y a rien que je déteste plus que les Peuls.",
        "Has anyone ever met a Fulani who wasn't a thief?",
        "Quelqu'un a déjà rencontré un Peul qui n'était pas un voleur ?",
        # Hatred, disgust and contempt the author feels, named by a noun, in the past, or by what it does.
        "Je ressens un dégoût profond pour les Peuls.",
        "Petit déjà, je haïssais les Peuls.",
        "Voir des Peuls au marché me soulève le cœur.",
        "Je n'ai jamais pu blairer les Peuls.",
        "I have a deep contempt for the Fulani.",
        "I always despised Fulani.",
        "I'm disgusted by the sight of Fulani.",
        "The Fulani in this town fill me with disgust.",
        "Fulani herders are barely human.",
    ],
)
def test_hatred_disgust_and_contempt_the_author_feels_are_derogation(text):
    d = _peul(text)
    assert d is not None and d.score >= THRESHOLD, (text, d)


def test_hating_those_who_insult_a_community_is_not_derogation():
    assert not _flagged("Nothing I hate more than people who insult Fulani.")


def test_a_real_word_one_letter_from_a_name_is_not_the_name():
    # "peuples" is "peules" with a letter added, and "mature" is "maure": words of their own.
    assert detect_text("Les peuples du Sahel sont des voleurs de temps, disait-il.") == []
    assert detect_text("These mature men are thieves of time.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Je ressens un dégoût profond pour ce qu'on fait subir aux Peuls.",  # the disgust is for what is done
        "I have a deep contempt for those who attack the Fulani.",
        "I'm disgusted by the way Fulani are treated.",
    ],
)
def test_disgust_at_what_is_done_to_a_community_is_not_derogation(text):
    assert not _flagged(text), (text, _peul(text))


@pytest.mark.parametrize(
    "text",
    [
        "Les Peuls ne méritent aucun respect.",  # what every person deserves, denied
        "Les Peuls ne méritent pas la nationalité.",
        "Fulani deserve no mercy.",
        "Fulani don't deserve citizenship.",
    ],
)
def test_denying_a_community_what_every_person_deserves_is_caught(text):
    assert _flagged(text), (text, _peul(text))


@pytest.mark.parametrize(
    "text",
    [
        # Words taking up the group; the negation of another clause does not negate the insult.
        "Mon voisin est peul. Je ne lui prête plus rien, ces gens sont des voleurs.",
        "We have a Fulani driver now, and those people are thieves.",
    ],
)
def test_words_taking_up_a_community_named_before_carry_the_insult_to_it(text):
    assert _flagged(text), (text, _peul(text))


def test_words_taking_up_the_attackers_of_a_community_do_not_carry_it():
    assert not _flagged("Des jihadistes ont attaqué un village peul, ces gens sont des monstres.")


@pytest.mark.parametrize(
    "text",
    [
        # A verb of saying no longer reports after "but" or a new clause of the author's.
        "Fulani say they are herders but they are all thieves.",
        "You can tell Fulani are liars.",
    ],
)
def test_a_verb_of_saying_reports_only_its_own_clause(text):
    assert _flagged(text), (text, _peul(text))


@pytest.mark.parametrize(
    "text",
    [
        "« Les Peuls sont des menteurs » : je n'aurais pas dit mieux. On ne peut pas mieux dire.",
        "Il a dit que les Peuls sont des voleurs. Je partage à 100% ce qu'il a dit.",
        "He said Fulani are thieves. Couldn't have said it better.",
        "The mayor said Fulani should leave. 100% agree.",
        "« Les Peuls sont des menteurs » : ce n'est pas un cliché, c'est un fait.",
        "The 'kick the Fulani out' chants at the match make me proud.",
    ],
)
def test_agreeing_with_reported_hate_makes_it_the_authors(text):
    assert _flagged(text), (text, _peul(text))


@pytest.mark.parametrize(
    "text",
    [
        "I'm sickened by Fulani, always have been.",  # "I'm ... Fulani" is no identity when the disgust holds both
        "Fulani traders are liars.",  # who among the community
        "A Fulani is not a human being.",
    ],
)
def test_disgust_said_with_im_and_who_among_the_community_are_read(text):
    assert _flagged(text), (text, _peul(text))


def test_an_identity_with_an_insult_before_the_name_is_still_the_speakers():
    d = _peul("I'm a dirty Fulani and proud of it.")
    assert d is None or "dampener:identity" in _rules(d, "dampener"), d


@pytest.mark.parametrize(
    "text",
    [
        "Il y a desPeuls partout. Ce sont des voleurs.",  # a capital inside the token starts the name
        "TheFulani are thieves.",
        "Les Peulsn'ont aucune valeur.",  # an elided letter glued to the name
        "Les P e u l s n'ont aucune valeur.",
    ],
)
def test_a_name_glued_to_a_neighbouring_word_is_read(text):
    assert _flagged(text), (text, _peul(text))


def test_a_capital_inside_another_word_is_not_a_name():
    assert detect_text("McDonald est un voleur.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Deux Peuls ont ouvert une boutique à Ségou, boycottez ces escrocs.",  # a demonstrative points back
        "A Fulani family moved in next door, I won't let those savages near my kids.",  # and survives the negation
    ],
)
def test_an_insult_with_a_demonstrative_points_back_at_the_community(text):
    assert _flagged(text), (text, _peul(text))


def test_a_demonstrative_insult_after_another_group_is_not_aimed_at_the_community():
    assert not _flagged("Le JNIM a brûlé les champs des Peuls, ces criminels.")
    assert not _flagged("Des bandits ont attaqué des Peuls à Mopti, ces voleurs.")
