"""Forms for making a request about one's data, with or without an account."""

from __future__ import annotations

from typing import Any

from django import forms

from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.purposes import PURPOSES, LegalBasis
from qualipact.rights.deadlines import Regime
from qualipact.rights.models import DataRequest

ERASURE_CONFIRMATION = (
    "I understand: my data is erased for good, my account (if I have one) is deleted, "
    "and this cannot be undone"
)
EXPORT_CONFIRMATION = (
    "I understand: a copy of all my data is prepared, and a link to download it, once, "
    "is emailed to me"
)
# Kinds that cannot be undone or that hand out the person's data: a recent sign-in
# (qualipact.web.reauth) and an explicit confirmation, on every channel.
SENSITIVE_KINDS = frozenset(
    {DataRequest.Kind.ERASURE, DataRequest.Kind.ACCESS, DataRequest.Kind.PORTABILITY}
)
OBJECTABLE = [
    (code, purpose.label)
    for code, purpose in PURPOSES.items()
    if purpose.legal_basis is LegalBasis.LEGITIMATE_INTEREST or code == "marketing"
]
CONSENTED = [
    (code, purpose.label)
    for code, purpose in PURPOSES.items()
    if purpose.legal_basis is LegalBasis.CONSENT
]
# Which field a service error about a detail belongs to.
_ERROR_FIELDS = {
    "correction": "wrong",
    "purpose": "purpose",
    "purposes": "purposes",
    "endpoint": "endpoint",
}


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label="What do you ask?", choices=DataRequest.Kind.choices)
    wrong = forms.CharField(
        label="What is wrong",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    should_be = forms.CharField(
        label="What it should be",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    purpose = forms.ChoiceField(
        label="The use you object to",
        required=False,
        choices=[("", "Choose…"), *OBJECTABLE],
        help_text="Objecting to direct marketing always stops it, at once.",
    )
    purposes = forms.MultipleChoiceField(
        label="The consents you withdraw",
        required=False,
        choices=CONSENTED,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none to withdraw every consent you gave.",
    )
    endpoint = forms.CharField(
        label="Send it directly to another provider (optional)",
        required=False,
        max_length=500,
        help_text="The https:// address the other provider gave you for receiving your data.",
    )
    california = forms.BooleanField(
        label="I live in California",
        required=False,
        help_text="Your request is then answered under the CCPA: within 45 days.",
    )
    confirm_erasure = forms.BooleanField(label=ERASURE_CONFIRMATION, required=False)
    confirm_export = forms.BooleanField(label=EXPORT_CONFIRMATION, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == DataRequest.Kind.RECTIFICATION:
            if not data.get("wrong", "").strip():
                self.add_error("wrong", "Say what is wrong.")
            if not data.get("should_be", "").strip():
                self.add_error("should_be", "Say what it should be.")
        if kind == DataRequest.Kind.OBJECTION and not data.get("purpose"):
            self.add_error("purpose", "Choose the use you object to.")
        if kind == DataRequest.Kind.ERASURE and not data.get("confirm_erasure"):
            self.add_error("confirm_erasure", "Tick the box to confirm the erasure.")
        exports = (DataRequest.Kind.ACCESS, DataRequest.Kind.PORTABILITY)
        if kind in exports and not data.get("confirm_export"):
            self.add_error("confirm_export", "Tick the box to confirm you want a copy.")
        if data.get("endpoint") and kind != DataRequest.Kind.PORTABILITY:
            self.add_error("endpoint", "A direct transfer is only for a portability request.")
        return data

    @property
    def regime(self) -> str:
        return Regime.CCPA if self.cleaned_data.get("california") else Regime.GDPR

    def details(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["kind"]
        if kind == DataRequest.Kind.RECTIFICATION:
            return {
                "correction": f"What is wrong: {data['wrong'].strip()}\n"
                f"What it should be: {data['should_be'].strip()}"
            }
        if kind == DataRequest.Kind.OBJECTION:
            return {"purpose": data["purpose"]}
        if kind == DataRequest.Kind.CONSENT_WITHDRAWAL:
            return {"purposes": list(data["purposes"])} if data["purposes"] else {}
        if kind == DataRequest.Kind.PORTABILITY and data.get("endpoint"):
            return {"endpoint": data["endpoint"].strip()}
        return {}

    def add_service_error(self, error: ApplicationError) -> None:
        """Show a refusal of the service next to the field it is about."""
        for key in error.extra:
            if field := _ERROR_FIELDS.get(key):
                self.add_error(field, error.public)
                return
        self.add_error(None, error.public)


class EmailRequestForm(RequestForm):
    """A request from a person without an account: the code goes to the address on file."""

    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        help_text="The address you used with us. We send a code to it to confirm it is yours.",
    )
    field_order = ["email", "kind"]


class CodeForm(forms.Form):
    ticket = forms.CharField(widget=forms.HiddenInput, max_length=1000)
    code = forms.CharField(
        label="The code from the email",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ReceiptForm(forms.Form):
    receipt = forms.CharField(widget=forms.HiddenInput, max_length=1000)
