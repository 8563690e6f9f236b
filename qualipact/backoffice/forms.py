"""The back office's forms: inviting staff, choosing roles, and the invitee's account."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from qualipact.accounts.forms import PasswordField
from qualipact.accounts.models import User, username_validator
from qualipact.web.roles import Role


class RoleChoiceField(forms.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("choices", Role.choices)
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(**kwargs)


class InviteForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="Email address",
        help_text="The person gets a link, valid for 7 days, to choose a username and a password.",
    )
    roles = RoleChoiceField(
        label="Roles",
        error_messages={"required": "Choose at least one role."},
        help_text="Each role opens only the pages it needs. You can change them later.",
    )


class RolesForm(forms.Form):
    roles = RoleChoiceField(label="Roles", required=False)


class InviteAcceptForm(forms.Form):
    username = forms.CharField(
        max_length=30,
        validators=[username_validator],
        help_text="3 to 30 letters, digits, dots, underscores or hyphens. You sign in with it.",
    )
    password = PasswordField(help_text=password_validation.password_validators_help_texts()[0])
    password_again = PasswordField(label="Password again")

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("This username is taken; choose another.")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        password = data.get("password")
        if password and data.get("password_again") != password:
            self.add_error("password_again", "The two passwords differ; type the same one twice.")
        elif password:
            try:
                password_validation.validate_password(
                    password, User(username=data.get("username") or "")
                )
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data
