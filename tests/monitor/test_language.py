"""Offline language guesses for short Sahel posts."""
from __future__ import annotations

import pytest

from monitor.detection.language import language_detect


@pytest.mark.parametrize(
    "text",
    [
        "Les Aigles du Mali ont gagné 2-0 hier soir au stade du 26 mars.",
        "Coupure d'électricité à Kalaban Coura depuis ce matin, c'est pas possible",
        "Il faut que les autorités disent la vérité sur l'attaque",
    ],
)
def test_french_posts_are_french(text):
    assert language_detect(text) == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "The army says the situation at Bamako airport is under control.",
        "We are all waiting for news from our families in Mopti",
    ],
)
def test_english_posts_are_english(text):
    assert language_detect(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "An bɛ taa sugu la sini, i bɛ na wa?",
        "Mɔgɔw ka kan ka lafiya sɔrɔ",
        "A ye a fɔ ko a tɛ na bi",  # plain letters, Bambara function words only
    ],
)
def test_bambara_posts_are_bambara(text):
    assert language_detect(text) == "bm"


def test_bambara_mixed_with_french_leans_bambara_when_bambara_carries_it():
    assert language_detect("An ka Fulaw bɛɛ faga, u ye bandiw ye, c'est tout") == "bm"


def test_fula_posts_are_fula():
    assert language_detect("Miɗo yiɗi yimɓe ɓe fof, jam waali") == "ff"


def test_arabic_script_is_arabic():
    assert language_detect("الوضع في باماكو هادئ اليوم") == "ar"


def test_nko_script_is_bambara():
    assert language_detect("ߒ ߓߍ߫ ߕߊ߯ ߛߏ߫") == "bm"


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡", "123 456", "ok", "Ina sauka lafiya, ƙasar nan"])
def test_unsure_or_other_languages_are_other(text):
    assert language_detect(text) == "other"


def test_urls_mentions_and_hashtags_do_not_vote():
    assert language_detect("https://the.and.is.of.example.com @the_and #TheAndIs") == "other"
