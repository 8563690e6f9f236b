"""The development mailbox: an SMTP server (aiosmtpd) that keeps every email and hands
some of them to the site.

`run_site` starts it (`manage.py mailbox_serve`) where the outbox sends its mail in
development. Every message it accepts is kept in a Maildir (`var/mail/new`, one file a
message, as aiosmtpd's own Mailbox handler writes it), so sign-up and reset links can be
followed without a mail server. A message to a domain listed in INBOUND_MAIL_ROUTES
(the support reply domain) is also handed, as the raw bytes received and its envelope
recipients there, to the function that setting names, as a mail provider's forwarding
would in production. The web app imports no feature app: the route is a dotted path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiosmtpd.handlers import Mailbox
from django.db import close_old_connections, connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

InboundHandler = Callable[..., object]


def route_recipients(recipients: Sequence[str], routes: Mapping[str, str]) -> dict[str, list[str]]:
    """The envelope `recipients` grouped by the route their domain takes (dotted path ->
    addresses), in the order first seen; recipients of other domains are left out."""
    routed: dict[str, list[str]] = {}
    lowered = {domain.lower(): path for domain, path in routes.items()}
    for recipient in recipients:
        _local, at, domain = recipient.strip().strip("<>").rpartition("@")
        if at and (path := lowered.get(domain.lower())) is not None:
            routed.setdefault(path, []).append(recipient)
    return routed


def inbound_deliver(*, raw: bytes, recipients: Sequence[str], routes: Mapping[str, str]) -> None:
    """Hand `raw` to each route its recipients take, in this thread; the database
    connections this thread opened are closed after, as a request's would be. A failing
    route is logged by the kind of its error only (the message may hold personal data)
    and the others still run."""
    try:
        for path, addressed in route_recipients(recipients, routes).items():
            handler: InboundHandler = import_string(path)
            close_old_connections()
            try:
                result = handler(raw=raw, recipients=addressed)
            # Any failure: the Maildir keeps the message anyway.
            except Exception as error:
                logger.warning("inbound route %s failed: %s", path, type(error).__name__)
                continue
            logger.info("inbound route %s: %s", path, getattr(result, "outcome", "done"))
    finally:
        connections.close_all()


class RoutingMailbox(Mailbox):
    """aiosmtpd's Mailbox (every message kept in the Maildir `mail_dir`) that also hands
    messages to INBOUND_MAIL_ROUTES, in a worker thread, before answering the client: when
    the SMTP conversation ends, the email is in the Maildir and in its ticket."""

    def __init__(self, mail_dir: Path | str, *, routes: Mapping[str, str]) -> None:
        super().__init__(Path(mail_dir))
        self.routes = dict(routes)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer: str = await super().handle_DATA(server, session, envelope)
        raw = envelope.original_content or b""
        recipients = list(envelope.rcpt_tos)
        if route_recipients(recipients, self.routes):
            await asyncio.get_running_loop().run_in_executor(
                None,
                lambda: inbound_deliver(raw=raw, recipients=recipients, routes=self.routes),
            )
        return answer
