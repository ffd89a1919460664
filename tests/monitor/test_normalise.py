"""The normaliser folds obfuscations away and always knows where each character came from."""
from __future__ import annotations

import pytest

from monitor.detection.normalise import text_normalise, word_normalise


def _words(text: str) -> list[str]:
    return text_normalise(text).text.split()


def test_case_accents_and_sahelian_letters_are_folded():
    assert _words("Les PEULS, Fulɓe, Sénoufo, Songhaï, bɛɛ kɔnɔ Ŋaara") == [
        "les", "peuls,", "fulbe,", "senoufo,", "songhai,", "bee", "kono", "naara",
    ]


def test_bambara_palatal_nasal_becomes_ny():
    assert word_normalise("ɲinɛ") == "nyine"


def test_leetspeak_inside_words_becomes_letters():
    assert _words("P3uls k1ll $ales h@ine 3xt3rm1n3r") == ["peuls", "kill", "sales", "haine", "exterminer"]


def test_numbers_and_codes_are_left_alone():
    assert _words("2024 covid19 4x4 G5 5G") == ["2024", "covid19", "4x4", "g5", "5g"]


@pytest.mark.parametrize("spaced", ["p.e.u.l.s", "P e u l s", "p-e-u-l-s", "P. E. U. L. S", "p*e*u*l*s"])
def test_letters_spelled_out_one_by_one_are_joined(spaced):
    assert text_normalise(spaced).text.strip(" .") == "peuls"


def test_ordinary_short_words_are_not_joined():
    assert text_normalise("il y a-t-il un an").text == "il y a-t-il un an"


def test_letters_repeated_three_times_or_more_are_written_once():
    assert _words("Peuuuuuls dehooooors") == ["peuls", "dehors"]


def test_camel_case_hashtags_are_split_into_words():
    assert _words("#PeulsDehors #Bamako") == ["peuls", "dehors", "bamako"]


def test_zero_width_characters_and_variation_selectors_disappear():
    assert _words("Pe\u200bu\u200dls 🐍\ufe0f") == ["peuls", "🐍"]


def test_fullwidth_and_math_letters_and_lookalikes_become_plain_letters():
    # Fullwidth, mathematical bold, and a Cyrillic "Р" and "е".
    assert _words("Ｐｅｕｌｓ 𝐩𝐞𝐮𝐥𝐬 Реuls") == ["peuls", "peuls", "peuls"]


def test_french_inclusive_endings_are_folded_into_the_word():
    assert _words("Peul·e·s Peul.e.s Peul(e)s") == ["peules", "peules", "peules"]


def test_urls_and_mentions_are_not_read_as_words():
    norm = text_normalise("voir https://exemple.org/peuls-dehors et @peul_news")
    assert "peuls" not in norm.text and "peul" not in norm.text
    assert norm.text.split() == ["voir", "et"]


@pytest.mark.parametrize(
    "text",
    [
        "Les P3uls sont des 🐍🐍🐍 !!",
        "p.e.u.l.s d.e.h.o.r.s #PeulsDehors",
        "Pe\u200buuuuls ﬁn Straße Ｐｅｕｌｓ",
        "Fulɓe ɲinɛ https://x.co/a @someone Peul·e·s",
    ],
)
def test_every_normalised_character_points_inside_the_original(text):
    norm = text_normalise(text)
    assert len(norm.text) == len(norm.starts) == len(norm.ends)
    previous = 0
    for start, end in zip(norm.starts, norm.ends):
        assert 0 <= start <= end <= len(text)
        assert start >= previous  # the mapping never goes backwards
        previous = start


def test_a_span_of_the_normalised_text_maps_back_to_what_the_author_wrote():
    text = "Ces P 3 u l s sont des rats"
    norm = text_normalise(text)
    start = norm.text.index("peuls")
    assert norm.original_slice(start, start + len("peuls")) == "P 3 u l s"


def test_a_folded_hashtag_word_maps_back_to_its_original_letters():
    text = "#PeulsDehors"
    norm = text_normalise(text)
    start = norm.text.index("dehors")
    assert norm.original_slice(start, start + len("dehors")) == "Dehors"


def test_an_empty_span_is_refused():
    with pytest.raises(ValueError):
        text_normalise("abc").original_span(1, 1)
