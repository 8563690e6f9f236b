import logging
import re
import time


class UTCFormatter(logging.Formatter):
    """Log times in UTC, ISO 8601."""

    converter = time.gmtime  # type: ignore[assignment]  # typeshed: gmtime's arg is optional
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class RedactLinkTokens(logging.Filter):
    """Replace the secret token in emailed links' paths with [token] before logging.

    Those paths (preference centre, unsubscribe, newsletter confirmation, personal
    offers) carry a capability; Django logs the path of every 4xx and 5xx response.
    """

    LINK = re.compile(
        r"/(preferences|unsubscribe|newsletter/confirm|offers/for|accounts/verify"
        r"|accounts/password/reset|accounts/email/confirm|accounts/parent/consent"
        r"|rights/download|join-staff|support/link)/[^/\s'\"]+"
    )
    # Signed capabilities in a query (a request's receipt, a code form's ticket).
    QUERY = re.compile(r"([?&](?:receipt|ticket)=)[^&\s'\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.QUERY.sub(r"\1[token]", self.LINK.sub(r"/\1/[token]", message))
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
