"""The review queue's pages and endpoints: access for every role, claims, JSON decisions,
cluster actions, reverts, wellbeing settings, the audit export, quality, query counts."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from monitor.models import AuditEvent, Cluster, Community, Flag, QualityReview, ReviewDecision, ReviewerSettings
from monitor.review import cluster_decide, flag_claim, flag_decide

PERSONAS = ["anonymous", "reviewer", "lead", "researcher", "outsider"]
JSON = {"HTTP_ACCEPT": "application/json"}


def login(client, request, persona):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


@pytest.fixture
def cluster_flags(make_post, make_flag):
    cluster = Cluster.objects.create(size=3)
    return [
        make_flag(post=make_post(text=f"Chassez les Peuls {i}", cluster=cluster), priority=10 - i,
                  text=f"Chassez les Peuls {i}")
        for i in range(3)
    ]


# --- every page and endpoint against every role ---------------------------------------

def _endpoints(flag, decision, batch, sample, target):
    """(name, method, url, data, expected status per persona)."""
    review_get = {"anonymous": 302, "reviewer": 200, "lead": 200, "researcher": 403, "outsider": 403}
    lead_get = {"anonymous": 302, "reviewer": 403, "lead": 200, "researcher": 403, "outsider": 403}
    return [
        ("queue", "get", reverse("dashboard:queue"), None, review_get),
        ("flag", "get", reverse("dashboard:flag", args=[flag.pk]), None, review_get),
        ("claim", "post", reverse("dashboard:flag_claim", args=[flag.pk]), {},
         {"anonymous": 302, "reviewer": 200, "lead": 200, "researcher": 403, "outsider": 403}),
        ("release", "post", reverse("dashboard:flag_release", args=[flag.pk]), {},
         {"anonymous": 302, "reviewer": 302, "lead": 302, "researcher": 403, "outsider": 403}),
        ("cluster preview", "post", reverse("dashboard:cluster_decide", args=[flag.pk]),
         {"action": "confirm", "reason_code": "exclusion"}, review_get),
        # Carol's batch: another reviewer may not undo it, a lead may.
        ("undo", "post", reverse("dashboard:batch_undo", args=[batch]), {},
         {"anonymous": 302, "reviewer": 403, "lead": 302, "researcher": 403, "outsider": 403}),
        ("revert", "post", reverse("dashboard:decision_revert", args=[decision.pk]), {},
         {"anonymous": 302, "reviewer": 403, "lead": 302, "researcher": 403, "outsider": 403}),
        ("settings", "get", reverse("dashboard:settings"), None,
         {"anonymous": 302, "reviewer": 200, "lead": 200, "researcher": 200, "outsider": 200}),
        # A lead hands the flag to carol; nobody else may.
        ("reassign", "post", reverse("dashboard:flag_reassign", args=[flag.pk]), {"to_user": target.pk},
         {"anonymous": 302, "reviewer": 403, "lead": 302, "researcher": 403, "outsider": 403}),
        ("audit", "get", reverse("dashboard:audit"), None, lead_get),
        ("audit filtered", "get", reverse("dashboard:audit") + "?action=flag.&actor=carol&since=2020-01-01",
         None, lead_get),
        ("audit export", "get", reverse("dashboard:audit_export"), None, lead_get),
        ("audit export filtered", "get", reverse("dashboard:audit_export") + "?action=flag.decide&until=2999-01-01",
         None, lead_get),
        ("quality", "get", reverse("dashboard:quality"), None, review_get),
        ("quality sample", "post", reverse("dashboard:quality_sample"), {"n": 1},
         {"anonymous": 302, "reviewer": 403, "lead": 302, "researcher": 403, "outsider": 403}),
        ("quality review", "get", reverse("dashboard:quality_review", args=[sample.pk]), None, review_get),
    ]


ENDPOINT_NAMES = ["queue", "flag", "claim", "release", "cluster preview", "undo", "revert", "reassign", "settings",
                  "audit", "audit filtered", "audit export", "audit export filtered", "quality", "quality sample",
                  "quality review"]


@pytest.mark.parametrize("name", ENDPOINT_NAMES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_every_endpoint_for_every_role(client, request, make_flag, cluster_flags, django_user_model, name, persona):
    from monitor.roles import user_set_role

    # Decisions made by a third person, so nobody under test reviews their own.
    carol = django_user_model.objects.create_user(username="carol", password="x")
    user_set_role(user=carol, role="lead")
    decided = make_flag(text="décidé Peuls")
    decision = flag_decide(flag_id=decided.pk, user=carol, action="confirm", reason_code="exclusion")
    sample = QualityReview.objects.create(decision=decision, flag=decided, sampled_by=carol)
    batch = cluster_decide(flag_id=cluster_flags[0].pk, user=carol, action="escalate", reason_code="threat").batch
    flag = make_flag(text="ouvert Peuls")
    _, method, url, data, expected = next(
        e for e in _endpoints(flag, decision, batch, sample, carol) if e[0] == name)

    client = login(client, request, persona)
    response = client.post(url, data) if method == "post" else client.get(url)

    assert response.status_code == expected[persona], (name, persona)
    if response.status_code == 302 and persona == "anonymous":
        assert response.url.startswith(reverse("dashboard:login"))
    if persona in ("anonymous", "researcher", "outsider"):
        # Nothing changed hands: the flag is unclaimed, the batch still decided, the decision in force.
        assert Flag.objects.get(pk=flag.pk).claimed_by is None
        assert not ReviewDecision.objects.filter(action="revert").exists()
        assert not AuditEvent.objects.filter(action="flag.reassign").exists()
    if name == "reassign" and persona == "lead":
        assert Flag.objects.get(pk=flag.pk).claimed_by == carol


# --- claims on the pages -----------------------------------------------------------------

def test_opening_a_flag_claims_it_and_a_second_reviewer_gets_no_form(client, reviewer, lead, make_flag,
                                                                     django_user_model):
    from monitor.roles import user_set_role

    flag = make_flag()
    client.force_login(reviewer)
    assert 'name="reason_code"' in client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    flag.refresh_from_db()
    assert flag.claimed_by == reviewer

    other = django_user_model.objects.create_user(username="dave", password="x")
    user_set_role(user=other, role="reviewer")
    client.force_login(other)
    html = client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    assert "Being reviewed by" in html and "alice" in html and 'name="reason_code"' not in html
    response = client.post(reverse("dashboard:flag_decide", args=[flag.pk]),
                           {"action": "confirm", "reason_code": "exclusion"}, **JSON)
    assert response.status_code == 409 and "someone else" in response.json()["error"]
    assert client.post(reverse("dashboard:flag_claim", args=[flag.pk])).status_code == 409

    client.force_login(lead)
    html = client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    assert "Release the claim" in html
    client.post(reverse("dashboard:flag_release", args=[flag.pk]))
    flag.refresh_from_db()
    assert flag.claimed_by is None


def test_the_queue_shows_claims_and_filters_to_mine(client, reviewer, lead, make_flag):
    mine, theirs, free = make_flag(text="a Peuls"), make_flag(text="b Peuls"), make_flag(text="c Peuls")
    flag_claim(flag_id=mine.pk, user=reviewer)
    flag_claim(flag_id=theirs.pk, user=lead)
    client.force_login(reviewer)

    html = client.get(reverse("dashboard:queue")).content.decode()
    assert "claimed by you" in html and "being reviewed by bob" in html

    html = client.get(reverse("dashboard:queue"), {"mine": "1"}).content.decode()
    assert f'href="/flags/{mine.pk}/?mine=1"' in html
    assert f"/flags/{theirs.pk}/" not in html and f"/flags/{free.pk}/" not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "slur"}, {"slur"}),
        ({"language": "bm"}, {"bm"}),
        ({"platform": "telegram"}, {"telegram"}),
        ({"community": "dogon"}, {"dogon"}),
    ],
)
def test_the_queue_filters(client, reviewer, make_flag, make_post, query, expected):
    dogon = Community.objects.create(slug="dogon", name="Dogon")
    make_flag(text="plain Peuls")
    make_flag(text="slur Peuls", category="slur")
    make_flag(post=make_post(text="bm Peuls", language="bm"), text="bm Peuls")
    make_flag(post=make_post(text="telegram Peuls", platform="telegram"), text="telegram Peuls")
    make_flag(text="dogon Peuls", community=dogon)
    client.force_login(reviewer)

    html = client.get(reverse("dashboard:queue"), query).content.decode()

    shown = {word for word in ("plain", "slur", "bm", "telegram", "dogon") if f"{word} " in html}
    assert shown == expected


def test_the_queue_filters_by_cluster(client, reviewer, make_flag, cluster_flags):
    make_flag(text="hors cluster Peuls")
    client.force_login(reviewer)
    cluster_id = cluster_flags[0].post.cluster_id
    html = client.get(reverse("dashboard:queue"), {"cluster": str(cluster_id)}).content.decode()
    assert "hors cluster" not in html and html.count('class="flag-link"') == 3
    assert client.get(reverse("dashboard:queue"), {"cluster": "x'; drop"}).status_code == 200


# --- decisions with JSON ----------------------------------------------------------------

def test_a_decision_by_fetch_answers_json(client, reviewer, make_flag):
    flag = make_flag(priority=9)
    following = make_flag(priority=3, text="suivant Peuls")
    client.force_login(reviewer)
    client.get(reverse("dashboard:flag", args=[flag.pk]))

    response = client.post(reverse("dashboard:flag_decide", args=[flag.pk]),
                           {"action": "confirm", "reason_code": "incitement", "follow_up": "authorities"}, **JSON)

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] and body["status"] == "confirmed"
    assert body["next_url"] == reverse("dashboard:flag", args=[following.pk])
    assert ReviewDecision.objects.get(flag=flag).follow_up == "authorities"


def test_a_bad_decision_by_fetch_answers_json_errors(client, reviewer, make_flag):
    flag = make_flag()
    client.force_login(reviewer)
    response = client.post(reverse("dashboard:flag_decide", args=[flag.pk]),
                           {"action": "confirm", "reason_code": "not_violation_other"}, **JSON)
    assert response.status_code == 400 and "reason_code" in response.json()["errors"]


# --- cluster actions ------------------------------------------------------------------

def test_the_flag_page_shows_near_duplicates(client, reviewer, cluster_flags):
    flag_decide(flag_id=cluster_flags[2].pk, user=reviewer, action="dismiss", reason_code="not_violation_reporting")
    client.force_login(reviewer)
    html = client.get(reverse("dashboard:flag", args=[cluster_flags[0].pk])).content.decode()
    assert "1 open, 1 decided" in html
    assert "3 near-identical posts" in html
    assert "not_violation_reporting" in html
    assert "Apply to the cluster" in html


def test_a_cluster_decision_previews_then_applies_then_undoes(client, reviewer, cluster_flags):
    client.force_login(reviewer)
    url = reverse("dashboard:cluster_decide", args=[cluster_flags[0].pk])
    data = {"action": "confirm", "reason_code": "exclusion", "follow_up": "remove"}

    preview = client.post(url, data)
    assert preview.status_code == 200 and "<strong>3</strong> flags" in preview.content.decode()
    assert client.post(url, data, **JSON).json() == {"ok": True, "preview": True, "count": 3}
    assert not ReviewDecision.objects.exists()

    body = client.post(url, {**data, "confirm": "1"}, **JSON).json()
    assert body["ok"] and body["decided"] == 3
    assert Flag.objects.filter(status="confirmed").count() == 3

    assert client.post(body["undo_url"], **JSON).json()["reverted"] == 3
    assert Flag.objects.filter(status="open").count() == 3


def test_a_cluster_decision_without_javascript(client, reviewer, cluster_flags):
    client.force_login(reviewer)
    url = reverse("dashboard:cluster_decide", args=[cluster_flags[0].pk])
    response = client.post(url, {"action": "dismiss", "reason_code": "not_violation_reporting", "confirm": "1"},
                           follow=True)
    html = response.content.decode()
    assert "applied to 3 flags" in html and "Undo the last cluster decision" in html
    batch = ReviewDecision.objects.first().batch
    client.post(reverse("dashboard:batch_undo", args=[batch]))
    assert Flag.objects.filter(status="open").count() == 3


def test_a_lead_reverts_from_the_flag_page(client, reviewer, lead, make_flag):
    flag = make_flag()
    decision = flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")
    client.force_login(lead)
    assert "Revert" in client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    client.post(reverse("dashboard:decision_revert", args=[decision.pk]), {"note": "trop vite"})
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert ReviewDecision.objects.filter(action="revert", note="trop vite").count() == 1


# --- wellbeing ---------------------------------------------------------------------------

def test_text_is_blurred_by_default_and_the_setting_is_audited(client, reviewer, make_flag):
    flag = make_flag()
    client.force_login(reviewer)
    assert "blur-texts" in client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    assert "blur-texts" in client.get(reverse("dashboard:queue")).content.decode()

    client.post(reverse("dashboard:settings"), {})  # unchecked box: blur off
    assert ReviewerSettings.objects.get(user=reviewer).blur is False
    assert "blur-texts" not in client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    event = AuditEvent.objects.get(action="settings.change")
    assert event.actor == reviewer and event.data == {"blur": [True, False]}

    client.post(reverse("dashboard:settings"), {"blur": "on"})
    client.post(reverse("dashboard:settings"), {"blur": "on"})  # no change, no event
    assert AuditEvent.objects.filter(action="settings.change").count() == 2


def test_the_header_shows_time_worked_since_login(client, reviewer):
    client.post(reverse("dashboard:login"), {"username": "alice", "password": "correct horse battery"})
    session = client.session
    session["vigie_work_started"] = (timezone.now() - timedelta(minutes=135)).isoformat()
    session.save()
    html = client.get(reverse("dashboard:queue")).content.decode()
    assert "working 2 h 15" in html and "time for a break" in html


# --- audit export ---------------------------------------------------------------------

def test_the_audit_export_is_csv_with_formulas_neutralised(client, lead, make_flag):
    from monitor.audit import audit_record

    flag = make_flag()
    audit_record(actor=lead, action="=HYPERLINK(\"http://evil\")", obj=flag, data={"note": "+1"})
    audit_record(actor=None, action="@SUM(A1)", data={})
    audit_record(actor=lead, action="-2+3", data={})
    client.force_login(lead)

    response = client.get(reverse("dashboard:audit_export"))

    assert response.streaming and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "created_at", "actor", "action", "object_type", "object_id", "data"]
    actions = [r[3] for r in rows[1:]]
    assert actions == ["'=HYPERLINK(\"http://evil\")", "'@SUM(A1)", "'-2+3"]
    assert json.loads(rows[1][6]) == {"note": "+1"}
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell


def test_csv_cell():
    from monitor.exports import csv_safe as csv_cell

    assert [csv_cell(v) for v in ("=1", "+1", "-1", "@a", "\tx", "ok", None, 3)] == [
        "'=1", "'+1", "'-1", "'@a", "'\tx", "ok", "", "3"]


# --- quality ---------------------------------------------------------------------------

def test_quality_sampling_and_second_review_pages(client, reviewer, lead, make_flag):
    flag = make_flag()
    flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")
    client.force_login(lead)
    client.post(reverse("dashboard:quality_sample"), {"n": 5})
    sample = QualityReview.objects.get()
    html = client.get(reverse("dashboard:quality")).content.decode()
    assert f"/quality/{sample.pk}/" in html and "1 sampled" in html

    page = client.get(reverse("dashboard:quality_review", args=[sample.pk])).content.decode()
    assert "exclusion</code>" not in page  # blind: the first decision is not shown
    client.post(reverse("dashboard:quality_review", args=[sample.pk]),
                {"action": "dismiss", "reason_code": "not_violation_counter_speech"})
    html = client.get(reverse("dashboard:quality")).content.decode()
    assert "0 agree" in html and "agreement 0%" in html

    client.force_login(reviewer)  # the first reviewer may not review their own decision
    assert client.get(reverse("dashboard:quality_review", args=[sample.pk])).status_code == 403


# --- cost -----------------------------------------------------------------------------------

def test_the_queue_costs_the_same_with_filters_and_claims(client, reviewer, lead, make_flag,
                                                          django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(reviewer)
    make_flag()
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dashboard:queue"), {"category": "exclusion", "language": "fr"})
    for i in range(30):
        f = make_flag(text=f"{i} Peuls", category="exclusion")
        if i % 3 == 0:
            flag_claim(flag_id=f.pk, user=lead)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("dashboard:queue"), {"category": "exclusion", "language": "fr"})


def test_the_flag_page_costs_the_same_however_big_the_cluster(client, reviewer, make_flag, make_post,
                                                               django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cluster = Cluster.objects.create(size=1)
    flag = make_flag(post=make_post(text="x Peuls", cluster=cluster), text="x Peuls")
    make_flag(post=make_post(text="y Peuls", cluster=cluster), text="y Peuls")
    client.force_login(reviewer)
    client.get(reverse("dashboard:flag", args=[flag.pk]))  # the claim's first audit event
    with CaptureQueriesContext(connection) as small:
        client.get(reverse("dashboard:flag", args=[flag.pk]))
    for i in range(40):
        other = make_flag(post=make_post(text=f"{i} Peuls", cluster=cluster), text=f"{i} Peuls")
        if i % 2:
            flag_decide(flag_id=other.pk, user=reviewer, action="confirm", reason_code="exclusion")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("dashboard:flag", args=[flag.pk]))


def test_a_cluster_filter_in_digits_that_are_not_ascii_is_ignored(client, reviewer, make_flag):
    make_flag()
    client.force_login(reviewer)
    assert client.get(reverse("dashboard:queue"), {"cluster": "²"}).status_code == 200
