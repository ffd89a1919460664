"""Dashboard pages: who may see what, the queue, escaping of hostile post text, deciding."""
from __future__ import annotations

import pytest
from django.urls import reverse

from monitor.models import AuditEvent, Community, Flag, ReviewDecision

PERSONAS = ["reviewer", "lead", "researcher", "outsider"]
XSS_TEXT = 'Les Peuls <script>alert(1)</script> dehors <img src=x onerror="alert(2)"> !'


@pytest.fixture
def flag(make_flag):
    return make_flag()


def client_for(client, request, persona):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client


# --- the access matrix -----------------------------------------------------------

PAGES = {
    # page: expected status for reviewer, lead, researcher, outsider
    "queue": {"reviewer": 200, "lead": 200, "researcher": 403, "outsider": 403},
    "flag": {"reviewer": 200, "lead": 200, "researcher": 403, "outsider": 403},
    "audit": {"reviewer": 403, "lead": 200, "researcher": 403, "outsider": 403},
}


def page_url(page, flag):
    return reverse(f"dashboard:{page}", kwargs={"flag_id": flag.pk} if page == "flag" else {})


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_page_access(client, request, flag, page, persona):
    response = client_for(client, request, persona).get(page_url(page, flag))
    assert response.status_code == PAGES[page][persona]


@pytest.mark.parametrize("page", [*PAGES, "flag_decide"])
def test_anonymous_users_are_sent_to_login(client, flag, page):
    url = reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}) if page == "flag_decide" else page_url(page, flag)
    response = client.post(url) if page == "flag_decide" else client.get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("dashboard:login"))
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN


@pytest.mark.parametrize(("persona", "status"), [("reviewer", 302), ("lead", 302), ("researcher", 403), ("outsider", 403)])
def test_decide_access(client, request, flag, persona, status):
    response = client_for(client, request, persona).post(
        reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
        {"action": "confirm", "reason_code": "exclusion"},
    )
    assert response.status_code == status
    flag.refresh_from_db()
    assert flag.status == (Flag.Status.CONFIRMED if status == 302 else Flag.Status.OPEN)


def test_deciding_needs_post(client, reviewer, flag):
    client.force_login(reviewer)
    assert client.get(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk})).status_code == 405


