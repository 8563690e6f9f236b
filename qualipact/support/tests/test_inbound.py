"""An emailed reply is taken into its ticket by the address it was sent to (support.inbound)."""

import base64
import io
import zipfile

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PERSONAS
from qualipact.contact.models import Inquiry
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent
from qualipact.support.addresses import reply_address
from qualipact.support.events import SupportCode
from qualipact.support.inbound import (
    EMAIL_MAX_BYTES,
    FILE_MAX_BYTES,
    FILES_MAX,
    email_receive,
    file_type,
    reply_text,
)
from qualipact.support.models import Attachment, TicketMessage
from qualipact.support.selectors import SENDER_WARNING_PERSON, SENDER_WARNING_STAFF, thread_of
from qualipact.support.tests.conftest import pdf_bytes, png_bytes, reply_email

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

ALICE = PERSONAS["alice"]["email"]


def refusals() -> list[dict]:
    return [
        {"subject_id": e.subject_id, "data": e.data}
        for e in AuditEvent.objects.filter(code=SupportCode.EMAIL_REFUSED)
    ]


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("setup.exe", b"MZ\x90\x00" + b"\x00" * 64)
    return buffer.getvalue()


def test_it_adds_a_reply_to_the_ticket_its_address_names(ticket):
    result = email_receive(raw=reply_email(to=reply_address(ticket)))

    assert result.outcome == "added"
    [message] = TicketMessage.objects.filter(inquiry=ticket)
    assert message == result.message
    assert message.kind == TicketMessage.Kind.EMAIL_IN
    assert message.body == "Thank you, that answers my question."
    assert message.sender_matches is True
    assert AuditEvent.objects.filter(
        code=SupportCode.MESSAGE_RECEIVED, data__message_id=str(message.pk)
    ).exists()


def test_it_finds_the_ticket_by_an_envelope_recipient(ticket):
    raw = reply_email(to="support@qualipact.localhost")

    result = email_receive(raw=raw, recipients=[reply_address(ticket)])

    assert result.outcome == "added"
    assert result.message.inquiry == ticket


@pytest.mark.parametrize("header", ["Cc", "Delivered-To", "X-Original-To"])
def test_it_finds_the_ticket_by_a_delivery_header(ticket, header):
    raw = reply_email(to="support@qualipact.localhost", headers={header: reply_address(ticket)})

    assert email_receive(raw=raw).outcome == "added"


def test_it_accepts_the_address_in_any_case(ticket):
    raw = reply_email(to=f"Support <{reply_address(ticket).upper()}>")

    assert email_receive(raw=raw).outcome == "added"


def test_it_never_finds_a_ticket_by_the_from_header_alone(ticket):
    raw = reply_email(to="support@qualipact.localhost", sender=ALICE)

    result = email_receive(raw=raw)

    assert result.outcome == "unknown_address"
    assert result.message is None
    assert not TicketMessage.objects.exists()
    assert refusals() == [{"subject_id": None, "data": {"reason": "unknown_address"}}]


def test_it_refuses_a_forged_reply_address_and_keeps_nothing_of_it(ticket):
    forged = f"ticket-{ticket.pk.hex}-{'0' * 20}@qualipact.localhost"
    other_domain = reply_address(ticket).replace("support.qualipact.localhost", "evil.example")
    for address in (forged, reply_address(ticket).replace("@", "x@"), other_domain):
        assert email_receive(raw=reply_email(to=address)).outcome == "unknown_address"

    assert not TicketMessage.objects.exists()
    # The refusal is audited with its reason alone: no address, no subject, no text.
    assert refusals() == [{"subject_id": None, "data": {"reason": "unknown_address"}}] * 3


def test_it_marks_a_reply_from_another_address(ticket):
    raw = reply_email(to=reply_address(ticket), sender="someone.else@example.com")

    result = email_receive(raw=raw)

    assert result.outcome == "added"
    assert result.message.sender_matches is False
    # Both sides see the mark: staff, and the person, who may not have written it.
    [for_person] = [e for e in thread_of(inquiry=ticket, for_staff=False) if e.kind != "opening"]
    [for_staff] = [e for e in thread_of(inquiry=ticket, for_staff=True) if e.kind != "opening"]
    assert for_person.sender_warning == SENDER_WARNING_PERSON
    assert for_staff.sender_warning == SENDER_WARNING_STAFF
    # Nor is it said to be the person's own: it came from another address.
    assert for_person.who == for_staff.who == "Another address"
    assert for_person.kind_label == "By email"
    ours = email_receive(raw=reply_email(to=reply_address(ticket), message_id="<own@example>"))
    assert ours.message.sender_matches is True
    assert [e.sender_warning for e in thread_of(inquiry=ticket, for_staff=False)] == [
        "",
        SENDER_WARNING_PERSON,
        "",
    ]


