"""Portability by direct transfer, through the web pages, to a receiving HTTPS server on
127.0.0.1 with a certificate made for the test."""

import datetime
import io
import ipaddress
import json
import re
import ssl
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.urls import reverse

from conftest import PASSWORD, PERSONAS, account_for, reauthenticate, submit_persona
from qualipact.privacy.models import AuditEvent
from qualipact.rights.events import RightsCode
from qualipact.rights.models import DataRequest, ExportFile

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

MINE = reverse("rights:mine")
DOWNLOAD = re.compile(r"/rights/download/([A-Za-z0-9_-]+)/")


def self_signed(directory) -> tuple[str, str]:
    """A certificate for localhost and 127.0.0.1 that is its own authority."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def receiver(tmp_path, settings):
    """An HTTPS server on 127.0.0.1 that records what is POSTed and answers `status`."""
    cert, key = self_signed(tmp_path)
    state = SimpleNamespace(received=[], status=200, url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            state.received.append(
                {"body": self.rfile.read(length), "type": self.headers["Content-Type"]}
            )
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"https://127.0.0.1:{server.server_address[1]}/import/qualipact"
    settings.RIGHTS_TRANSFER_CA_BUNDLE = cert
    settings.RIGHTS_TRANSFER_ALLOW_PRIVATE = True
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def web(client, smtp, settings, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    account_for("alice")
    submit_persona("alice")
    account_for("bob")
    submit_persona("bob")
    response = client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert response.status_code == 302
    reauthenticate(client)  # an export needs a recent re-authentication

    def post(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data, follow=True)

    return SimpleNamespace(post=post, client=client, smtp=smtp)


def download_link(smtp) -> str:
    for message in smtp.messages:
        if match := DOWNLOAD.search(message.get_payload(decode=True).decode()):
            return reverse("rights:download", args=[match.group(1)])
    raise AssertionError("no download link was emailed")


def test_it_sends_the_persons_data_and_nobody_elses_to_the_endpoint(web, receiver):
    response = web.post(
        MINE, {"kind": "portability", "confirm_export": "on", "endpoint": receiver.url}
    )
    assert response.status_code == 200, response.text
    assert len(receiver.received) == 1
    received = receiver.received[0]
    assert received["type"] == "application/json"
    payload = json.loads(received["body"])
    body = received["body"].decode()
    for value in ("name", "email", "message"):
        assert PERSONAS["alice"][value] in body
        assert PERSONAS["bob"][value] not in body
    assert payload["kind"] == "portability"

    data_request = DataRequest.objects.get()
    assert data_request.status == "completed"
    assert data_request.outcome["transfer"] == {"status": "sent", "http_status": 200}
    assert AuditEvent.objects.filter(code=RightsCode.RIGHTS_EXPORT_TRANSFERRED).count() == 1
    assert "We also sent it to the provider you named." in web.client.get(MINE).text
    # What was sent is the data.json of the person's own file.
    archive = web.client.post(download_link(web.smtp))
    assert archive.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(archive.content)).read("data.json") == received["body"]


def test_it_refuses_an_http_endpoint_when_the_request_is_made(web, receiver):
    plain = receiver.url.replace("https://", "http://")
    response = web.post(MINE, {"kind": "portability", "confirm_export": "on", "endpoint": plain})
    assert response.status_code == 400
    assert "Give the receiving provider&#x27;s https:// address" in response.text
    assert not DataRequest.objects.exists()
    assert receiver.received == []


def test_it_refuses_a_private_address_unless_allowed(web, receiver, settings):
    settings.RIGHTS_TRANSFER_ALLOW_PRIVATE = False
    response = web.post(
        MINE, {"kind": "portability", "confirm_export": "on", "endpoint": receiver.url}
    )
    assert response.status_code == 400
    assert "The receiving provider&#x27;s address is not a public one" in response.text
    assert not DataRequest.objects.exists()
    assert receiver.received == []


def test_it_completes_with_the_file_link_when_the_receiver_fails(web, receiver):
    receiver.status = 500
    response = web.post(
        MINE, {"kind": "portability", "confirm_export": "on", "endpoint": receiver.url}
    )
    assert response.status_code == 200
    assert len(receiver.received) == 1
    data_request = DataRequest.objects.get()
    assert data_request.status == "completed"
    assert data_request.outcome["transfer"]["status"] == "failed"
    assert not AuditEvent.objects.filter(code=RightsCode.RIGHTS_EXPORT_TRANSFERRED).exists()
    assert "The transfer to the provider you named failed" in web.client.get(MINE).text
    mail = "".join(m.get_payload(decode=True).decode() for m in web.smtp.messages)
    assert "We could not send it to the provider you named" in mail
    assert ExportFile.objects.get().sealed is not None
    assert web.client.post(download_link(web.smtp)).status_code == 200