def test_login_page_renders_and_logs_in(client, reviewer):
    response = client.get(reverse("dashboard:login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content

    response = client.post(reverse("dashboard:login"), {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 302 and response.url == reverse("dashboard:queue")
    assert client.get(reverse("dashboard:queue")).status_code == 200


def test_a_researcher_lands_on_the_search_page(client, researcher):
    response = client.post(
        reverse("dashboard:login"), {"username": researcher.get_username(), "password": "correct horse battery"}
    )
    assert response.status_code == 302 and response.url == reverse("dashboard:search")
    assert client.get(response.url).status_code == 200


def test_logout_is_a_post(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("dashboard:logout")).status_code == 405
    assert client.post(reverse("dashboard:logout")).status_code == 302
    assert client.get(reverse("dashboard:queue")).status_code == 302


def test_a_missing_flag_is_a_404(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("dashboard:flag", kwargs={"flag_id": 10**9})).status_code == 404


# --- the queue ---------------------------------------------------------------------

def test_the_queue_lists_open_flags_by_priority(client, reviewer, make_flag):
    low = make_flag(priority=2, text="basse Peuls")
    high = make_flag(priority=90, text="haute Peuls")
    mid = make_flag(priority=40, text="moyenne Peuls")
    make_flag(priority=99, status=Flag.Status.DISMISSED, text="tranchée Peuls")
    client.force_login(reviewer)

    html = client.get(reverse("dashboard:queue")).content.decode()

    positions = [html.index(f'href="{reverse("dashboard:flag", kwargs={"flag_id": f.pk})}') for f in (high, mid, low)]
    assert positions == sorted(positions)
    assert "tranchée" not in html
    assert '<mark class="hit hit-target" title="target">Peuls</mark>' in html


def test_the_queue_filters_by_community(client, reviewer, make_flag):
    dogon = Community.objects.create(slug="dogon", name="Dogon")
    make_flag(text="contre les Peuls")
    make_flag(text="contre les Dogons", community=dogon)
    client.force_login(reviewer)

    html = client.get(reverse("dashboard:queue"), {"community": "dogon"}).content.decode()

    assert "Dogons" in html and "contre les Peuls" not in html


def test_the_queue_paginates(client, reviewer, make_flag, monkeypatch):
    monkeypatch.setattr("dashboard.views.PAGE_SIZE", 2)
    for p in range(5):
        make_flag(priority=p, text=f"post{p} Peuls")
    client.force_login(reviewer)

    first = client.get(reverse("dashboard:queue")).content.decode()
    last = client.get(reverse("dashboard:queue"), {"page": 3}).content.decode()

    assert "post4" in first and "post3" in first and "post2" not in first and 'rel="next"' in first
    assert "post0" in last and 'rel="next"' not in last and 'rel="prev"' in last
    assert client.get(reverse("dashboard:queue"), {"page": "junk", "status": "junk"}).status_code == 200


def test_the_queue_page_cost_does_not_grow_with_flags(client, reviewer, make_flag, django_assert_max_num_queries):
    client.force_login(reviewer)
    for p in range(3):
        make_flag(priority=p)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("dashboard:queue"))
    for p in range(40):
        make_flag(priority=p)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("dashboard:queue"))
    assert response.status_code == 200
    assert len(few.captured_queries) <= 8


FLAG_PAGE_MAX_QUERIES = 22


def test_the_flag_page_cost_is_bounded(client, lead, flag, django_assert_max_num_queries):
    client.force_login(lead)
    with django_assert_max_num_queries(FLAG_PAGE_MAX_QUERIES):
        assert client.get(reverse("dashboard:flag", kwargs={"flag_id": flag.pk})).status_code == 200


# --- hostile post text ----------------------------------------------------------------

@pytest.mark.parametrize("page", ["queue", "flag"])
def test_post_text_is_escaped(client, reviewer, make_flag, page):
    flag = make_flag(text=XSS_TEXT)
    client.force_login(reviewer)

    html = client.get(page_url(page, flag)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html


def test_hostile_evidence_and_handles_are_escaped(client, reviewer, make_post, make_flag):
    post = make_post(text="Peuls", author_handle="<b>handle</b>", url="javascript:alert(3)")
    flag = make_flag(
        post=post,
        evidence=[{"start": 0, "end": 5, "text": "Peuls", "rule": "<i>rule</i>", "role": '"><script>'}],
    )
    client.force_login(reviewer)

    html = client.get(page_url("flag", flag)).content.decode()

    assert "<b>handle</b>" not in html and "&lt;b&gt;handle&lt;/b&gt;" in html
    assert "<i>rule</i>" not in html and "&lt;i&gt;rule&lt;/i&gt;" in html
    assert '"><script>' not in html
    assert "javascript:alert(3)" not in html


# --- the flag page ------------------------------------------------------------------

def test_the_flag_page_shows_the_post_and_its_evidence(client, reviewer, flag):
    client.force_login(reviewer)
    html = client.get(page_url("flag", flag)).content.decode()

    assert 'Il faut chasser les <mark class="hit hit-target" title="target">Peuls</mark>' in html
    assert "community:peul" in html
    assert flag.post.author_pseudonym in html and flag.post.author_handle in html
    assert 'href="https://x.com/u/status/1" rel="noopener noreferrer nofollow"' in html
    assert 'name="reason_code"' in html


def test_a_reviewer_sees_no_form_on_an_escalated_flag_but_a_lead_does(client, reviewer, lead, make_flag):
    flag = make_flag(status=Flag.Status.ESCALATED)
    client.force_login(reviewer)
    assert 'name="reason_code"' not in client.get(page_url("flag", flag)).content.decode()
    response = client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
                           {"action": "confirm", "reason_code": "exclusion"})
    assert response.status_code == 403
    client.force_login(lead)
    assert 'name="reason_code"' in client.get(page_url("flag", flag)).content.decode()


# --- deciding ---------------------------------------------------------------------

def test_deciding_updates_the_flag_and_the_audit_log(client, reviewer, make_flag):
    flag = make_flag(priority=10)
    following = make_flag(priority=5)
    client.force_login(reviewer)

    response = client.post(
        reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
        {"action": "confirm", "reason_code": "exclusion", "note": "appel à l'expulsion"},
    )

    assert response.status_code == 302
    assert response.url == reverse("dashboard:flag", kwargs={"flag_id": following.pk})
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED
    decision = ReviewDecision.objects.get(flag=flag)
    assert (decision.reviewer, decision.action, decision.reason_code, decision.note) == (
        reviewer, "confirm", "exclusion", "appel à l'expulsion"
    )
    event = AuditEvent.objects.get(action="flag.decide")
    assert event.actor == reviewer and event.object_id == str(flag.pk)

    page = client.get(response.url).content.decode()
    assert "recorded" in page  # the success message
    assert "exclusion" in client.get(page_url("flag", flag)).content.decode()


def test_after_the_last_flag_it_goes_back_to_the_queue(client, reviewer, flag):
    client.force_login(reviewer)
    response = client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
                           {"action": "dismiss", "reason_code": "not_violation_reporting"})
    assert response.url == reverse("dashboard:queue")


def test_the_next_flag_stays_in_the_community(client, reviewer, make_flag):
    dogon = Community.objects.create(slug="dogon", name="Dogon")
    flag = make_flag(priority=10, community=dogon, text="a")
    make_flag(priority=50, text="b")  # more urgent, but another community
    following = make_flag(priority=1, community=dogon, text="c")
    client.force_login(reviewer)

    response = client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
                           {"action": "escalate", "reason_code": "threat", "community": "dogon"})

    assert response.url == reverse("dashboard:flag", kwargs={"flag_id": following.pk}) + "?community=dogon"