def test_it_keeps_an_email_delivered_twice_once(ticket):
    raw = reply_email(to=reply_address(ticket))

    assert email_receive(raw=raw).outcome == "added"
    assert email_receive(raw=raw).outcome == "duplicate"

    assert TicketMessage.objects.filter(inquiry=ticket).count() == 1


def test_it_keeps_an_email_without_message_id_delivered_twice_once(ticket):
    raw = reply_email(to=reply_address(ticket)).replace(b"Message-ID:", b"X-Old-Id:")

    assert [email_receive(raw=raw).outcome for _ in range(2)] == ["added", "duplicate"]


def test_it_opens_an_answered_ticket_again(ticket):
    Inquiry.objects.filter(pk=ticket.pk).update(status=Inquiry.Status.CLOSED)

    email_receive(raw=reply_email(to=reply_address(ticket)))

    ticket.refresh_from_db()
    assert ticket.status == Inquiry.Status.RECEIVED


@pytest.mark.parametrize(
    "text",
    [
        "Yes, the March invoice.\n\nOn Tue, 1 Dec 2026 at 09:00, Qualipact "
        "<noreply@qualipact.localhost> wrote:\n> Hello Alice,\n> We received your message.\n",
        "Yes, the March invoice.\n\n-----Original Message-----\nFrom: Qualipact\n"
        "Sent: Tuesday, December 1, 2026 9:00 AM\nSubject: We received your message\n\nHello",
        "Yes, the March invoice.\n\n> Hello Alice,\n> We received your message.\n",
        "Yes, the March invoice.\n\n-- \nAlice Marchetti\nBristol\n",
    ],
    ids=["on-wrote", "original-message", "quoted-lines", "signature"],
)
def test_it_strips_quoted_history_and_signature(ticket, text):
    result = email_receive(raw=reply_email(to=reply_address(ticket), text=text))

    assert result.message.body == "Yes, the March invoice."


def test_it_keeps_a_reply_written_below_nothing_but_itself():
    assert reply_text("Only this.\n") == "Only this."
    assert reply_text("") == ""


def test_it_reads_an_html_only_email_as_text(ticket):
    html = (
        "<html><head><style>p {color: red}</style></head><body>"
        "<p>Here is <b>my answer</b>.</p><p>Second line</p>"
        "<div class='gmail_quote'>On Tue Qualipact wrote:<blockquote>Hello Alice"
        "</blockquote></div><script>alert(1)</script></body></html>"
    )
    result = email_receive(raw=reply_email(to=reply_address(ticket), text=None, html=html))

    assert result.message.body == "Here is my answer.\n\nSecond line"
    for absent in ("<", "Hello Alice", "alert", "color"):
        assert absent not in result.message.body


def test_it_prefers_the_plain_text_of_an_alternative_email(ticket):
    raw = reply_email(to=reply_address(ticket), text="Plain words.", html="<p>HTML words.</p>")

    result = email_receive(raw=raw)

    assert result.message.body == "Plain words."
    assert not result.message.attachments.exists()  # the HTML twin is not a file


def test_it_accepts_files_by_their_content_not_their_name(ticket):
    png = png_bytes()
    pdf = pdf_bytes()
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 32
    files = [
        ("photo.txt", png, "text/plain"),  # a real PNG named .txt
        ("invoice.pdf", pdf, "application/octet-stream"),
        ("notes.dat", "Grüße, line two\n".encode(), "application/octet-stream"),
        ("scan.jpg", jpeg, "image/jpeg"),
    ]
    result = email_receive(raw=reply_email(to=reply_address(ticket), files=files))

    assert result.outcome == "added"
    kept = {(a.filename, a.content_type, a.size) for a in result.message.attachments.all()}
    assert kept == {
        ("photo.txt", "image/png", len(png)),
        ("invoice.pdf", "application/pdf", len(pdf)),
        ("notes.dat", "text/plain", len("Grüße, line two\n".encode())),
        ("scan.jpg", "image/jpeg", len(jpeg)),
    }
    assert "not accepted" not in result.message.body


