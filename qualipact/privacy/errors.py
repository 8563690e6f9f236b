"""The domain errors of the privacy core.

Messages name ids and field names only, never personal data.
"""


class ApplicationError(Exception):
    """A domain rule refused the operation; `extra` carries machine-readable detail."""

    code = "application_error"
    status = 400

    def __init__(self, message: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class VaultError(ApplicationError):
    code = "vault_error"


class SubjectShredded(VaultError):
    """The subject's data key was destroyed: their encrypted data can never be read again."""

    code = "subject_shredded"


class ProcessingRefused(ApplicationError):
    """Purpose enforcement refused to process a subject's data for a purpose."""

    code = "processing_refused"
