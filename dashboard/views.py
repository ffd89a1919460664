"""Dashboard pages: check permission, call a selector or a service, render."""
from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from monitor.models import Flag
from monitor.review import REASON_CODES, ReviewConflict, flag_can_decide, flag_decide
from monitor.roles import can_review, is_lead
from monitor.selectors import (
    audit_events,
    communities_list,
    flag_decisions,
    flag_evidence,
    flag_excerpt,
    flag_get,
    flag_segments,
    flags_queue,
    post_external_url,
)

from .forms import DecisionForm

PAGE_SIZE = 50
MAX_PAGE = 10_000
QUEUE_STATUSES = [s.value for s in Flag.Status]


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
    status = request.GET.get("status") or Flag.Status.OPEN
    if status not in QUEUE_STATUSES:
        status = Flag.Status.OPEN
    community = request.GET.get("community") or None
    page = _page_number(request.GET.get("page"))
    # One extra row tells whether a next page exists without a COUNT over the whole table.
    flags = flags_queue(status=status, community=community, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    rows = [(flag, flag_excerpt(text=flag.post.text, evidence=flag.evidence)) for flag in flags[:PAGE_SIZE]]
    return render(
        request,
        "dashboard/queue.html",
        {
            "rows": rows,
            "status": status,
            "statuses": QUEUE_STATUSES,
            "community": community,
            "communities": communities_list(),
            "page": page,
            "has_next": len(flags) > PAGE_SIZE,
            "rank_offset": (page - 1) * PAGE_SIZE,
        },
    )


def _flag_page(request, flag: Flag, form: DecisionForm, *, status: int = 200):
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
            "can_decide": flag_can_decide(flag=flag, user=request.user),
            "form": form,
            "reasons": REASON_CODES,
            "decisions": flag_decisions(flag_id=flag.pk),
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
    flag = _flag_or_404(flag_id)
    form = DecisionForm(initial={"community": request.GET.get("community", "")})
    return _flag_page(request, flag, form)


@require_POST
@role_required(can_review)
def flag_decide_view(request, flag_id: int):
    flag = _flag_or_404(flag_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _flag_page(request, flag, form, status=400)
    data = form.cleaned_data
    try:
        flag_decide(
            flag_id=flag.pk,
            user=request.user,
            action=data["action"],
            reason_code=data["reason_code"],
            note=data["note"],
        )
    except ReviewConflict:
        messages.warning(request, f"Flag {flag.pk} was already decided by someone else; nothing was recorded.")
        return redirect("dashboard:flag", flag_id=flag.pk)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _flag_page(request, flag, form, status=400)

    messages.success(request, f"Flag {flag.pk}: {data['action']} ({data['reason_code']}) recorded.")
    community = data.get("community") or None
    upcoming = flags_queue(community=community, limit=1)
    if upcoming:
        url = reverse("dashboard:flag", kwargs={"flag_id": upcoming[0].pk})
        return redirect(f"{url}?community={community}" if community else url)
    return redirect(f"{reverse('dashboard:queue')}?community={community}" if community else "dashboard:queue")


@require_GET
@role_required(is_lead)
def audit(request):
    return render(request, "dashboard/audit.html", {"events": audit_events(limit=200)})