def test_it_refuses_files_whose_content_is_not_an_allowed_type(ticket):
    files = [
        ("invoice.pdf", zip_bytes(), "application/pdf"),  # an archive named .pdf
        ("report.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "application/pdf"),  # a program
        ("page.txt", b"<html><body><script>x()</script></body></html>", "text/plain"),
        ("data.txt", b"\x00\x01\x02binary", "text/plain"),
    ]
    result = email_receive(raw=reply_email(to=reply_address(ticket), files=files))

    assert result.outcome == "added"
    assert not result.message.attachments.exists()
    body = result.message.body
    assert body.startswith("Thank you, that answers my question.\n\n[Files not accepted: ")
    for name in ("invoice.pdf", "report.pdf", "page.txt", "data.txt"):
        assert f"{name} (not one of the accepted types: PDF, PNG, JPEG, plain text)" in body


def test_it_refuses_a_file_over_the_size_limit_and_files_past_the_count(ticket):
    big = pdf_bytes() + b"%" + b"0" * FILE_MAX_BYTES
    files = [("big.pdf", big, "application/pdf")]
    files += [(f"page{n}.png", png_bytes(), "image/png") for n in range(FILES_MAX + 1)]

    result = email_receive(raw=reply_email(to=reply_address(ticket), files=files))

    names = sorted(a.filename for a in result.message.attachments.all())
    assert names == [f"page{n}.png" for n in range(FILES_MAX)]
    assert "big.pdf (larger than 5 MB)" in result.message.body
    assert f"page{FILES_MAX}.png (more than {FILES_MAX} files in one email)" in result.message.body


def test_it_keeps_a_reply_that_is_only_a_file(ticket):
    files = [("a.png", png_bytes(), "image/png")]
    raw = reply_email(to=reply_address(ticket), text=None, files=files)

    result = email_receive(raw=raw)

    assert result.outcome == "added"
    assert result.message.attachments.count() == 1


def test_it_stores_attachments_encrypted(ticket):
    secret = b"Account number 12345678, sort code 12-34-56\n"
    raw = reply_email(to=reply_address(ticket), files=[("bank.txt", secret, "text/plain")])

    result = email_receive(raw=raw)

    [attachment] = result.message.attachments.all()
    assert base64.b64decode(attachment.content) == secret
    # Every stored column of the one attachment row, as the database holds it.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Attachment._meta.db_table}")  # noqa: S608
        [row] = cursor.fetchall()
    stored = " ".join(str(column) for column in row)
    for plain in (secret.decode(), base64.b64encode(secret).decode(), "12345678", "bank.txt"):
        assert plain not in stored


def test_it_decides_file_types_from_bytes():
    assert file_type(png_bytes()) == "image/png"
    assert file_type(pdf_bytes()) == "application/pdf"
    assert file_type(b"plain words\r\n") == "text/plain"
    assert file_type(zip_bytes()) is None
    assert file_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert file_type(b"") is None


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated; owner-email=x"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"X-Autoreply": "yes"},
        {"Return-Path": "<>"},
    ],
)
def test_it_ignores_automatic_replies_and_bounces(ticket, headers):
    raw = reply_email(to=reply_address(ticket), text="I am out of the office.", headers=headers)

    assert email_receive(raw=raw).outcome == "auto_reply"
    assert not TicketMessage.objects.exists()
    assert refusals() == [{"subject_id": None, "data": {"reason": "auto_reply"}}]


def test_it_takes_a_reply_whose_auto_submitted_is_no(ticket):
    raw = reply_email(to=reply_address(ticket), headers={"Auto-Submitted": "no"})

    assert email_receive(raw=raw).outcome == "added"


def test_it_refuses_an_email_over_the_size_limit(ticket):
    raw = reply_email(to=reply_address(ticket))
    raw += b"x" * (EMAIL_MAX_BYTES + 1 - len(raw))

    assert email_receive(raw=raw).outcome == "too_large"
    assert not TicketMessage.objects.exists()
    assert refusals() == [{"subject_id": None, "data": {"reason": "too_large"}}]


def test_it_refuses_an_email_with_no_text_and_no_file(ticket):
    raw = reply_email(to=reply_address(ticket), text="\n\n")

    assert email_receive(raw=raw).outcome == "no_text"
    assert refusals() == [{"subject_id": None, "data": {"reason": "no_text"}}]


def test_it_refuses_a_reply_to_a_ticket_that_is_gone(ticket):
    address = reply_address(ticket)
    Inquiry.objects.filter(pk=ticket.pk).delete()

    assert email_receive(raw=reply_email(to=address)).outcome == "ticket_gone"


def test_it_cuts_an_overlong_reply_and_says_so(ticket):
    raw = reply_email(to=reply_address(ticket), text="word " * 10_000)

    result = email_receive(raw=raw)

    assert len(result.message.body) <= 20_000
    assert result.message.body.endswith("characters: cut here]")


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 no header at all"])
def test_it_refuses_input_that_is_not_an_email(raw):
    with pytest.raises(ApplicationError) as raised:
        email_receive(raw=raw)

    assert raised.value.extra == {"raw": "malformed"}


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_it_answers_any_damaged_email_with_an_outcome_or_malformed(ticket, data):
    raw = bytearray(
        reply_email(
            to=reply_address(ticket),
            text="Some words.\n\n> quoted",
            html="<p>Some <b>words</b></p>",
            files=[("a.png", png_bytes(), "image/png"), ("b.pdf", pdf_bytes(), "text/plain")],
            headers={"Cc": "Group: x@example.org, y@example.org;"},
        )
    )
    for _ in range(data.draw(st.integers(0, 12))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))

    try:
        result = email_receive(raw=bytes(raw))
    except ApplicationError as error:
        assert error.extra == {"raw": "malformed"}
    else:
        assert result.outcome in {
            "added", "duplicate", "unknown_address", "auto_reply", "no_text", "refused"
        }  # fmt: skip
