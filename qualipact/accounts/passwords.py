"""Password rules after NIST SP 800-63B-4: length and a blocklist, never composition rules."""

from __future__ import annotations

import itertools
import re
from typing import Any

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError

MIN_LENGTH = 15  # a password that is the only factor
MAX_LENGTH = 256  # NIST asks that at least 64 be allowed


class LengthValidator:
    def validate(self, password: str, user: Any = None) -> None:
        if len(password) < MIN_LENGTH:
            raise ValidationError(
                f"Use at least {MIN_LENGTH} characters. A few unrelated words make a strong, "
                "memorable password; spaces and any symbols are welcome.",
                code="password_too_short",
            )
        if len(password) > MAX_LENGTH:
            raise ValidationError(f"Use at most {MAX_LENGTH} characters.", code="password_too_long")

    def get_help_text(self) -> str:
        return (
            f"At least {MIN_LENGTH} characters (up to {MAX_LENGTH}). No rules about digits or "
            "symbols: length is what makes a password strong."
        )


class BlocklistValidator:
    """Refuses passwords from a list of 20,000 found most often in breaches, and repeats."""

    def __init__(self) -> None:
        # Django's list (compiled from breach corpora); kept in memory once.
        self._common = CommonPasswordValidator()

    def validate(self, password: str, user: Any = None) -> None:
        folded = password.lower().strip()
        repeated = re.fullmatch(r"(.{1,4}?)\1+", folded) is not None
        if folded in self._common.passwords or repeated or _is_sequence(folded):
            raise ValidationError(
                "This password is too common: it appears in lists that attackers try first. "
                "Choose another.",
                code="password_blocklisted",
            )

    def get_help_text(self) -> str:
        return "Not a password that appears in breach lists or a repeated pattern."


class ContextValidator:
    """Refuses passwords built from the service's name or the account's username."""

    def validate(self, password: str, user: Any = None) -> None:
        folded = re.sub(r"[^a-z0-9]", "", password.lower())
        words = ["qualipact"]
        username = getattr(user, "username", "") or ""
        if len(username) >= 3:
            words.append(re.sub(r"[^a-z0-9]", "", username.lower()))
        for word in words:
            if word and len(folded.replace(word, "")) < MIN_LENGTH // 2:
                raise ValidationError(
                    "This password is mostly the site's name or your username. Choose another.",
                    code="password_from_context",
                )

    def get_help_text(self) -> str:
        return "Not mostly your username or the site's name."


def _is_sequence(text: str) -> bool:
    if len(text) < 4:
        return False
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})
