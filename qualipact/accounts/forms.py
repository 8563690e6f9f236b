from __future__ import annotations

from datetime import date
from typing import Any

from allauth.account.forms import LoginForm
from django import forms
from django.contrib.auth import password_validation
from django.core import signing
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from qualipact.accounts import age
from qualipact.accounts.models import Preferences, User, username_validator
from qualipact.privacy.countries import country_choices

AGE_SALT = "qualipact.accounts.age-gate"
AGE_MAX_AGE = 3600


class AgeGateForm(forms.Form):
    """Asked before anything else; neither answer is stored."""

    birth_date = forms.DateField(
        label="Date of birth", widget=forms.DateInput(attrs={"type": "date"})
    )
    country = forms.ChoiceField(
        label="Country where you live", choices=[("", "—"), *country_choices()]
    )

    def clean_birth_date(self) -> date:
        born: date = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if born.year < today.year - 130:
            raise forms.ValidationError("Please check the year of your date of birth.")
        return born

    def age_token(self) -> str:
        """What the next step needs of the answers: only whether, and until when, a child."""
        until = age.child_until(
            birth_date=self.cleaned_data["birth_date"],
            country=self.cleaned_data["country"],
            today=timezone.localdate(),
        )
        return signing.dumps({"c": until.isoformat() if until else None}, salt=AGE_SALT)


def age_token_child_until(token: str) -> tuple[bool, date | None]:
    """(valid, child_until) from the age step's signed answer."""
    try:
        payload = signing.loads(token, salt=AGE_SALT, max_age=AGE_MAX_AGE)
    except signing.BadSignature:
        return False, None
    if not isinstance(payload, dict) or "c" not in payload:
        return False, None
    return True, date.fromisoformat(payload["c"]) if payload["c"] else None


class PasswordField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("strip", False)
        kwargs.setdefault("max_length", 256)
        widget = forms.PasswordInput(attrs={"autocomplete": "new-password"})
        super().__init__(widget=widget, **kwargs)


class SignUpForm(forms.Form):
    age = forms.CharField(widget=forms.HiddenInput)
    username = forms.CharField(
        max_length=30,
        validators=[username_validator],
        help_text="3 to 30 letters, digits, dots, underscores or hyphens. Shown to nobody else.",
    )
    email = forms.EmailField(max_length=254, help_text="We send a confirmation link here.")
    password = PasswordField(help_text=password_validation.password_validators_help_texts()[0])
    parent_email = forms.EmailField(
        required=False,
        max_length=254,
        label="A parent's email address",
        help_text="Your parent or guardian gets a link to agree before your account can be used.",
    )

    def __init__(self, *args: Any, child: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.child = child
        if child:
            self.fields["parent_email"].required = True
        else:
            del self.fields["parent_email"]

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("This username is taken; choose another.")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password:
            probe = User(username=data.get("username") or "")
            try:
                password_validation.validate_password(password, probe)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        parent = (data.get("parent_email") or "").strip().lower()
        if parent and parent == (data.get("email") or "").strip().lower():
            self.add_error("parent_email", "A parent's address must differ from yours.")
        return data


class EmailForm(forms.Form):
    email = forms.EmailField(max_length=254)


class NewPasswordForm(forms.Form):
    password = PasswordField(label="New password")

    def __init__(self, *args: Any, user: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        password_validation.validate_password(password, self.user)
        return password


class PreferencesForm(forms.ModelForm):
    # Only choices that do something: the site is in English until translations exist,
    # and there are no site notices yet (both columns are kept for then).
    class Meta:
        model = Preferences
        fields = ["channel_email"]
        labels = {
            "channel_email": "Email me optional notices about my account",
        }
        help_texts = {
            "channel_email": (
                "Such as a sign-in from a new device. Security notices that must reach you, "
                "links you ask for (password reset, address confirmation) and answers to your "
                "requests are always sent."
            ),
        }


class DeleteAccountForm(forms.Form):
    confirm = forms.CharField(
        label='Type "delete my account" to confirm',
        help_text="Everything we hold about you is deleted and cannot be recovered.",
    )

    def clean_confirm(self) -> str:
        value: str = self.cleaned_data["confirm"]
        if value.strip().lower() != "delete my account":
            raise forms.ValidationError('Type exactly "delete my account".')
        return value


class SignInForm(LoginForm):
    """allauth's sign-in form; its one field takes a username or a whole email address.

    allauth sizes the field for a username (30 characters), which turned away every
    address longer than that before the password was even checked.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        assert isinstance(login, forms.CharField)
        login.max_length = 254
        # Checked here, before the password: an over-long login never reaches the
        # sign-in backends, nor axes' table of failures (a 255-character column).
        login.validators = [
            *(v for v in login.validators if not hasattr(v, "limit_value")),
            MaxLengthValidator(254),
        ]
        login.widget.attrs.update({"maxlength": "254", "placeholder": "Username or email address"})
