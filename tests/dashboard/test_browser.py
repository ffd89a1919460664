"""The review queue in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

A reviewer logs in, works through three flags with the keyboard only, applies
one cluster decision, and the database is checked. The first flag's post
carries script payloads: they must show as text and never run.

Locally a missing Chromium or Playwright skips the test; in CI it fails
(``tests.conftest.services_required``).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import services_required

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-dev-shm-usage"]
PAYLOAD = ('Les Peuls dehors <script>window.__xss = "script"</script>'
           '<img src=x onerror="window.__xss = \'img\'"> fin')

pytestmark = pytest.mark.slow


def _browser_or_skip():
    problem = None
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        problem = "playwright is not installed"
    if problem is None and not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    if problem:
        if services_required():
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture
def browser_page(live_server, monkeypatch, tmp_path):
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # test makes between browser steps are still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # Kept for the failure message: what the page asked and what it logged.
        page.vigie_log = []
        page.on("console", lambda msg: page.vigie_log.append(f"console: {msg.text}"))
        page.on("response", lambda r: page.vigie_log.append(f"{r.request.method} {r.url} {r.status}"))
        page.set_default_timeout(30_000)
        try:
            yield page, errors
        finally:
            page.screenshot(path=str(tmp_path / "review-queue.png"), full_page=True)
            context.close()
            browser.close()


def _wait_decided(page):
    try:
        page.wait_for_selector("#decided-note")
    except Exception as exc:  # say what the page said, not only that it timed out
        state = page.evaluate(
            "[(document.querySelector('input[name=action]:checked') || {}).value,"
            " (document.querySelector('select[name=reason_code]') || {}).value, document.activeElement.tagName]"
        )
        raise AssertionError(
            f"no decision; the page says {page.inner_text('#live-message')!r}, form {state}, log {page.vigie_log[-8:]}"
        ) from exc


def test_a_reviewer_works_the_queue_with_the_keyboard(
    transactional_db, live_server, browser_page, reviewer, make_flag, make_post, tmp_path
):
    from monitor.models import Cluster, Flag, ReviewDecision

    page, errors = browser_page
    hostile = make_flag(priority=90, post=make_post(text=PAYLOAD, language="fr"), text=PAYLOAD,
                        category=Flag.Category.EXCLUSION)
    second = make_flag(priority=80, text="Les Peuls reportage de presse")
    third = make_flag(priority=70, text="Les Peuls menace", category=Flag.Category.THREAT)
    cluster = Cluster.objects.create(size=3)
    copies = [
        make_flag(priority=60 - i, post=make_post(text=f"Chassez les Peuls copie {i}", cluster=cluster),
                  text=f"Chassez les Peuls copie {i}", category=Flag.Category.INCITEMENT)
        for i in range(3)
    ]

    # Log in through the real form (a real browser sends Origin: CSRF must accept it).
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue-table")
    assert "working" in page.inner_text("#work-time")

    # The queue: j selects the first (most urgent) row, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/flags/{hostile.pk}/")

    # Hostile text is shown as text, blurred until revealed, and nothing ran.
    post_text = page.inner_text("#post-text")
    assert "<script>" in post_text and "onerror" in post_text
    assert page.evaluate("window.__xss") is None
    assert page.locator("#post-text img").count() == 0
    blurred = page.eval_on_selector("#post-text", "el => getComputedStyle(el).filter")
    assert "blur" in blurred
    page.keyboard.press("r")
    page.wait_for_function("getComputedStyle(document.getElementById('post-text')).filter === 'none'")

    # 1. Confirm: c picks confirm and the detector's category as reason; Enter records it without a reload.
    page.keyboard.press("?")
    assert page.is_visible("#help-overlay")
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    page.keyboard.press("Enter")
    _wait_decided(page)
    assert page.inner_text("#flag-status") == "confirmed"
    assert page.evaluate("window.__xss") is None

    # 2. Dismiss: d, then 1 = the first "not a violation" reason (reporting).
    page.keyboard.press("j")
    page.wait_for_url(f"**/flags/{second.pk}/")
    page.keyboard.press("d")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    _wait_decided(page)

    # 3. Escalate to a lead.
    page.keyboard.press("j")
    page.wait_for_url(f"**/flags/{third.pk}/")
    page.keyboard.press("e")
    page.keyboard.press("Enter")
    _wait_decided(page)

    # 4. A cluster decision: c, a (preview: 3 flags), Enter applies.
    page.keyboard.press("j")
    page.wait_for_url(f"**/flags/{copies[0].pk}/")
    assert "2 open" in page.inner_text("#near-duplicates")
    page.keyboard.press("c")
    page.keyboard.press("a")
    page.wait_for_selector("#cluster-confirm:not([hidden])")
    assert "to 3 flags" in page.inner_text("#cluster-confirm-text")
    page.keyboard.press("Enter")
    _wait_decided(page)
    assert "applied to 3 flags" in page.inner_text("#live-message")
    page.screenshot(path=str(tmp_path / "after-cluster.png"), full_page=True)

    decisions = {d.flag_id: d for d in ReviewDecision.objects.all()}
    assert decisions[hostile.pk].action == "confirm" and decisions[hostile.pk].reason_code == "exclusion"
    assert decisions[hostile.pk].follow_up == "remove"
    assert (decisions[second.pk].action, decisions[second.pk].reason_code) == ("dismiss", "not_violation_reporting")
    assert (decisions[third.pk].action, decisions[third.pk].reason_code) == ("escalate", "threat")
    batch = {decisions[c.pk].batch for c in copies}
    assert len(batch) == 1 and batch != {""}
    assert {decisions[c.pk].reason_code for c in copies} == {"incitement"}
    statuses = dict(Flag.objects.values_list("pk", "status"))
    assert statuses[hostile.pk] == "confirmed" and statuses[second.pk] == "dismissed"
    assert statuses[third.pk] == "escalated" and {statuses[c.pk] for c in copies} == {"confirmed"}
    assert all(r.reviewer.username == "alice" for r in ReviewDecision.objects.select_related("reviewer"))
    assert not Flag.objects.filter(claimed_by__isnull=False).exists()

    # u undoes the cluster decision; the page reloads with the flag open again (and claimed anew).
    page.keyboard.press("u")
    page.wait_for_selector("#flag-status.status-open")
    page.wait_for_load_state("networkidle")
    assert set(Flag.objects.filter(pk__in=[c.pk for c in copies]).values_list("status", flat=True)) == {"open"}
    assert errors == []
    assert os.path.exists(tmp_path / "after-cluster.png")
