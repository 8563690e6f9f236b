"""What a page may tell a person about a refused action: never the error's own message.

An `ApplicationError`'s message is written for developers and logs: it can name models,
fields, ids, purpose codes or the input itself. A page shows a sentence chosen for the
error's stable `code` instead (the caller's first, then the common ones below), or a
general one, so that nothing internal, and nothing about whose an address is, reaches
a person's screen.
"""

from __future__ import annotations

from collections.abc import Mapping

from qualipact.privacy.errors import ApplicationError

GENERAL = "That could not be done."

COMMON: Mapping[str, str] = {
    "processing_refused": "This needs your consent first. Nothing was stored.",
    "invalid_link": "This link is not valid.",
}


def person_message(
    error: ApplicationError, sentences: Mapping[str, str] | None = None, *, default: str = GENERAL
) -> str:
    """The sentence a page shows for this error: chosen by its code, never its message."""
    return (sentences or {}).get(error.code) or COMMON.get(error.code) or default
