"""Forms of the account pages: every change of a credential asks for the current password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordChangeForm

__all__ = [
    "CodeForm",
    "EmailChangeForm",
    "KamfitPasswordChangeForm",
    "ReauthenticateForm",
]


class CodeForm(forms.Form):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class ReauthenticateForm(forms.Form):
    """The current password, asked again before a security change."""

    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                "Current password: this is not your current password.", code="password_incorrect"
            )
        return password


class EmailChangeForm(ReauthenticateForm):
    """A new e-mail address, confirmed by the current password."""

    field_order = ["email", "password"]

    email = forms.EmailField(label="New e-mail address", max_length=254)

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip()
        taken = get_user_model().objects.filter(email__iexact=email).exclude(pk=self.user.pk)
        if taken.exists():
            raise forms.ValidationError(
                "New e-mail address: another account already uses it.", code="email_taken"
            )
        return email


class KamfitPasswordChangeForm(PasswordChangeForm):
    """Django's password change, plus the choice to sign out every other session."""

    sign_out_others = forms.BooleanField(
        label="Sign out my other sessions", required=False, initial=True
    )
