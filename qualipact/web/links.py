"""Links to this site's pages, for what is read away from the site (emails, exports).

A page's address is `SITE_URL` (the address people reach the site at; `run_site` sets it
to the address it serves when the variable is unset) followed by the page's path. Every
app that writes a link into an email builds it here, so the rule lives in one place.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def site_url(viewname: str, *args: object, **kwargs: object) -> str:
    """The absolute URL (`https://host/path/`) of the page named `viewname` (a URL name
    such as "accounts:sessions"), with positional `args` or keyword `kwargs` for its path,
    as `django.urls.reverse` takes them. Raises `NoReverseMatch` for an unknown name."""
    path = reverse(viewname, args=args or None, kwargs=kwargs or None)
    return settings.SITE_URL.rstrip("/") + path
