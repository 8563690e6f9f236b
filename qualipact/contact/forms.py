import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from qualipact.contact.models import Inquiry
from qualipact.privacy.countries import country_choices

_PHONE = re.compile(r"^\+?[0-9 ()./\-]{6,32}$")


class InquiryForm(forms.Form):
    kind = forms.ChoiceField(
        label="What is this about?", choices=Inquiry.Kind.choices, initial=Inquiry.Kind.GENERAL
    )
    name = forms.CharField(label="Your name", max_length=200)
    email = forms.EmailField(
        label="Email address", max_length=254, help_text="We reply to this address only."
    )
    phone = forms.CharField(label="Phone (optional)", max_length=32, required=False)
    postal_address = forms.CharField(
        label="Postal address (optional)",
        max_length=500,
        required=False,
        help_text="Read only by our Data Protection Officer, for privacy requests.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # Kept only with a complaint: it names the supervisory authority the person may turn
    # to (GDPR Art 77), in the acknowledgement and on the ticket's page.
    country = forms.ChoiceField(
        label="Country you live in (optional)",
        choices=[("", "Choose a country (optional)"), *country_choices()],
        required=False,
        help_text=(
            "For a complaint: tells you which data protection authority you may also complain "
            "to. Kept only with complaints."
        ),
    )
    subject_line = forms.CharField(label="Subject", max_length=200)
    message = forms.CharField(
        label="Message", max_length=10000, widget=forms.Textarea(attrs={"rows": 8})
    )
    # Honeypot: hidden from people, filled in by bots.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, account_email: str | None = None, **kwargs: Any) -> None:
        """`account_email`: the signed-in account's address. The form then shows it and
        takes no other (a disabled field keeps its initial value, whatever is sent)."""
        super().__init__(*args, **kwargs)
        self.account_email = account_email
        if account_email is not None:
            email = self.fields["email"]
            email.disabled = True
            email.initial = account_email
            self.initial = {**self.initial, "email": account_email}
            email.label = "Email address of your account"
            email.help_text = (
                "We reply to this address only. To write from another address, sign out first."
            )

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if phone and not _PHONE.match(phone):
            raise ValidationError(
                "Enter a phone number using digits, spaces and + ( ) - . / only.", code="phone"
            )
        return phone

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if len(message) < 10:
            raise ValidationError("Please write at least 10 characters.", code="too_short")
        return message

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))
