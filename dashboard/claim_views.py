"""The claim bank pages: list, read, create and edit claims; list and export the posts matched to one.

Researchers read and export (``claims.view_claim``, ``claims.view_claimmatch``); leads also
create and edit (``claims.add_claim``, ``claims.change_claim``), each change audited by
``monitor.claims.services.claim_save``. Reviewers meet claims beside misinformation flags.
"""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.core.validators import URLValidator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from monitor.claims.models import Claim
from monitor.claims.selectors import (
    claim_get,
    claim_matches,
    claim_matches_csv_lines,
    claim_matches_jsonl_lines,
    claim_review_link,
    claims_list,
)
from monitor.claims.services import CLAIM_EDITABLE, claim_save

from .views import _page_number, role_required

CLAIMS_PER_PAGE = 50
MATCHES_PER_PAGE = 25
CLAIM_TEXT_MAX = 2000
EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def _perm(name: str):
    def predicate(user) -> bool:
        return bool(user is not None and user.is_authenticated and user.is_active and user.has_perm(name))

    return predicate


can_view_claims = _perm("claims.view_claim")
can_export_matches = _perm("claims.view_claimmatch")
can_add_claim = _perm("claims.add_claim")
can_change_claim = _perm("claims.change_claim")

_HTTP_URL = URLValidator(schemes=["http", "https"])


class ClaimForm(forms.ModelForm):
    """What a lead may set on a claim; ``source_id`` and the match data are not theirs to edit."""

    text = forms.CharField(max_length=CLAIM_TEXT_MAX, strip=True, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="The claim as the fact-checker reviewed it.")
    url = forms.CharField(required=False, max_length=2048, validators=[_HTTP_URL], label="Where the claim appeared",
                          help_text="An http(s) address, optional.")
    review_url = forms.CharField(required=False, max_length=2048, validators=[_HTTP_URL], label="Fact-check URL",
                                 help_text="An http(s) address of the fact-check article.")
    published_at = forms.DateTimeField(required=False, label="Review published (UTC)",
                                       help_text="YYYY-MM-DD or YYYY-MM-DD HH:MM")
    claimed_at = forms.DateTimeField(required=False, label="Claim made (UTC)",
                                     help_text="YYYY-MM-DD or YYYY-MM-DD HH:MM")

    class Meta:
        model = Claim
        fields = list(CLAIM_EDITABLE)

    def clean_text(self):
        text = self.cleaned_data["text"]
        if not any(ch.isalnum() for ch in text):
            raise forms.ValidationError("The claim needs some words.")
        if any(0xD800 <= ord(ch) <= 0xDFFF or ch == "\x00" for ch in text):
            raise forms.ValidationError("The claim contains invalid characters.")
        return text


def _claim_or_404(claim_id: int) -> Claim:
    try:
        return claim_get(claim_id=claim_id)
    except Claim.DoesNotExist:
        raise Http404("no such claim") from None


@require_GET
@role_required(can_view_claims)
def claims(request):
    """Every claim with how many posts repeat it, most repeated first."""
    page = Paginator(claims_list(), CLAIMS_PER_PAGE).get_page(_page_number(request.GET.get("page")))
    return render(request, "dashboard/claims.html", {"page": page, "can_add": can_add_claim(request.user)})


@require_GET
@role_required(can_view_claims)
def claim_detail(request, claim_id: int):
    """One claim and every post matched to it (paginated; status, stance, score), with exports."""
    claim = _claim_or_404(claim_id)
    include_rejected = request.GET.get("rejected") == "1"
    matches = claim_matches(claim_id=claim.pk, include_rejected=include_rejected)
    page = Paginator(matches, MATCHES_PER_PAGE).get_page(_page_number(request.GET.get("page")))
    return render(request, "dashboard/claim.html", {
        "claim": claim,
        "review_link": claim_review_link(claim=claim),
        "page": page,
        "include_rejected": include_rejected,
        "can_edit": can_change_claim(request.user),
        "can_export": can_export_matches(request.user),
    })


@require_http_methods(["GET", "POST"])
@role_required(can_add_claim)
def claim_create(request):
    form = ClaimForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = claim_save(actor=request.user, values=form.cleaned_data)
        except ValidationError as exc:
            # The same fact-check (review URL, or publisher and text) is already in the bank.
            form.add_error(None, "This claim is already in the bank." if "source_id" in getattr(exc, "error_dict", {})
                           else " ".join(exc.messages))
        else:
            return redirect("dashboard:claim", claim_id=claim.pk)
    return render(request, "dashboard/claim_form.html", {"form": form, "claim": None},
                  status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
@role_required(can_change_claim)
def claim_edit(request, claim_id: int):
    claim = _claim_or_404(claim_id)
    form = ClaimForm(request.POST if request.method == "POST" else None, instance=claim)
    if request.method == "POST" and form.is_valid():
        claim_save(actor=request.user, values=form.cleaned_data, claim_id=claim.pk)
        return redirect("dashboard:claim", claim_id=claim.pk)
    return render(request, "dashboard/claim_form.html", {"form": form, "claim": claim},
                  status=400 if request.method == "POST" else 200)


@require_GET
@role_required(can_export_matches)
def claim_export(request, claim_id: int, fmt: str):
    """Every post matched to the claim (rejected ones too, with their status): streamed CSV or JSON lines."""
    if fmt not in EXPORT_FORMATS:
        raise Http404("unknown export format")
    claim = _claim_or_404(claim_id)
    matches = claim_matches(claim_id=claim.pk, include_rejected=True).iterator(chunk_size=500)
    lines = claim_matches_csv_lines(matches) if fmt == "csv" else claim_matches_jsonl_lines(matches)
    response = StreamingHttpResponse(lines, content_type=EXPORT_FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="claim-{claim.pk}-matches.{fmt}"'
    return response
