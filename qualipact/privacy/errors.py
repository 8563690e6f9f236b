"""The domain errors of the privacy core.

Each error has two texts. `message` is for logs and may name ids, model labels and field
names (never personal data). `public` is what a person is told: the API and pages show it,
never `message`. An error class whose messages are internal sets `public_message`; an
error raised with a message written for people can say so with `public=`.
"""

from typing import Any


class ApplicationError(Exception):
    """A domain rule refused the operation; `extra` carries machine-readable detail."""

    code = "application_error"
    status = 400
    # What a person is told when the message is for logs only (None: see `public`).
    public_message: str | None = None
    # Whether `extra` may be shown to a person (False for errors about internals).
    public_extra = True

    def __init__(
        self, message: str, extra: dict[str, Any] | None = None, *, public: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
        self._public = public

    @property
    def public(self) -> str:
        """The person-facing text: given at raise, else the class's, else the message."""
        return self._public or self.public_message or self.message


class InvalidInput(ApplicationError):
    """The input breaks a rule of the data it would change (RFC 9110 422 semantics)."""

    code = "invalid_input"
    status = 422


class Conflict(ApplicationError):
    """The change would collide with data that exists (a unique value is taken)."""

    code = "conflict"
    status = 409


class VaultError(ApplicationError):
    code = "vault_error"
    public_message = "This data cannot be read."
    public_extra = False


class SubjectShredded(VaultError):
    """The subject's data key was destroyed: their encrypted data can never be read again."""

    code = "subject_shredded"
    public_message = "This data no longer exists."


class ProcessingRefused(ApplicationError):
    """Purpose enforcement refused to process a subject's data for a purpose.

    The reasons (a child, a restriction, an objection) are for logs and the person's own
    email: the public text says nothing about who the person is.
    """

    code = "processing_refused"
    public_message = "We cannot do this."
    public_extra = False