def test_a_reason_that_does_not_fit_is_shown_and_nothing_changes(client, reviewer, flag):
    client.force_login(reviewer)
    response = client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
                           {"action": "dismiss", "reason_code": "incitement"})
    assert response.status_code == 400
    assert "dismissing needs a &#x27;not a violation&#x27; reason" in response.content.decode()
    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert not AuditEvent.objects.exists()


def test_an_overlong_note_is_refused(client, reviewer, flag):
    client.force_login(reviewer)
    response = client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
                           {"action": "confirm", "reason_code": "slur", "note": "x" * 2001})
    assert response.status_code == 400
    assert not ReviewDecision.objects.exists()


def test_deciding_twice_reports_the_conflict(client, reviewer, lead, flag):
    client.force_login(reviewer)
    url = reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk})
    client.post(url, {"action": "confirm", "reason_code": "exclusion"})
    client.force_login(lead)

    response = client.post(url, {"action": "dismiss", "reason_code": "not_violation_other"}, follow=True)

    assert "already decided" in response.content.decode()
    assert ReviewDecision.objects.count() == 1
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED


def test_the_audit_page_lists_decisions(client, reviewer, lead, flag):
    client.force_login(reviewer)
    client.post(reverse("dashboard:flag_decide", kwargs={"flag_id": flag.pk}),
                {"action": "confirm", "reason_code": "exclusion", "note": "<script>x</script>"})
    client.force_login(lead)

    html = client.get(reverse("dashboard:audit")).content.decode()

    assert "flag.decide" in html and "alice" in html
    assert reverse("dashboard:flag", kwargs={"flag_id": flag.pk}) in html
