"""Lead reassignment on the flag page, and the audit page's filters (with the CSV export)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.urls import reverse

from monitor.audit import audit_record
from monitor.models import AuditEvent, Flag
from monitor.review import flag_claim, flag_reassign

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def dave(db, django_user_model):
    from monitor.roles import user_set_role

    user = django_user_model.objects.create_user(username="dave", password="correct horse battery")
    user_set_role(user=user, role="reviewer")
    return user


# --- reassignment -----------------------------------------------------------------------

def test_only_a_lead_sees_the_reassign_form_listing_reviewers(client, reviewer, lead, researcher, dave, make_flag):
    flag = make_flag()
    client.force_login(reviewer)
    assert 'id="reassign-form"' not in client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()

    client.force_login(lead)
    html = client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    assert 'id="reassign-form"' in html and reverse("dashboard:flag_reassign", args=[flag.pk]) in html
    for user in (reviewer, lead, dave):
        assert f'<option value="{user.pk}"' in html
    assert f'<option value="{researcher.pk}"' not in html

    decided = make_flag(text="fini Peuls", status=Flag.Status.CONFIRMED)
    assert 'id="reassign-form"' not in client.get(reverse("dashboard:flag", args=[decided.pk])).content.decode()


def test_an_escalated_flag_offers_only_leads(client, reviewer, lead, make_flag):
    flag = make_flag(status=Flag.Status.ESCALATED)
    client.force_login(lead)
    html = client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    assert f'<option value="{lead.pk}"' in html and f'<option value="{reviewer.pk}"' not in html
    response = client.post(reverse("dashboard:flag_reassign", args=[flag.pk]), {"to_user": reviewer.pk}, **JSON)
    assert response.status_code == 400
    assert Flag.objects.get(pk=flag.pk).claimed_by == lead  # the lead's own claim from opening the page


def test_a_lead_reassigns_from_the_page_and_the_reviewer_holds_it(client, reviewer, lead, dave, make_flag):
    flag = make_flag()
    client.force_login(reviewer)
    client.get(reverse("dashboard:flag", args=[flag.pk]))  # alice claims it

    client.force_login(lead)
    response = client.post(reverse("dashboard:flag_reassign", args=[flag.pk]), {"to_user": dave.pk}, follow=True)
    html = response.content.decode()
    assert "now assigned to dave" in html and "Being reviewed by <strong>dave</strong>" in html
    event = AuditEvent.objects.get(action="flag.reassign")
    assert (event.data["from"], event.data["to"]) == ("alice", "dave")

    # Alice's open page can no longer decide it.
    client.force_login(reviewer)
    response = client.post(reverse("dashboard:flag_decide", args=[flag.pk]),
                           {"action": "confirm", "reason_code": "exclusion"}, **JSON)
    assert response.status_code == 409
    assert 'name="reason_code"' not in client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()

    # Dave finds it under "claimed by me", opens it (the long hold survives) and decides it.
    client.force_login(dave)
    html = client.get(reverse("dashboard:queue"), {"mine": "1"}).content.decode()
    assert f'href="/flags/{flag.pk}/?mine=1"' in html and "claimed by you" in html
    before = Flag.objects.get(pk=flag.pk).claimed_until
    assert 'name="reason_code"' in client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    assert Flag.objects.get(pk=flag.pk).claimed_until == before
    # Leaving the page (vigie.js's beacon) does not hand the assignment back.
    assert client.post(reverse("dashboard:flag_release", args=[flag.pk]), {"leaving": "1"}, **JSON).json() == {
        "ok": True, "released": False}
    response = client.post(reverse("dashboard:flag_decide", args=[flag.pk]),
                           {"action": "confirm", "reason_code": "exclusion"}, **JSON)
    assert response.status_code == 200
    assert Flag.objects.get(pk=flag.pk).status == Flag.Status.CONFIRMED


def test_the_lead_page_beacon_does_not_undo_the_reassignment(client, lead, dave, make_flag):
    flag = make_flag()
    client.force_login(lead)
    client.get(reverse("dashboard:flag", args=[flag.pk]))
    client.post(reverse("dashboard:flag_reassign", args=[flag.pk]), {"to_user": dave.pk})
    client.post(reverse("dashboard:flag_release", args=[flag.pk]), {"leaving": "1"})
    assert Flag.objects.get(pk=flag.pk).claimed_by == dave


def test_reassign_answers_json_and_refuses_bad_input(client, lead, researcher, dave, make_flag):
    flag = make_flag()
    url = reverse("dashboard:flag_reassign", args=[flag.pk])
    client.force_login(lead)

    body = client.post(url, {"to_user": dave.pk}, **JSON).json()
    assert body["ok"] and body["claimed_by"] == "dave"

    for data in ({"to_user": researcher.pk}, {"to_user": "x"}, {}):
        response = client.post(url, data, **JSON)
        assert response.status_code == 400 and "to_user" in response.json()["errors"]
    assert client.get(url).status_code == 405
    assert client.post(reverse("dashboard:flag_reassign", args=[10**9]), {"to_user": dave.pk}).status_code == 404

    Flag.objects.filter(pk=flag.pk).update(status=Flag.Status.DISMISSED)
    assert client.post(url, {"to_user": dave.pk}, **JSON).status_code == 409
    response = client.post(url, {"to_user": dave.pk}, follow=True)
    assert "Not reassigned" in response.content.decode()
    assert AuditEvent.objects.filter(action="flag.reassign").count() == 1


# --- audit filters -------------------------------------------------------------------------

@pytest.fixture
def audit_log(reviewer, lead, make_flag):
    """Four events with known dates: alice claims and decides flag A, bob reassigns flag B, the system acts."""
    a, b = make_flag(text="a Peuls"), make_flag(text="b Peuls")
    rows = [
        (reviewer, "flag.claim", a, datetime(2024, 3, 1, 9, tzinfo=UTC)),
        (reviewer, "flag.decide", a, datetime(2024, 3, 2, 23, 59, tzinfo=UTC)),
        (lead, "flag.reassign", b, datetime(2024, 3, 3, 0, 0, tzinfo=UTC)),
        (None, "settings.change", None, datetime(2024, 3, 5, 12, tzinfo=UTC)),
    ]
    for actor, action, obj, when in rows:
        # created_at is auto_now_add and the log refuses UPDATEs (a trigger on PostgreSQL): set the clock instead.
        with mock.patch("django.utils.timezone.now", return_value=when):
            audit_record(actor=actor, action=action, obj=obj, data={"n": action})
    assert list(AuditEvent.objects.order_by("id").values_list("created_at", flat=True)) == [r[3] for r in rows]
    return {"a": a, "b": b}


def _export(client, query) -> list[str]:
    response = client.get(reverse("dashboard:audit_export"), query)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    return [r[3] for r in rows[1:]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["flag.claim", "flag.decide", "flag.reassign", "settings.change"]),
        ({"action": "flag.decide"}, ["flag.decide"]),
        ({"action": "flag."}, ["flag.claim", "flag.decide", "flag.reassign"]),
        ({"action": "flag"}, []),  # exact unless it ends with "."
        ({"actor": "alice"}, ["flag.claim", "flag.decide"]),
        ({"actor": "bob", "action": "flag."}, ["flag.reassign"]),
        ({"object_type": "monitor.flag"}, ["flag.claim", "flag.decide", "flag.reassign"]),
        ({"since": "2024-03-02"}, ["flag.decide", "flag.reassign", "settings.change"]),
        ({"until": "2024-03-02"}, ["flag.claim", "flag.decide"]),  # the end day is included
        ({"since": "2024-03-03", "until": "2024-03-04"}, ["flag.reassign"]),
    ],
)
def test_the_audit_page_and_export_honour_the_same_filters(client, lead, audit_log, query, expected):
    client.force_login(lead)
    # The lead logging in writes nothing; the fixture's four events are all there is.
    assert _export(client, query) == expected

    html = client.get(reverse("dashboard:audit"), query).content.decode()
    shown = [a for a in ("flag.claim", "flag.decide", "flag.reassign", "settings.change")
             if f"<code>{a}</code>" in html]
    assert shown == expected
    if query:
        assert "Export these filters as CSV" in html


def test_the_audit_object_id_filter(client, lead, audit_log):
    client.force_login(lead)
    query = {"object_type": "monitor.flag", "object_id": str(audit_log["b"].pk)}
    assert _export(client, query) == ["flag.reassign"]
    html = client.get(reverse("dashboard:audit"), query).content.decode()
    # The export link carries the filters.
    assert f'export.csv?object_type=monitor.flag&amp;object_id={audit_log["b"].pk}' in html


def test_bad_audit_filters_are_reported_not_ignored(client, lead, audit_log):
    client.force_login(lead)
    for query in ({"since": "2024-13-45"}, {"since": "2024-03-05", "until": "2024-03-01"}):
        html = client.get(reverse("dashboard:audit"), query).content.decode()
        assert 'role="alert"' in html and "<code>flag.claim</code>" not in html
        response = client.get(reverse("dashboard:audit_export"), query)
        assert response.status_code == 400 and response.content.startswith(b"Bad filter")


def test_audit_filter_values_are_escaped(client, lead, audit_log):
    client.force_login(lead)
    html = client.get(reverse("dashboard:audit"), {"actor": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert(1)</script>" not in html and "No event matches" in html


def test_the_audit_page_and_export_cost_the_same_however_many_events(client, lead, reviewer, make_flag, dave,
                                                                     django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    flag = make_flag()
    client.force_login(lead)
    query = {"action": "flag.", "actor": "dave", "object_type": "monitor.flag", "since": "2000-01-01"}
    flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave)
    # Counted at once: each request clears the connection's query log (Django's reset_queries).
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("dashboard:audit"), query)
    few_page = len(captured.captured_queries)
    with CaptureQueriesContext(connection) as captured:
        b"".join(client.get(reverse("dashboard:audit_export"), query).streaming_content)
    few_export = len(captured.captured_queries)
    assert few_page and few_export
    for i in range(40):
        other = make_flag(text=f"{i} Peuls")
        flag_claim(flag_id=other.pk, user=dave if i % 2 else reviewer)
    assert len(_export(client, query)) == 20
    with django_assert_max_num_queries(few_page):
        html = client.get(reverse("dashboard:audit"), query).content.decode()
    assert html.count("<code>flag.claim</code>") == 20
    with django_assert_max_num_queries(few_export):
        b"".join(client.get(reverse("dashboard:audit_export"), query).streaming_content)
