"""Matching posts to the claim bank, through the real pipeline and the real embedding model."""
from __future__ import annotations

import pytest

from monitor.claims.models import ClaimMatch
from monitor.claims.services import claim_match_review, posts_match_claims
from monitor.models import AuditEvent, Flag

# Seed claims by the number at the end of their review URL (seeds/claims.jsonl).
TOGUEL = "2"  # fr, false: the attackers of Toguel were Peul herders from Sadiara
KIDNAP = "12"  # en, false: Fulani herders kidnapped 40 schoolgirls in Diafarabé
BOULKESSI = "11"  # fr, TRUE: at least 20 soldiers killed at Boulkessi


def misinformation_flags(post):
    return list(Flag.objects.filter(post=post, kind=Flag.Kind.MISINFORMATION))


def test_french_and_english_paraphrases_are_flagged_and_linked_to_the_claim(seeded_claims, process):
    fr, fr_typos, en = process(
        "Toguel : ce sont des éleveurs peuls venus de Sadiara qui ont attaqué le village, tout le monde le sait.",
        "Les assaillants de Toguel étaient des éleveurs peul venus de Sadiarra !!",
        "40 schoolgirls were kidnapped by Fulani herders in Diafarabe yesterday. Share!",
    )

    for post, key in ((fr, TOGUEL), (fr_typos, TOGUEL), (en, KIDNAP)):
        claim = seeded_claims[key]
        [flag] = misinformation_flags(post)
        assert (flag.category, flag.community_id, flag.detector) == ("false_claim", None, "claims-v1")
        match = ClaimMatch.objects.get(post=post, flag=flag)
        assert match.claim == claim and match.stance == "asserts" and match.status == "open"
        assert match.score >= match.method["threshold"]
        [why] = [e for e in flag.evidence if "claim_id" in e]
        assert (why["claim_id"], why["verdict"]) == (claim.pk, "false")
        spans = [e for e in flag.evidence if "start" in e]
        assert spans and all(post.text[e["start"]: e["end"]] == e["text"] for e in spans)
        assert post.status == "processed"


@pytest.mark.parametrize("text", [
    "C'est une intox : les assaillants de Toguel n'étaient pas des éleveurs peuls de Sadiara.",
    "Faux ! Contrairement à ce qui circule, les assaillants de Toguel n'étaient pas des éleveurs peuls de Sadiara.",
    "Fact-check: no, Fulani herders did not kidnap 40 schoolgirls in Diafarabé. The story is false.",
    (
        "Arrêtez de relayer « les assaillants de Toguel étaient des éleveurs peuls venus de Sadiara », "
        "c'est de la manipulation."
    ),
])
def test_a_post_that_quotes_a_claim_to_debunk_it_is_not_flagged(seeded_claims, process, text):
    [post] = process(text)

    assert misinformation_flags(post) == []
    matches = list(ClaimMatch.objects.filter(post=post))
    assert matches and all(m.stance == "debunks" and m.flag_id is None for m in matches)
    assert any(e["role"] == "dampener" for m in matches for e in m.evidence)


def test_unrelated_posts_and_true_claims_raise_no_misinformation_flag(seeded_claims, process):
    market, boulkessi = process(
        "Le marché de Tombouctou est très animé ce matin, les prix du riz baissent.",
        "Boulkessi : au moins 20 soldats tués dans l'attaque du camp militaire.",
    )

    assert misinformation_flags(market) == [] and not ClaimMatch.objects.filter(post=market).exists()
    # A post repeating a claim rated true is matched (researchers can list it) but not flagged.
    assert ClaimMatch.objects.get(post=boulkessi).claim == seeded_claims[BOULKESSI]
    assert misinformation_flags(boulkessi) == []


def test_matching_twice_gives_the_same_rows(seeded_claims, process):
    posts = process(
        "Toguel : ce sont des éleveurs peuls venus de Sadiara qui ont attaqué le village.",
        "C'est faux : les assaillants de Toguel n'étaient pas des éleveurs peuls de Sadiara.",
    )
    ids = [p.pk for p in posts]
    before = sorted(ClaimMatch.objects.values_list("id", "post_id", "claim_id", "stance", "flag_id", "score"))
    flags = sorted(Flag.objects.values_list("id", flat=True))

    again = posts_match_claims(post_ids=ids)

    assert again.flags_created == 0
    assert sorted(ClaimMatch.objects.values_list("id", "post_id", "claim_id", "stance", "flag_id", "score")) == before
    assert sorted(Flag.objects.values_list("id", flat=True)) == flags


def test_a_rejected_match_is_kept_rejected_and_raises_no_new_flag(seeded_claims, process, lead):
    [post] = process("Toguel : ce sont des éleveurs peuls venus de Sadiara qui ont attaqué le village.")
    match = ClaimMatch.objects.get(post=post)
    Flag.objects.filter(post=post, kind=Flag.Kind.MISINFORMATION).delete()

    claim_match_review(match_id=match.pk, status="rejected", actor=lead)
    posts_match_claims(post_ids=[post.pk])

    match.refresh_from_db()
    assert match.status == "rejected" and misinformation_flags(post) == []
    assert AuditEvent.objects.filter(action="claim_match.rejected", object_id=str(match.pk)).exists()


