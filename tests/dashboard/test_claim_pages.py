"""Claim bank pages: who may read, edit and export; escaping; claims beside misinformation flags."""
from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from monitor.claims.models import Claim, ClaimMatch
from monitor.models import AuditEvent, Flag

XSS_CLAIM = 'Les Peuls <script>alert("c")</script> ont attaqué <img src=x onerror="alert(3)">'
XSS_POST = 'Partagez : les Peuls <script>alert("p")</script> =HYPERLINK("http://evil") ont attaqué'


@pytest.fixture
def claim(db):
    return Claim.objects.create(
        text=XSS_CLAIM, verdict=Claim.Verdict.FALSE, rating_label="Faux", language="fr", publisher="Vérif <b>Sahel</b>",
        review_url="https://factcheck.example.org/toguel", source_id="url:https://factcheck.example.org/toguel",
    )


@pytest.fixture
def misinformation_flag(make_post, claim):
    post = make_post(text=XSS_POST, language="fr", author_handle="@real_handle")
    flag = Flag.objects.create(
        post=post, kind=Flag.Kind.MISINFORMATION, community=None, category=Flag.Category.FALSE_CLAIM,
        categories=[Flag.Category.FALSE_CLAIM], score=0.8, detector="claims-v1", priority=3.0, evidence=[],
    )
    ClaimMatch.objects.create(post=post, claim=claim, score=0.81, stance=ClaimMatch.Stance.ASSERTS, flag=flag,
                              method={"name": "claims-v1", "exemplar": "claim"})
    return flag


def client_for(client, request, persona):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


def claim_urls(claim):
    return {
        "claims": reverse("dashboard:claims"),
        "claim": reverse("dashboard:claim", kwargs={"claim_id": claim.pk}),
        "claim_create": reverse("dashboard:claim_create"),
        "claim_edit": reverse("dashboard:claim_edit", kwargs={"claim_id": claim.pk}),
        "export_csv": reverse("dashboard:claim_export", kwargs={"claim_id": claim.pk, "fmt": "csv"}),
        "export_jsonl": reverse("dashboard:claim_export", kwargs={"claim_id": claim.pk, "fmt": "jsonl"}),
    }


ACCESS = {
    # page: status for reviewer, lead, researcher, outsider
    "claims": {"reviewer": 403, "lead": 200, "researcher": 200, "outsider": 403},
    "claim": {"reviewer": 403, "lead": 200, "researcher": 200, "outsider": 403},
    "claim_create": {"reviewer": 403, "lead": 200, "researcher": 403, "outsider": 403},
    "claim_edit": {"reviewer": 403, "lead": 200, "researcher": 403, "outsider": 403},
    "export_csv": {"reviewer": 403, "lead": 200, "researcher": 200, "outsider": 403},
    "export_jsonl": {"reviewer": 403, "lead": 200, "researcher": 200, "outsider": 403},
}


@pytest.mark.parametrize("page", list(ACCESS))
@pytest.mark.parametrize("persona", ["reviewer", "lead", "researcher", "outsider"])
def test_the_access_matrix(client, request, claim, page, persona):
    response = client_for(client, request, persona).get(claim_urls(claim)[page])
    assert response.status_code == ACCESS[page][persona]


@pytest.mark.parametrize("page", list(ACCESS))
def test_anonymous_users_are_sent_to_login(client, claim, page):
    response = client.get(claim_urls(claim)[page])
    assert response.status_code == 302 and response.url.startswith(reverse("dashboard:login"))


def test_the_nav_shows_claims_to_those_who_may_read_them(client, researcher, reviewer):
    client.force_login(researcher)
    assert reverse("dashboard:claims") in client.get(reverse("dashboard:search")).content.decode()
    client.force_login(reviewer)
    assert reverse("dashboard:claims") not in client.get(reverse("dashboard:queue")).content.decode()


def test_a_lead_creates_a_claim_and_the_change_is_audited(client, lead):
    client.force_login(lead)
    response = client.post(reverse("dashboard:claim_create"), {
        "text": "Les dozos ont brûlé le marché de Mopti hier.", "verdict": "false", "rating_label": "Faux",
        "language": "fr", "publisher": "Vérif Sahel", "review_url": "https://factcheck.example.org/mopti",
    })

    claim = Claim.objects.get(review_url="https://factcheck.example.org/mopti")
    assert response.status_code == 302 and response.url == reverse("dashboard:claim", kwargs={"claim_id": claim.pk})
    assert claim.source_id == "url:https://factcheck.example.org/mopti" and not claim.invented
    event = AuditEvent.objects.get(action="claim.create", object_id=str(claim.pk))
    assert event.actor == lead and event.data["fields"]["verdict"] == "false"


