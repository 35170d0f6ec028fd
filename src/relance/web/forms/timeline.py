"""Adding to a timeline by hand: a note, or a call and its outcome."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from relance.ledger.models import ActivityKind, CallOutcome


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Type"), choices=[(ActivityKind.NOTE, _("Note")), (ActivityKind.CALL, _("Call"))]
    )
    call_outcome = forms.ChoiceField(
        label=_("Outcome of the call"), required=False, choices=[("", "—"), *CallOutcome.choices]
    )
    text = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") == ActivityKind.CALL and not data.get("call_outcome"):
            self.add_error("call_outcome", _("Say how the call went."))
        if data.get("kind") == ActivityKind.NOTE and not data.get("text", "").strip():
            self.add_error("text", _("Write the note."))
        if data.get("kind") == ActivityKind.NOTE:
            data["call_outcome"] = ""
        return data
