"""Forms of the children's pages: the parent's correction and confirmations, the birth date."""

from __future__ import annotations

from typing import Any

from django import forms

from qualipact.accounts.forms import AgeGateForm
from qualipact.accounts.models import username_validator
from qualipact.accounts.services.children import STAFF_REASONS


class ChildCorrectForm(forms.Form):
    username = forms.CharField(max_length=30, validators=[username_validator])
    email = forms.EmailField(
        max_length=254,
        help_text=(
            "A new address takes effect when your child follows the link we send to it; "
            "until then the account keeps the current one."
        ),
    )


class ConfirmForm(forms.Form):
    """A checkbox that must be ticked before something irreversible happens."""

    confirm = forms.BooleanField(required=True)

    def __init__(self, *args: object, label: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["confirm"].label = label


class BirthDateForm(AgeGateForm):
    """The account holder corrects their date of birth; used once and not stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].label = "Your date of birth"


class UnderageLookupForm(forms.Form):
    """Staff (DPO): the username of an account reported to belong to a child."""

    username = forms.CharField(max_length=30, validators=[username_validator])


class UnderageReportForm(AgeGateForm):
    """Staff (DPO): what the report says, and why we act; the dates are used once, not kept."""

    username = forms.CharField(
        max_length=30, validators=[username_validator], widget=forms.HiddenInput
    )
    reason = forms.ChoiceField(label="How we learned it", choices=[("", "—"), *STAFF_REASONS])
    confirm = forms.BooleanField(
        required=True,
        label="I checked the report: this account belongs to a child below the age threshold",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["birth_date"].label = "Date of birth the report gives"
        self.fields["country"].label = "Country the report gives"