def test_an_english_post_reaches_a_french_claim_on_its_own(seeded_claims, process):
    # The default embedding model is multilingual: a translation is close to the claim.
    [post] = process("The attackers of Toguel were Fulani herders who came from Sadiara.")
    [flag] = misinformation_flags(post)
    assert ClaimMatch.objects.get(post=post, flag=flag).claim == seeded_claims[TOGUEL]


@pytest.mark.parametrize("text", [
    "L3S 4SS4ILL4NTS DE T0GUEL : des é.l.e.v.e.u.r.s P3ULS venus de S4DIARA !!",
    "LES ASSAILLANTS DE TOGUEL ÉTAIENT DES ÉLEVEURS PEULS DE SADIARA",
    "les assaillant de toguel c t des eleveur peul de sadiara",
])
def test_a_shouted_obfuscated_or_unaccented_repeat_is_read_through_its_folded_text(seeded_claims, process, text):
    from monitor.embeddings import get_embedder

    claim = seeded_claims[TOGUEL]
    [post] = process(text)
    [flag] = misinformation_flags(post)
    match = ClaimMatch.objects.get(post=post, flag=flag)
    assert match.claim == claim
    # The original wording alone is far from the claim; its folded form is what brought it close.
    embedder = get_embedder()
    raw = float(embedder.encode([text])[0] @ embedder.encode([claim.text])[0])
    assert match.method["cosine"] > raw + 0.1


def test_a_confirmed_match_becomes_an_exemplar_for_the_next_posts(seeded_claims, process, make_post, lead):
    # Bambara is not among the model's languages: a Bambara post does not reach the French claim on its own.
    claim = seeded_claims[TOGUEL]
    [first] = process("Toguel kɛlɛ kɛbagaw ye Sadiara Fulaw ye")
    assert not ClaimMatch.objects.filter(post=first, claim=claim).exists()

    # A reviewer links it to the claim and confirms it...
    match = ClaimMatch.objects.create(post=first, claim=claim, score=0.0, method={"name": "manual"})
    claim_match_review(match_id=match.pk, status="confirmed", actor=lead)

    # ...and the next Bambara posts repeating it are matched to the French claim.
    [second] = process("Toguel kɛlɛ kɛbagaw ye Sadiara Fulaw ye dɛ, aw y'a lakali bɛɛ ye!")
    [flag] = misinformation_flags(second)
    linked = ClaimMatch.objects.get(post=second, flag=flag)
    assert linked.claim == claim and linked.method["exemplar"] == f"post:{first.pk}"


def test_the_task_chain_matches_claims_once_even_when_run_twice(seeded_claims, make_post):
    from workers.tasks import posts_detect_task, posts_embed_task

    post = make_post(text="Fulani herders kidnapped 40 schoolgirls in Diafarabé yesterday, the army is silent.")
    posts_embed_task.delay([post.pk])
    posts_detect_task.delay([post.pk])

    assert len(misinformation_flags(post)) == 1
    assert ClaimMatch.objects.filter(post=post).count() == 1


def test_no_claims_means_no_work(db, make_post):
    post = make_post(text="Fulani herders kidnapped 40 schoolgirls")
    assert posts_match_claims(post_ids=[post.pk]).posts == 0


def test_a_flag_confirmed_in_the_queue_makes_its_post_an_exemplar(seeded_claims, process, reviewer, client):
    from django.urls import reverse

    first_text = ("Toguel : ce sont des éleveurs peuls venus de Sadiara qui ont attaqué le village, "
                  "ils sont arrivés à moto vers 5 heures du matin.")
    [first] = process(first_text)
    [flag] = misinformation_flags(first)

    client.force_login(reviewer)
    response = client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
                           {"action": "confirm", "reason_code": "misinformation"})
    assert response.status_code == 302
    assert ClaimMatch.objects.get(post=first, flag=flag).status == "confirmed"

    # A near-copy of the confirmed post is closer to it than to the claim's own wording.
    [second] = process(
        "Toguel: des éleveurs peuls venus de Sadiara ont attaqué le village, arrivés à moto vers 5h du matin"
    )
    [flag2] = misinformation_flags(second)
    linked = ClaimMatch.objects.get(post=second, flag=flag2)
    assert linked.claim == seeded_claims[TOGUEL] and linked.method["exemplar"] == f"post:{first.pk}"


def test_a_dismissed_flag_rejects_the_match_and_is_not_raised_again(seeded_claims, process, reviewer, client):
    from django.urls import reverse

    [post] = process("Toguel : ce sont des éleveurs peuls venus de Sadiara qui ont attaqué le village.")
    [flag] = misinformation_flags(post)
    client.force_login(reviewer)
    client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
                {"action": "dismiss", "reason_code": "not_violation_reporting"})
    match = ClaimMatch.objects.get(post=post)
    assert match.status == "rejected"

    Flag.objects.filter(pk=flag.pk).delete()
    posts_match_claims(post_ids=[post.pk])
    assert misinformation_flags(post) == []