def test_a_lead_edits_a_claim_and_the_audit_names_what_changed(client, lead, claim):
    client.force_login(lead)
    response = client.post(reverse("dashboard:claim_edit", kwargs={"claim_id": claim.pk}), {
        "text": claim.text, "verdict": "misleading", "rating_label": "Trompeur", "language": "fr",
        "publisher": claim.publisher, "review_url": claim.review_url,
    })

    assert response.status_code == 302
    claim.refresh_from_db()
    assert (claim.verdict, claim.rating_label) == ("misleading", "Trompeur")
    event = AuditEvent.objects.get(action="claim.update", object_id=str(claim.pk))
    assert event.data["changes"] == {"verdict": ["false", "misleading"], "rating_label": ["Faux", "Trompeur"]}


def test_saving_without_a_change_writes_no_event(client, lead, claim):
    client.force_login(lead)
    client.post(reverse("dashboard:claim_edit", kwargs={"claim_id": claim.pk}), {
        "text": claim.text, "verdict": "false", "rating_label": "Faux", "language": "fr",
        "publisher": claim.publisher, "review_url": claim.review_url,
    })
    assert not AuditEvent.objects.filter(action="claim.update").exists()


@pytest.mark.parametrize("field,value,message", [
    ("text", "   ", "This field is required"),
    ("text", "x" * 2001, "at most 2000"),
    ("verdict", "fake", "Select a valid choice"),
    ("review_url", "javascript:alert(1)", "Enter a valid URL"),
    ("published_at", "yesterday", "Enter a valid date"),
])
def test_invalid_input_is_refused_with_a_clear_error(client, lead, field, value, message):
    client.force_login(lead)
    data = {"text": "Les dozos ont brûlé le marché de Mopti.", "verdict": "false", field: value}
    response = client.post(reverse("dashboard:claim_create"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Claim.objects.exists() and not AuditEvent.objects.filter(action="claim.create").exists()


def test_the_same_fact_check_twice_is_refused(client, lead, claim):
    client.force_login(lead)
    response = client.post(reverse("dashboard:claim_create"), {
        "text": "autre texte", "verdict": "false", "review_url": claim.review_url,
    })
    assert response.status_code == 400 and "already in the bank" in response.content.decode()
    assert Claim.objects.count() == 1


def test_a_researcher_reads_a_claim_and_its_posts_escaped(client, researcher, misinformation_flag, claim):
    client.force_login(researcher)
    page = client.get(reverse("dashboard:claim", kwargs={"claim_id": claim.pk})).content.decode()

    assert "<script>" not in page and "<img src=x" not in page and "<b>Sahel</b>" not in page
    assert "&lt;script&gt;alert(&quot;c&quot;)" in page and "&lt;script&gt;alert(&quot;p&quot;)" in page
    assert 'href="https://factcheck.example.org/toguel"' in page
    assert misinformation_flag.post.author_pseudonym in page and "@real_handle" not in page
    assert "repeats the claim" in page and "0.810" in page
    assert 'id="claim-edit"' not in page  # researchers read, leads edit


def test_a_review_url_that_is_not_http_is_never_a_link(client, researcher, claim):
    Claim.objects.filter(pk=claim.pk).update(review_url="javascript:alert(1)")
    client.force_login(researcher)
    page = client.get(reverse("dashboard:claim", kwargs={"claim_id": claim.pk})).content.decode()
    assert 'href="javascript' not in page and "javascript:alert(1)" in page


def test_matched_posts_are_paginated(client, researcher, claim, make_post):
    for i in range(30):
        ClaimMatch.objects.create(post=make_post(text=f"post {i}"), claim=claim, score=0.9 - i / 100)
    client.force_login(researcher)
    url = reverse("dashboard:claim", kwargs={"claim_id": claim.pk})

    first, second = client.get(url), client.get(url + "?page=2")

    assert len(first.context["page"].object_list) == 25 and len(second.context["page"].object_list) == 5
    assert "page 1 of 2" in first.content.decode()


def test_the_exports_are_formula_safe_and_pseudonymous(client, researcher, misinformation_flag, claim):
    client.force_login(researcher)
    csv_body = b"".join(client.get(reverse("dashboard:claim_export", kwargs={"claim_id": claim.pk, "fmt": "csv"}))
                        .streaming_content).decode()
    [row] = list(csv.DictReader(io.StringIO(csv_body)))
    assert row["text"] == XSS_POST and row["claim"] == XSS_CLAIM  # starts with a letter: unchanged
    assert row["author_pseudonym"] == misinformation_flag.post.author_pseudonym
    assert "@real_handle" not in csv_body

    Claim.objects.filter(pk=claim.pk).update(text='=HYPERLINK("http://evil","x")')
    csv_body = b"".join(client.get(reverse("dashboard:claim_export", kwargs={"claim_id": claim.pk, "fmt": "csv"}))
                        .streaming_content).decode()
    assert list(csv.DictReader(io.StringIO(csv_body)))[0]["claim"].startswith("'=")

    jsonl = client.get(reverse("dashboard:claim_export", kwargs={"claim_id": claim.pk, "fmt": "jsonl"}))
    [obj] = [json.loads(line) for line in b"".join(jsonl.streaming_content).decode().splitlines()]
    assert obj["flag_id"] == misinformation_flag.pk and obj["stance"] == "asserts" and "author_handle" not in obj


def test_an_unknown_export_format_is_404(client, researcher, claim):
    client.force_login(researcher)
    assert client.get(reverse("dashboard:claim_export", kwargs={"claim_id": claim.pk, "fmt": "xlsx"})).status_code == 404


# --- claims beside flags -----------------------------------------------------


def test_the_queue_shows_the_claim_beside_a_misinformation_flag(client, reviewer, misinformation_flag):
    client.force_login(reviewer)
    page = client.get(reverse("dashboard:queue")).content.decode()
    assert "Repeats a claim rated" in page and "Vérif &lt;b&gt;Sahel&lt;/b&gt;" in page
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;c&quot;)" in page


def test_the_flag_page_shows_claim_verdict_publisher_and_fact_check(client, reviewer, misinformation_flag):
    client.force_login(reviewer)
    page = client.get(reverse("dashboard:flag", kwargs={"flag_id": misinformation_flag.pk})).content.decode()
    assert 'id="flag-claim"' in page and "false" in page and "Vérif &lt;b&gt;Sahel&lt;/b&gt;" in page
    assert 'href="https://factcheck.example.org/toguel"' in page
    assert "<script>" not in page and "<img src=x" not in page


def test_a_fact_check_url_that_is_not_http_is_not_a_link_on_the_flag_page(client, reviewer, misinformation_flag,
                                                                         claim):
    Claim.objects.filter(pk=claim.pk).update(review_url="javascript:alert(1)")
    client.force_login(reviewer)
    page = client.get(reverse("dashboard:flag", kwargs={"flag_id": misinformation_flag.pk})).content.decode()
    assert 'id="flag-claim"' in page and 'href="javascript' not in page


@pytest.mark.parametrize("action,reason,status", [
    ("confirm", "misinformation", "confirmed"),
    ("dismiss", "not_violation_counter_speech", "rejected"),
    ("escalate", "misinformation", "open"),
])
def test_deciding_the_flag_decides_the_claim_match(client, reviewer, misinformation_flag, action, reason, status):
    client.force_login(reviewer)
    client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": misinformation_flag.pk}),
                {"action": action, "reason_code": reason})

    match = ClaimMatch.objects.get(flag=misinformation_flag)
    assert match.status == status
    audited = AuditEvent.objects.filter(action=f"claim_match.{status}", object_id=str(match.pk)).exists()
    assert audited == (status != "open")


