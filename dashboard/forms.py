"""Dashboard forms. They check input shape; the policy is asked of ``monitor.review``."""
from __future__ import annotations

from django import forms

from monitor.models import ReviewDecision
from monitor.review import NOTE_MAX_CHARS, REASON_CODES, reason_code_fits
from monitor.roles import users_can_review
from monitor.selectors import AuditFilters


def reason_code_choices() -> list:
    """Reason codes grouped for a <select>: violations, then non-violations."""
    violation = [(code, r["label"]) for code, r in REASON_CODES.items() if r["violation"]]
    other = [(code, r["label"]) for code, r in REASON_CODES.items() if not r["violation"]]
    return [("", "— choose a reason —"), ("Violation", violation), ("Not a violation", other)]


DECISION_ACTIONS = [(a.value, a.label) for a in ReviewDecision.Action if a != ReviewDecision.Action.REVERT]


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=DECISION_ACTIONS, widget=forms.RadioSelect)
    reason_code = forms.ChoiceField(choices=reason_code_choices)
    note = forms.CharField(
        max_length=NOTE_MAX_CHARS,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX_CHARS}),
    )
    # Only for confirm; the service fills in "remove" when it is left empty.
    follow_up = forms.ChoiceField(
        choices=ReviewDecision.FollowUp.choices, required=False, widget=forms.RadioSelect,
        initial=ReviewDecision.FollowUp.REMOVE.value,
    )
    # Keeps a reviewer working one community's queue in that queue after deciding.
    community = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # vigie.js greys out the reasons that do not fit the chosen action.
        violations = " ".join(code for code, r in REASON_CODES.items() if r["violation"])
        self.fields["reason_code"].widget.attrs["data-violation-codes"] = violations

    def clean(self):
        data = super().clean()
        action, reason_code = data.get("action"), data.get("reason_code")
        if action and reason_code and not reason_code_fits(action=action, reason_code=reason_code):
            self.add_error(
                "reason_code",
                "Confirming needs a violation reason; dismissing needs a 'not a violation' reason.",
            )
        return data


class ClusterDecisionForm(DecisionForm):
    """The same decision for every open flag of a cluster; ``confirm`` is set on the second step."""

    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)


class RevertForm(forms.Form):
    note = forms.CharField(max_length=NOTE_MAX_CHARS, required=False, strip=True,
                           widget=forms.Textarea(attrs={"rows": 2, "maxlength": NOTE_MAX_CHARS}))


class SettingsForm(forms.Form):
    blur = forms.BooleanField(required=False, label="Blur flagged text until I reveal it")


class QualitySampleForm(forms.Form):
    n = forms.IntegerField(min_value=1, max_value=200, initial=20, label="Flags to draw")


class QualityReviewForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(ReviewDecision.Action.CONFIRM.value, "confirm"), (ReviewDecision.Action.DISMISS.value, "dismiss")],
        widget=forms.RadioSelect,
    )
    reason_code = forms.ChoiceField(choices=reason_code_choices)

    def clean(self):
        data = super().clean()
        action, reason_code = data.get("action"), data.get("reason_code")
        if action and reason_code and not reason_code_fits(action=action, reason_code=reason_code):
            self.add_error("reason_code", "This reason does not fit the action.")
        return data


class ReassignForm(forms.Form):
    """A lead picks who should hold a flag; the choices are the users who may review it."""

    to_user = forms.ModelChoiceField(queryset=None, label="Reassign to", empty_label="— choose a reviewer —")

    def __init__(self, *args, leads_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = users_can_review(leads_only=leads_only)
        self.fields["to_user"].label_from_instance = lambda user: user.get_username()


class AuditFilterForm(forms.Form):
    """The audit page's filters; the export takes the same query string. Empty fields do not filter."""

    action = forms.CharField(required=False, max_length=64, widget=forms.TextInput(attrs={"list": "audit-actions"}),
                             help_text='Exact, or a prefix ending in "." ("flag." for every flag event).')
    actor = forms.CharField(required=False, max_length=150, label="Who (username)")
    object_type = forms.CharField(required=False, max_length=64, label="Object type")
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    since = forms.DateField(required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To (UTC, inclusive)",
                            widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", "The end date is before the start date.")
        return data

    def filters(self) -> AuditFilters:
        """The validated fields as ``AuditFilters`` (call after ``is_valid()``)."""
        data = self.cleaned_data
        return AuditFilters(
            action=data.get("action") or "",
            actor=data.get("actor") or "",
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id") or "",
            since=data.get("since"),
            until=data.get("until"),
        )
