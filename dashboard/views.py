"""Dashboard pages: check permission, call a selector or a service, render."""
from __future__ import annotations

import csv
import dataclasses
import json
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from monitor.audit import AUDIT_ACTIONS
from monitor.claims.selectors import claim_matches_for_flags, claim_review_link
from monitor.exports import csv_safe
from monitor.models import Flag, QualityReview, ReviewDecision
from monitor.quality import quality_pending, quality_review_record, quality_sample, quality_stats
from monitor.review import (
    ASSIGNMENT_SECONDS,
    REASON_CODES,
    FlagClaimed,
    ReviewConflict,
    claim_seconds,
    cluster_candidates,
    cluster_decide,
    decision_batch_revert,
    decision_revert,
    flag_can_decide,
    flag_claim,
    flag_decide,
    flag_reassign,
    flag_release,
    reviewer_settings_update,
)
from monitor.roles import can_review, is_lead
from monitor.selectors import (
    QueueFilters,
    audit_events,
    audit_events_iter,
    communities_list,
    flag_context,
    flag_decisions,
    flag_evidence,
    flag_excerpt,
    flag_get,
    flag_neighbours,
    flag_segments,
    flags_queue,
    post_external_url,
    reviewer_settings_get,
    reviewer_stats,
)

from .forms import (
    AuditFilterForm,
    ClusterDecisionForm,
    DecisionForm,
    QualityReviewForm,
    QualitySampleForm,
    ReassignForm,
    RevertForm,
    SettingsForm,
)

PAGE_SIZE = 50
MAX_PAGE = 10_000
QUEUE_STATUSES = [s.value for s in Flag.Status]
# The session key holding when this login started (shown as "working for …").
WORK_STARTED = "vigie_work_started"


class LoginView(auth_views.LoginView):
    """Django's login view; also notes when the session's work started, for the wellbeing timer."""

    template_name = "dashboard/login.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session[WORK_STARTED] = timezone.now().isoformat()
        return response

    def get_default_redirect_url(self):
        """Reviewers land on the queue; researchers, who cannot review, on the search page."""
        user = self.request.user
        if not can_review(user) and user.has_perm("monitor.view_post"):
            return reverse("dashboard:search")
        return super().get_default_redirect_url()


def wants_json(request) -> bool:
    """vigie.js asks for JSON; a plain form post (no JavaScript) gets a redirect or a page."""
    return "application/json" in request.headers.get("Accept", "")


def _with_query(url: str, query: dict[str, str]) -> str:
    return f"{url}?{urlencode(query)}" if query else url


