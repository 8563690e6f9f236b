"""What a page request tells the statistics, reduced to coarse values before anything is kept.

Each function takes one raw request value and returns the only form of it that may be
stored: a URL pattern instead of a path, a host instead of a referring URL, a country
instead of an address, a browser family instead of a user agent.
"""

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import iptocc
import ua_parser
from django.urls import ResolverMatch

# Words that only automated clients put in their user agent. ua-parser knows the big
# crawlers (device family "Spider"); this catches tools, monitors and headless browsers.
_BOT_WORDS = re.compile(
    r"bot|crawl|spider|slurp|scrap|headless|lighthouse|monitor|preview|phantom|selenium"
    r"|puppeteer|playwright|curl|wget|python|java/|go-http|okhttp|axios|node-fetch|libwww"
    r"|http-?client",
    re.IGNORECASE,
)
_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?[^>]+>")
# Left in a route after its parameters are replaced only when it came from re_path().
_REGEX_SYNTAX = re.compile(r"[\^$()\[\]\\|?*+{}]")
_HOST_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"{_HOST_LABEL}(?:\.{_HOST_LABEL})+")
UNKNOWN_BROWSER = "Other"


@dataclass(frozen=True)
class Browser:
    family: str
    is_bot: bool


def browser_of(user_agent: str) -> Browser:
    """The browser family ("Firefox", "Mobile Safari") and whether the client is a bot."""
    if not user_agent.strip():
        return Browser(UNKNOWN_BROWSER, is_bot=True)
    parsed = ua_parser.parser(user_agent, ua_parser.Domain.USER_AGENT | ua_parser.Domain.DEVICE)
    family = (parsed.user_agent.family if parsed.user_agent else "") or UNKNOWN_BROWSER
    is_bot = bool(
        (parsed.device and parsed.device.family == "Spider") or _BOT_WORDS.search(user_agent)
    )
    return Browser(family[:64], is_bot=is_bot)


def page_route(match: ResolverMatch | None) -> str | None:
    """The URL pattern of a resolved page ("/privacy/v<int>/"), so no id or token is kept.

    A `re_path()` pattern is replaced by its view name in brackets. None for a page that
    did not resolve, or resolved to an unnamed regex pattern: it is not counted.
    """
    if match is None:
        return None
    route = _ROUTE_PARAMETER.sub(
        lambda found: f"<{found.group('converter') or 'str'}>", match.route or ""
    )
    if _REGEX_SYNTAX.search(route):
        return f"[{match.view_name}]"[:255] if match.url_name else None
    return f"/{route}"[:255]


def referrer_domain(referrer: str, *, site_host: str) -> str:
    """The referring site's host name, or "" for none, our own site, an IP or a bare name."""
    if not referrer:
        return ""
    try:
        parts = urlsplit(referrer)
        host = (parts.hostname or "").rstrip(".")
        own = (urlsplit(f"//{site_host}").hostname or "").rstrip(".")
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not host or host == own:
        return ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return ""  # an address names a machine, maybe a person's, not a site
    # A bare name ("localhost", "intranet") is someone's own network, not a site.
    return host if len(host) <= 253 and _HOSTNAME.fullmatch(host) else ""


def country_of(address: str) -> str:
    """ISO country code of the address from iptocc's offline tables; "" when unknown."""
    try:
        return iptocc.country_code(address) or ""
    except (TypeError, ValueError):
        return ""
