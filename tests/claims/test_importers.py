"""Importing fact-checks: ClaimReview JSON-LD (object, list, @graph, JSONL) and CSV."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from monitor.claims.importers import verdict_from_rating, verdict_from_words
from monitor.claims.models import Claim
from monitor.claims.services import claims_import


def review(n: int, claim: str, rating: str = "False", **extra) -> dict:
    data = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": f"https://factcheck.example/review/{n}",
        "claimReviewed": claim,
        "reviewRating": {"@type": "Rating", "alternateName": rating},
        "author": {"@type": "Organization", "name": "Sahel Check"},
        "datePublished": "2025-03-14",
        "inLanguage": "fr",
        "itemReviewed": {
            "@type": "Claim",
            "author": {"@type": "Person", "name": "Un compte anonyme"},
            "datePublished": "2025-03-12T08:00:00Z",
            "appearance": [{"@type": "CreativeWork", "url": "https://x.example/status/1"}],
        },
    }
    data.update(extra)
    return data


@pytest.fixture
def graph_file(tmp_path):
    path = tmp_path / "reviews.jsonld"
    path.write_text(json.dumps({"@context": "https://schema.org", "@graph": [
        review(1, "Plus de 300 civils tués à Kessouma.", "Faux"),
        review(2, "La vidéo a été filmée à Bankass.", "Trompeur"),
    ]}), encoding="utf-8")
    return path


def test_it_imports_a_claimreview_graph_with_every_field(db, graph_file):
    result = claims_import(path=graph_file)

    assert (result.created, result.skipped) == (2, [])
    claim = Claim.objects.get(review_url="https://factcheck.example/review/1")
    assert claim.text == "Plus de 300 civils tués à Kessouma."
    assert (claim.verdict, claim.rating_label, claim.language) == ("false", "Faux", "fr")
    assert claim.publisher == "Sahel Check" and claim.claim_author == "Un compte anonyme"
    assert claim.url == "https://x.example/status/1"
    assert claim.published_at.isoformat() == "2025-03-14T00:00:00+00:00"
    assert claim.claimed_at.isoformat() == "2025-03-12T08:00:00+00:00"
    assert Claim.objects.get(review_url__endswith="/2").verdict == "misleading"


def test_importing_the_same_file_twice_creates_no_duplicates(db, graph_file):
    claims_import(path=graph_file)
    again = claims_import(path=graph_file)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Claim.objects.count() == 2


def test_a_corrected_review_updates_the_claim_in_place(db, tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(review(1, "Ancienne formulation", "Faux")), encoding="utf-8")
    claims_import(path=path)
    path.write_text(json.dumps(review(1, "Nouvelle formulation", "Trompeur")), encoding="utf-8")

    result = claims_import(path=path)

    assert result.updated == 1
    claim = Claim.objects.get()
    assert (claim.text, claim.verdict) == ("Nouvelle formulation", "misleading")


def test_a_list_and_jsonl_are_read_and_claims_without_url_are_keyed_by_hash(db, tmp_path):
    listed = tmp_path / "list.json"
    no_url = review(3, "Sans URL", "False")
    del no_url["url"]
    listed.write_text(json.dumps([review(1, "Un", "False"), no_url]), encoding="utf-8")
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(json.dumps(review(n, f"Ligne {n}", "True")) for n in (4, 5)), encoding="utf-8")

    claims_import(path=listed)
    claims_import(path=lines)
    claims_import(path=listed)

    assert Claim.objects.count() == 4
    assert Claim.objects.get(text="Sans URL").source_id.startswith("sha256:")
    assert set(Claim.objects.filter(text__startswith="Ligne").values_list("verdict", flat=True)) == {"true"}


def test_malformed_entries_are_reported_with_their_position_and_skipped(db, tmp_path):
    path = tmp_path / "mixed.json"
    no_claim = review(2, "x")
    del no_claim["claimReviewed"]
    path.write_text(json.dumps([
        review(1, "Bonne entrée", "Faux"),
        no_claim,
        review(3, "Note inconnue", "Bof"),
        review(4, "Date cassée", "Faux", datePublished="le 3 mars"),
        "pas un objet",
        {"@type": "NewsArticle", "headline": "autre chose"},
        review(7, "Autre bonne entrée", "Faux"),
    ]), encoding="utf-8")
    out, err = StringIO(), StringIO()

    call_command("import_claims", str(path), stdout=out, stderr=err)

    assert Claim.objects.count() == 2
    errors = err.getvalue()
    for position, reason in [("item 2", "claimReviewed"), ("item 3", "Bof"), ("item 4", "datePublished"),
                             ("item 5", "ClaimReview object"), ("item 6", "NewsArticle")]:
        assert f"{position}: skipped" in errors and reason in errors
    assert "2 created, 0 updated, 0 unchanged, 5 skipped" in out.getvalue()


def test_a_broken_jsonl_line_is_skipped_and_the_rest_imported(db, tmp_path):
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps(review(1, "Entière", "Faux")) + "\n{\"@type\": \"ClaimRev", encoding="utf-8")

    result = claims_import(path=path)

    assert result.created == 1 and [b.position for b in result.skipped] == ["line 2"]


def test_csv_import_with_documented_columns(db, tmp_path):
    path = tmp_path / "claims.csv"
    path.write_text(
        "claim,verdict,language,published_at,publisher,url,review_url,invented\n"
        "Des Dozos ont empoisonné les puits,Non prouvé,fr,2025-02-01,Sahel Check,,https://fc.example/1,yes\n"
        "Fulani herders kidnapped 40 girls,false,en,,Sahel Check,https://x.example/2,,\n"
        ",false,fr,,,,,\n"
        "Bad verdict,maybe,fr,,,,,\n",
        encoding="utf-8",
    )
    err = StringIO()

    call_command("import_claims", str(path), stdout=StringIO(), stderr=err)
    call_command("import_claims", str(path), stdout=StringIO(), stderr=StringIO())

    assert Claim.objects.count() == 2
    dozo = Claim.objects.get(review_url="https://fc.example/1")
    assert (dozo.verdict, dozo.invented, dozo.language) == ("unproven", True, "fr")
    assert Claim.objects.get(language="en").source_id.startswith("sha256:")
    assert "line 4: skipped: claim is empty" in err.getvalue()
    assert "line 5: skipped: unknown verdict 'maybe'" in err.getvalue()


def test_verdicts_from_words_and_ratings():
    assert verdict_from_words("Faux") == "false"
    assert verdict_from_words("Partly false") == "misleading"
    assert verdict_from_words("Faux : la vidéo date de 2019") == "false"
    assert verdict_from_words("Mostly True") == "true"
    assert verdict_from_words("Sans rapport") is None
    assert verdict_from_rating(1, best=5, worst=1) == "false"
    assert verdict_from_rating(3, best=5, worst=1) == "misleading"
    assert verdict_from_rating(5) == "true"
    assert verdict_from_rating("x") is None


def test_numeric_rating_is_used_when_the_label_is_missing(db, tmp_path):
    data = review(1, "Notée 1 sur 5", "")
    data["reviewRating"] = {"ratingValue": "1", "bestRating": "5", "worstRating": "1"}
    path = tmp_path / "num.json"
    path.write_text(json.dumps(data), encoding="utf-8")

    claims_import(path=path)

    assert Claim.objects.get().verdict == "false"


def test_load_claims_imports_the_invented_seed_bank_once(db):
    out = StringIO()
    call_command("load_claims", stdout=out)
    call_command("load_claims", stdout=out)

    claims = list(Claim.objects.all())
    assert 15 <= len(claims) <= 30
    assert all(c.invented for c in claims)
    assert {c.language for c in claims} == {"fr", "en"}
    assert "0 created" in out.getvalue().splitlines()[-1]
