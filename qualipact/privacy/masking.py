"""Credentials carried inside text we wrote to a person, masked before anyone reads it.

An email's text holds what it was sent to deliver: a password-reset or confirmation
link, a download link, a six-digit code. Each works for its recipient alone, for a
while; shown on a staff page, in an access export or on a parent's dashboard it would
let the reader act as the person (GDPR Art 5(1)(f), Art 32). A field declared with
`PersonalField(mask=credentials_masked)` is shown everywhere only through this function.

It fails closed: every web address keeps its site but loses its path and query, whatever
the path is, and every run of six or more digits is replaced, so a link or code added to
a new email later is masked without anyone listing it here.
"""

from __future__ import annotations

import re
from typing import Any

LINK_MASK = "[link removed]"
CODE_MASK = "[code removed]"

# A web address (its site kept, the rest masked), or a run of six or more digits.
_CREDENTIAL = re.compile(
    r"(?P<site>https?://[^/\s<>\"'?#]+)[^\s<>\"']*|(?<![0-9])[0-9]{6,}(?![0-9])",
    re.IGNORECASE,
)


def credentials_masked(value: Any) -> Any:
    """`value` with every link's path and query and every code of 6+ digits replaced.

    Text in, text out (other values are returned as they are): "Open
    https://qualipact.example/rights/download/abc/ - code 123456" becomes "Open
    https://qualipact.example/[link removed] - code [code removed]".
    """
    if not isinstance(value, str):
        return value
    return _CREDENTIAL.sub(
        lambda match: f"{match['site']}/{LINK_MASK}" if match["site"] else CODE_MASK, value
    )
