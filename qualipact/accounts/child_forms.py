"""Forms of the children's pages: the parent's correction and confirmations, the birth date."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone

from qualipact.accounts.forms import COUNTRIES
from qualipact.accounts.models import username_validator


class ChildCorrectForm(forms.Form):
    username = forms.CharField(max_length=30, validators=[username_validator])
    email = forms.EmailField(
        max_length=254,
        help_text="A new address must be confirmed by your child before the account works again.",
    )


class ConfirmForm(forms.Form):
    """A checkbox that must be ticked before something irreversible happens."""

    confirm = forms.BooleanField(required=True)

    def __init__(self, *args: object, label: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["confirm"].label = label


class BirthDateForm(forms.Form):
    """The account holder corrects their date of birth; used once and not stored."""

    birth_date = forms.DateField(
        label="Your date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    country = forms.ChoiceField(label="Country where you live", choices=[("", "—"), *COUNTRIES])

    def clean_birth_date(self) -> date:
        born: date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if born.year < today.year - 130:
            raise forms.ValidationError("Please check the year of your date of birth.")
        return born


class UnderageReportForm(forms.Form):
    """Staff: the username of an account found to belong to a child without consent."""

    username = forms.CharField(max_length=30, validators=[username_validator])
    confirm = forms.BooleanField(
        required=True,
        label="I checked: this account belongs to a child below the age threshold",
    )