def test_reverting_the_decision_reopens_the_claim_match(reviewer, lead, misinformation_flag):
    from monitor.review import decision_revert, flag_decide

    decision = flag_decide(flag_id=misinformation_flag.pk, user=reviewer, action="confirm",
                           reason_code="misinformation")
    assert ClaimMatch.objects.get(flag=misinformation_flag).status == "confirmed"

    decision_revert(decision_id=decision.pk, user=lead)
    assert ClaimMatch.objects.get(flag=misinformation_flag).status == "open"
    assert AuditEvent.objects.filter(action="claim_match.open").exists()


def test_the_queue_costs_the_same_with_many_misinformation_flags(client, reviewer, claim, make_post,
                                                                 django_assert_max_num_queries):
    def add(n):
        for i in range(n):
            post = make_post(text=f"rumeur {i}")
            flag = Flag.objects.create(post=post, kind=Flag.Kind.MISINFORMATION, community=None,
                                       category=Flag.Category.FALSE_CLAIM, score=0.7, detector="claims-v1",
                                       priority=1.0, evidence=[])
            ClaimMatch.objects.create(post=post, claim=claim, score=0.7, flag=flag)

    client.force_login(reviewer)
    add(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("dashboard:queue")).status_code == 200
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("dashboard:queue")).content.decode()
    assert page.count("Repeats a claim rated") == 22