def role_required(predicate):
    """Anonymous users go to the login page; logged-in users failing ``predicate`` get a 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not predicate(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _page_number(value: str | None) -> int:
    try:
        return min(max(int(value or 1), 1), MAX_PAGE)
    except ValueError:
        return 1


@require_GET
@role_required(can_review)
def queue(request):
    filters = QueueFilters.from_query(request.GET)
    page = _page_number(request.GET.get("page"))
    # One extra row tells whether a next page exists without a COUNT over the whole table.
    flags = flags_queue(
        filters=filters, user=request.user, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    # Misinformation flags show their claim: one more query per page, however many flags.
    claim_by_flag = claim_matches_for_flags(
        flag_ids=[f.pk for f in flags[:PAGE_SIZE] if f.kind == Flag.Kind.MISINFORMATION]
    )
    rows = [(flag, flag_excerpt(text=flag.post.text, evidence=flag.evidence), claim_by_flag.get(flag.pk))
            for flag in flags[:PAGE_SIZE]]
    query = filters.as_query()
    return render(
        request,
        "dashboard/queue.html",
        {
            "rows": rows,
            "filters": filters,
            "status": filters.status,
            "statuses": QUEUE_STATUSES,
            "categories": Flag.Category.choices,
            "community": filters.community,
            "communities": communities_list(),
            "page": page,
            "has_next": len(flags) > PAGE_SIZE,
            "rank_offset": (page - 1) * PAGE_SIZE,
            "query": urlencode(query),
            "now": timezone.now(),
            "blur": reviewer_settings_get(user=request.user).blur,
        },
    )


def _flag_page(request, flag: Flag, form: DecisionForm, *, status: int = 200, claim_error: FlagClaimed | None = None):
    filters = _decision_filters(request, request.POST if request.method == "POST" else request.GET)
    query = filters.as_query()
    previous, following = flag_neighbours(flag=flag, filters=filters, user=request.user)
    now = timezone.now()
    held_by_other = (
        flag.claimed_by_id is not None
        and flag.claimed_by_id != request.user.pk
        and flag.claimed_until is not None
        and flag.claimed_until >= now
    )
    flag_url = lambda pk: _with_query(reverse("dashboard:flag", kwargs={"flag_id": pk}), query)  # noqa: E731
    lead = is_lead(request.user)
    claim_match = None
    if flag.kind == Flag.Kind.MISINFORMATION:
        claim_match = claim_matches_for_flags(flag_ids=[flag.pk]).get(flag.pk)
    reassign_form = None
    if lead and flag.status in (Flag.Status.OPEN, Flag.Status.ESCALATED):
        # An escalated flag can only go to another lead: only they may decide it.
        reassign_form = ReassignForm(leads_only=flag.status == Flag.Status.ESCALATED,
                                     initial={"to_user": flag.claimed_by_id if held_by_other else None})
    return render(
        request,
        "dashboard/flag.html",
        {
            "flag": flag,
            "post": flag.post,
            "segments": flag_segments(text=flag.post.text, evidence=flag.evidence),
            "evidence": flag_evidence(evidence=flag.evidence),
            "post_url": post_external_url(url=flag.post.url),
            "show_handle": can_review(request.user),
            "can_decide": flag_can_decide(flag=flag, user=request.user) and not held_by_other,
            "held_by_other": held_by_other,
            "is_lead": lead,
            "reassign_form": reassign_form,
            "assignment_hours": ASSIGNMENT_SECONDS // 3600,
            "form": form,
            "reasons": REASON_CODES,
            "decisions": flag_decisions(flag_id=flag.pk),
            "context": flag_context(flag=flag, now=now),
            "blur": reviewer_settings_get(user=request.user).blur,
            "query": urlencode(query),
            "queue_url": _with_query(reverse("dashboard:queue"), query),
            "previous_url": flag_url(previous) if previous else "",
            "next_url": flag_url(following) if following else "",
            "claim_seconds": claim_seconds(),
            "last_batch": request.session.get("vigie_last_batch", ""),
            "claim_match": claim_match,
            "claim_review_url": claim_review_link(claim=claim_match.claim) if claim_match else "",
        },
        status=status,
    )


def _flag_or_404(flag_id: int) -> Flag:
    try:
        return flag_get(flag_id=flag_id)
    except Flag.DoesNotExist:
        raise Http404("no such flag") from None


@require_GET
@role_required(can_review)
def flag_detail(request, flag_id: int):
    """Show a flag and claim it for the reviewer (the claim is what keeps two people off one flag)."""
    flag = _flag_or_404(flag_id)
    if flag_can_decide(flag=flag, user=request.user):
        try:
            flag.claimed_until = flag_claim(flag_id=flag.pk, user=request.user)
            flag.claimed_by = request.user
        except FlagClaimed:
            pass  # the page says who holds it and offers no form
        except ReviewConflict:
            flag = _flag_or_404(flag_id)
    form = DecisionForm(initial={"community": request.GET.get("community", ""), "reason_code": _default_reason(flag)})
    return _flag_page(request, flag, form)


def _default_reason(flag: Flag) -> str:
    # The detector's category is the likeliest violation; "false_claim" is filed as misinformation.
    code = "misinformation" if flag.category == Flag.Category.FALSE_CLAIM else flag.category
    return code if code in REASON_CODES else ""


@require_POST
@role_required(can_review)
def flag_claim_view(request, flag_id: int):
    """Renew (or take) the claim; vigie.js calls it while the page stays open."""
    try:
        until = flag_claim(flag_id=flag_id, user=request.user)
    except Flag.DoesNotExist:
        raise Http404("no such flag") from None
    except FlagClaimed as exc:
        return JsonResponse({"ok": False, "error": str(exc), "claimed_until": _iso(exc.until)}, status=409)
    except ReviewConflict as exc:
        return JsonResponse({"ok": False, "error": str(exc)}, status=409)
    return JsonResponse({"ok": True, "claimed_until": until.isoformat()})


@require_POST
@role_required(can_review)
def flag_release_view(request, flag_id: int):
    """Give the flag back (the reviewer leaves it; a lead frees a flag someone left claimed).

    vigie.js posts ``leaving=1`` when the page closes: that drops only the user's
    own ordinary claim, never an assignment or (for a lead) someone else's claim.
    """
    leaving = request.POST.get("leaving") == "1"
    released = flag_release(flag_id=flag_id, user=request.user, leaving=leaving)
    if wants_json(request):
        return JsonResponse({"ok": True, "released": released})
    if released:
        messages.info(request, f"Flag {flag_id} was released.")
    return redirect("dashboard:flag", flag_id=flag_id)


def _refused(request, *, flag_id: int, as_json: bool, status: int, body: dict, message: str, level=messages.warning):
    """A refused action: JSON for fetch callers, otherwise a flash message and back to the flag page."""
    if as_json:
        return JsonResponse({"ok": False, **body}, status=status)
    level(request, message)
    return redirect("dashboard:flag", flag_id=flag_id)


@require_POST
@role_required(is_lead)
def flag_reassign_view(request, flag_id: int):
    """A lead hands the flag to a reviewer (an assignment of ``ASSIGNMENT_SECONDS``)."""
    flag = _flag_or_404(flag_id)
    form = ReassignForm(request.POST, leads_only=flag.status == Flag.Status.ESCALATED)
    as_json = wants_json(request)
    if not form.is_valid():
        return _refused(request, flag_id=flag.pk, as_json=as_json, status=400, body={"errors": _form_errors(form)},
                        message="Choose a reviewer who may decide this flag.", level=messages.error)
    to_user = form.cleaned_data["to_user"]
    try:
        until = flag_reassign(flag_id=flag.pk, lead=request.user, to_user=to_user)
    except ReviewConflict as exc:
        return _refused(request, flag_id=flag.pk, as_json=as_json, status=409, body={"error": str(exc)},
                        message=f"Not reassigned: {exc}.")
    except ValidationError as exc:
        return _refused(request, flag_id=flag.pk, as_json=as_json, status=400,
                        body={"errors": {"to_user": exc.messages}}, message=" ".join(exc.messages),
                        level=messages.error)
    text = f"Flag {flag.pk} is now assigned to {to_user.get_username()} until {until:%Y-%m-%d %H:%M} UTC."
    if as_json:
        return JsonResponse({"ok": True, "message": text, "claimed_by": to_user.get_username(),
                             "claimed_until": until.isoformat()})
    messages.success(request, text)
    return redirect("dashboard:flag", flag_id=flag.pk)


def _iso(value):
    return value.isoformat() if value else None


def _next_flag_url(request, *, filters: QueueFilters, exclude: int | None = None) -> str:
    upcoming = [f for f in flags_queue(filters=filters, user=request.user, available_to=request.user, limit=2)
                if f.pk != exclude][:1]
    query = filters.as_query()
    if upcoming:
        return _with_query(reverse("dashboard:flag", kwargs={"flag_id": upcoming[0].pk}), query)
    return _with_query(reverse("dashboard:queue"), query)


def _decision_filters(request, data) -> QueueFilters:
    # The form posts to a URL carrying the queue's filters; the hidden community field predates them.
    filters = QueueFilters.from_query(request.GET)
    if data.get("community"):
        filters = dataclasses.replace(filters, community=data["community"])
    return filters


def _form_errors(form) -> dict:
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}


@require_POST
@role_required(can_review)
def flag_decide_view(request, flag_id: int):
    """Record a decision. JSON for vigie.js (no page reload), else redirect to the next flag."""
    flag = _flag_or_404(flag_id)
    form = DecisionForm(request.POST)
    as_json = wants_json(request)
    if not form.is_valid():
        if as_json:
            return JsonResponse({"ok": False, "errors": _form_errors(form)}, status=400)
        return _flag_page(request, flag, form, status=400)
    data = form.cleaned_data
    try:
        decision = flag_decide(
            flag_id=flag.pk,
            user=request.user,
            action=data["action"],
            reason_code=data["reason_code"],
            note=data["note"],
            follow_up=data.get("follow_up") or "",
        )
    except ReviewConflict as exc:
        who = "is being reviewed" if isinstance(exc, FlagClaimed) else "was already decided"
        text = f"Flag {flag.pk} {who} by someone else; nothing was recorded."
        return _refused(request, flag_id=flag.pk, as_json=as_json, status=409, body={"error": text}, message=text)
    except ValidationError as exc:
        if as_json:
            return JsonResponse({"ok": False, "errors": {"__all__": exc.messages}}, status=400)
        for message in exc.messages:
            form.add_error(None, message)
        return _flag_page(request, flag, form, status=400)

    text = f"Flag {flag.pk}: {data['action']} ({data['reason_code']}) recorded."
    filters = _decision_filters(request, data)
    next_url = _next_flag_url(request, filters=filters, exclude=flag.pk)
    if as_json:
        return JsonResponse({
            "ok": True,
            "message": text,
            "decision_id": decision.pk,
            "status": ACTION_STATUS_LABEL.get(decision.action, decision.action),
            "next_url": next_url,
        })
    messages.success(request, text)
    request.session.pop("vigie_last_batch", None)
    return HttpResponseRedirect(next_url)


ACTION_STATUS_LABEL = {"confirm": "confirmed", "dismiss": "dismissed", "escalate": "escalated"}


@require_POST
@role_required(can_review)
def cluster_decide_view(request, flag_id: int):
    """Step 1 (no ``confirm``): preview how many flags the decision covers. Step 2: apply it."""
    flag = _flag_or_404(flag_id)
    form = ClusterDecisionForm(request.POST)
    as_json = wants_json(request)
    if not form.is_valid():
        if as_json:
            return JsonResponse({"ok": False, "errors": _form_errors(form)}, status=400)
        return _flag_page(request, flag, DecisionForm(request.POST), status=400)
    data = form.cleaned_data
    if not data["confirm"]:
        ids = cluster_candidates(flag_id=flag.pk, user=request.user)
        if as_json:
            return JsonResponse({"ok": True, "preview": True, "count": len(ids)})
        return render(request, "dashboard/cluster_confirm.html", {"flag": flag, "form": form, "count": len(ids)})
    try:
        result = cluster_decide(
            flag_id=flag.pk, user=request.user, action=data["action"], reason_code=data["reason_code"],
            note=data["note"], follow_up=data.get("follow_up") or "",
        )
    except ReviewConflict as exc:
        return _refused(request, flag_id=flag.pk, as_json=as_json, status=409, body={"error": str(exc)},
                        message=f"Nothing was recorded: {exc}.")
    except ValidationError as exc:
        return _refused(request, flag_id=flag.pk, as_json=as_json, status=400,
                        body={"errors": {"__all__": exc.messages}}, message=" ".join(exc.messages),
                        level=messages.error)
    text = (f"{data['action']} ({data['reason_code']}) applied to {len(result.decided)} flag"
            f"{'' if len(result.decided) == 1 else 's'} of the cluster"
            + (f"; {len(result.skipped)} skipped (taken by someone else)" if result.skipped else "") + ".")
    undo_url = reverse("dashboard:batch_undo", kwargs={"batch": result.batch})
    next_url = _next_flag_url(request, filters=_decision_filters(request, data), exclude=flag.pk)
    if as_json:
        return JsonResponse({"ok": True, "message": text, "batch": result.batch, "decided": len(result.decided),
                             "skipped": len(result.skipped), "undo_url": undo_url, "next_url": next_url,
                             "status": ACTION_STATUS_LABEL.get(data["action"], data["action"])})
    messages.success(request, text)
    request.session["vigie_last_batch"] = result.batch
    return redirect("dashboard:flag", flag_id=flag.pk)


@require_POST
@role_required(can_review)
def batch_undo(request, batch: str):
    """Undo a cluster decision (its author or a lead)."""
    try:
        result = decision_batch_revert(batch=batch, user=request.user)
    except ReviewDecision.DoesNotExist:
        raise Http404("no such batch") from None
    text = f"Undone: {len(result.decided)} flag{'' if len(result.decided) == 1 else 's'} back in the queue" + (
        f", {len(result.skipped)} left as they were (decided again since)" if result.skipped else "") + "."
    if wants_json(request):
        return JsonResponse({"ok": True, "message": text, "reverted": len(result.decided)})
    messages.success(request, text)
    request.session.pop("vigie_last_batch", None)
    first = result.decided[0] if result.decided else None
    return redirect("dashboard:flag", flag_id=first) if first else redirect("dashboard:queue")


@require_POST
@role_required(is_lead)
def decision_revert_view(request, decision_id: int):
    """A lead reverts a decision: a new ``revert`` decision, the flag back to open."""
    form = RevertForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        revert = decision_revert(decision_id=decision_id, user=request.user, note=note)
    except ReviewDecision.DoesNotExist:
        raise Http404("no such decision") from None
    except (ReviewConflict, ValidationError) as exc:
        text = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        if wants_json(request):
            return JsonResponse({"ok": False, "error": text}, status=409)
        messages.warning(request, f"Not reverted: {text}.")
        flag_id = ReviewDecision.objects.filter(pk=decision_id).values_list("flag_id", flat=True).first()
        return redirect("dashboard:flag", flag_id=flag_id)
    if wants_json(request):
        return JsonResponse({"ok": True, "decision_id": revert.pk})
    messages.success(request, f"Decision {decision_id} reverted; flag {revert.flag_id} is open again.")
    return redirect("dashboard:flag", flag_id=revert.flag_id)


@require_http_methods(["GET", "POST"])
@login_required
def settings_view(request):
    """Wellbeing settings: blur flagged text until revealed."""
    current = reviewer_settings_get(user=request.user)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            reviewer_settings_update(user=request.user, blur=form.cleaned_data["blur"])
            if wants_json(request):
                return JsonResponse({"ok": True, "blur": form.cleaned_data["blur"]})
            messages.success(request, "Settings saved.")
            return redirect("dashboard:settings")
    else:
        form = SettingsForm(initial={"blur": current.blur})
    return render(request, "dashboard/settings.html", {"form": form})


AUDIT_PAGE_SIZE = 200


@require_GET
@role_required(is_lead)
def audit(request):
    """The latest events matching the filters; the export link carries the same filters."""
    form = AuditFilterForm(request.GET)
    valid = form.is_valid()
    filters = form.filters() if valid else None
    return render(request, "dashboard/audit.html", {
        "form": form,
        # A malformed filter shows its error and no rows, never the unfiltered log by surprise.
        "events": audit_events(limit=AUDIT_PAGE_SIZE, filters=filters) if valid else [],
        "filtered": bool(filters and filters.as_query()),
        "query": urlencode(filters.as_query()) if filters else "",
        "page_size": AUDIT_PAGE_SIZE,
        "known_actions": AUDIT_ACTIONS,
    })


class _Echo:
    def write(self, value):
        return value


AUDIT_CSV_HEADER = ["id", "created_at", "actor", "action", "object_type", "object_id", "data"]


def _audit_csv_rows(filters):
    writer = csv.writer(_Echo())
    yield writer.writerow(AUDIT_CSV_HEADER)
    for event in audit_events_iter(filters=filters):
        yield writer.writerow([
            csv_safe(v) for v in (
                event.pk,
                event.created_at.isoformat(),
                event.actor.get_username() if event.actor else "",
                event.action,
                event.object_type,
                event.object_id,
                json.dumps(event.data, ensure_ascii=False, sort_keys=True),
            )
        ])


@require_GET
@role_required(is_lead)
def audit_export(request):
    """The audit log as CSV, streamed (the log only grows), with the audit page's filters."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(f"{field}: {' '.join(errs)}" for field, errs in form.errors.items())
        return HttpResponse(f"Bad filter: {errors}\n", status=400, content_type="text/plain; charset=utf-8")
    response = StreamingHttpResponse(_audit_csv_rows(form.filters()), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="vigie-audit-{stamp}.csv"'
    return response


@require_GET
@role_required(can_review)
def quality(request):
    """Second reviews waiting for this reviewer; for leads also the draw form and agreement figures."""
    lead = is_lead(request.user)
    return render(request, "dashboard/quality.html", {
        "pending": quality_pending(user=request.user),
        "is_lead": lead,
        "sample_form": QualitySampleForm() if lead else None,
        "stats": quality_stats() if lead else None,
        "reviewers": reviewer_stats() if lead else None,
    })


@require_POST
@role_required(is_lead)
def quality_sample_view(request):
    form = QualitySampleForm(request.POST)
    if form.is_valid():
        rows = quality_sample(user=request.user, n=form.cleaned_data["n"])
        messages.success(request, f"{len(rows)} decided flag{'' if len(rows) == 1 else 's'} drawn for a second review.")
    else:
        messages.error(request, "Draw between 1 and 200 flags.")
    return redirect("dashboard:quality")


@require_http_methods(["GET", "POST"])
@role_required(can_review)
def quality_review_view(request, sample_id: int):
    """A blind second review: the flag, not the first decision."""
    try:
        sample = QualityReview.objects.select_related("flag__post", "flag__community", "decision").get(pk=sample_id)
    except QualityReview.DoesNotExist:
        raise Http404("no such sample") from None
    if sample.decision.reviewer_id == request.user.pk:
        raise PermissionDenied
    form = QualityReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            quality_review_record(sample_id=sample.pk, user=request.user, action=form.cleaned_data["action"],
                                  reason_code=form.cleaned_data["reason_code"])
            messages.success(request, "Second review recorded.")
        except ReviewConflict:
            messages.warning(request, "Someone else reviewed this sample first.")
        return redirect("dashboard:quality")
    flag = sample.flag
    return render(request, "dashboard/quality_review.html", {
        "sample": sample, "flag": flag, "post": flag.post, "form": form,
        "segments": flag_segments(text=flag.post.text, evidence=flag.evidence),
        "blur": reviewer_settings_get(user=request.user).blur,
    }, status=400 if request.method == "POST" else 200)
