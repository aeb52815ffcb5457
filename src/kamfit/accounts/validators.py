"""Password validators: a 128-character ceiling, and no words from kamfit's own context.

No composition rules (NIST SP 800-63B): length, the common-password list and these two.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

__all__ = ["ContextWordsValidator", "MaximumLengthValidator"]


class MaximumLengthValidator:
    """Refuse passwords longer than ``max_length`` characters (Unicode characters, as typed)."""

    def __init__(self, max_length: int = 128) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                f"This password is too long: use at most {self.max_length} characters.",
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return f"Your password may be up to {self.max_length} characters long."


class ContextWordsValidator:
    """Refuse passwords containing a word anyone could guess from where they are used.

    The words: ``kamfit``, ``warwick`` (the framework's source), the user's username and
    the names and slugs of the user's organisations. Case, spaces and punctuation are
    ignored when comparing; words shorter than four letters are not checked.
    """

    WORDS = ("kamfit", "warwick")
    MIN_WORD = 4

    def validate(self, password: str, user: Any = None) -> None:
        flat = _flat(password)
        for word in self._words(user):
            if word in flat:
                raise ValidationError(
                    "This password contains a word that is easy to guess here "
                    "(the application's, your organisation's or your own name). Choose another.",
                    code="password_context_word",
                )

    def get_help_text(self) -> str:
        return "Your password cannot contain kamfit, your organisation's name or your username."

    def _words(self, user: Any) -> list[str]:
        words = list(self.WORDS)
        if user is not None:
            words.append(str(user.get_username() or ""))
            if user.pk is not None:
                from kamfit.orgs.models import Organisation  # noqa: PLC0415 - apps load first

                for name, slug in Organisation.objects.filter(
                    memberships__user_id=user.pk
                ).values_list("name", "slug"):
                    words.extend([name, slug, *re.split(r"\W+", name)])
        flat = {_flat(w) for w in words}
        return sorted(w for w in flat if len(w) >= self.MIN_WORD and w not in _GENERIC)


def _flat(text: str) -> str:
    """Lower-case letters and digits only: "Acme Supplies!" -> "acmesupplies"."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


# Company-name filler that would refuse half of all passphrases if it counted as a name.
_GENERIC = frozenset({"limited", "group", "company", "holdings", "international", "industrial"})
