"""The development mailbox keeps every email and hands routed ones on (web.mailbox)."""

import smtplib
import threading
from mailbox import Maildir

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port
from qualipact.web.mailbox import RoutingMailbox, route_recipients

# What the routes below were handed, by the route's name.
HANDED: dict[str, list[tuple[bytes, list[str]]]] = {}
THREADS: list[str] = []


def record(*, raw: bytes, recipients: list[str]) -> None:
    HANDED.setdefault("record", []).append((raw, recipients))
    THREADS.append(threading.current_thread().name)


def failing(*, raw: bytes, recipients: list[str]) -> None:
    raise RuntimeError("the route failed")


ROUTES = {
    "support.qualipact.localhost": "qualipact.web.tests.test_mailbox.record",
    "broken.qualipact.localhost": "qualipact.web.tests.test_mailbox.failing",
}
EMAIL = (
    b"From: someone@qualipact.example\r\nTo: ticket-1@support.qualipact.localhost\r\n"
    b"Subject: Hello\r\nMessage-ID: <1@qualipact.example>\r\n\r\nThe text.\r\n"
)


@pytest.fixture
def mailbox(tmp_path):
    HANDED.clear()
    THREADS.clear()
    controller = Controller(
        RoutingMailbox(tmp_path / "mail", routes=ROUTES), hostname="127.0.0.1", port=free_port()
    )
    controller.start()
    try:
        yield controller, Maildir(tmp_path / "mail", create=False)
    finally:
        controller.stop()


def send(controller, recipients: list[str], raw: bytes = EMAIL) -> None:
    with smtplib.SMTP(controller.hostname, controller.port, timeout=60) as client:
        client.sendmail("someone@qualipact.example", recipients, raw)


def test_it_keeps_every_email_and_hands_routed_ones_with_their_recipients(mailbox):
    controller, maildir = mailbox
    routed = "ticket-1@Support.Qualipact.Localhost"

    send(controller, ["person@qualipact.example", routed])
    send(controller, ["person@qualipact.example"])

    assert len(maildir) == 2  # both kept, as the plain Mailbox keeps them
    # Handed before the server answered, as received (without the Maildir's X- headers),
    # with only the recipients of the route's domain, in a thread of its own.
    assert HANDED["record"] == [(EMAIL, [routed])]
    assert THREADS and THREADS[0] != threading.current_thread().name


def test_it_keeps_an_email_whose_route_fails(mailbox):
    controller, maildir = mailbox

    send(controller, ["ticket-1@broken.qualipact.localhost"])  # answered 250: no exception

    assert len(maildir) == 1
    assert HANDED == {}


def test_it_routes_by_domain_only():
    routes = {"support.qualipact.localhost": "a.b"}

    assert route_recipients(
        ["x@support.qualipact.localhost", "<y@SUPPORT.qualipact.localhost>", "z@other.example"],
        routes,
    ) == {"a.b": ["x@support.qualipact.localhost", "<y@SUPPORT.qualipact.localhost>"]}
    assert route_recipients(["support.qualipact.localhost"], routes) == {}
