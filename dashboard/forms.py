"""Dashboard forms. They check input shape; the policy is asked of ``monitor.review``."""
from __future__ import annotations

from django import forms

from monitor.models import ReviewDecision
from monitor.review import NOTE_MAX_CHARS, REASON_CODES, reason_code_fits


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
