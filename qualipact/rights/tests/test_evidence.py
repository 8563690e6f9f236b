"""The evidence package of a request: a PDF (WeasyPrint) with the request's facts, its
timeline, who did what, the emails sent, and the audit-chain verification, downloaded by a
DPO only, audited, never cached, fetching nothing."""

import io

import pytest
from pypdf import PdfReader

from conftest import deliver_queued
from qualipact.privacy.audit import Actor, EventCode
from qualipact.privacy.models import AuditEvent
from qualipact.rights import services
from qualipact.rights.events import RightsCode
from qualipact.rights.services import evidence
from qualipact.rights.tests.conftest import REFUSAL_REASON

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def download(client, request):
    response = client.post(f"/staff/rights/{request.pk}/evidence/")
    assert response.status_code == 200, response.status_code
    return response


def text_of(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def appealed(smtp, refused_request, second_dpo):
    """Alice's refused request, appealed and upheld by Dora; every email sent."""
    made = services.appeal_make(
        request=refused_request,
        text="I disagree",
        country="FR",
        actor=Actor.subject(refused_request.subject_id),
    )
    services.appeal_decide(
        appeal=made, grant=False, reason="The contract binds us", actor=Actor.staff(second_dpo.pk)
    )
    deliver_queued()
    return refused_request


def test_it_downloads_a_pdf_with_the_timeline_the_staff_the_emails_and_the_verification(
    client, appealed, second_dpo
):
    client.force_login(second_dpo)
    response = download(client, appealed)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    filename = response["Content-Disposition"].split("filename=")[1].strip('"')
    assert filename.startswith(f"evidence-request-{appealed.pk}-") and filename.endswith(".pdf")
    assert "alice" not in filename.lower()
    assert "no-store" in response["Cache-Control"]

    text = text_of(response)
    assert "Chain verified" in text and "BROKEN" not in text
    # The timeline: every step of the request, in order, with its name.
    timeline = text[text.index("Timeline") :]
    steps = ("Request received", "Request refused", "Appeal made", "Appeal decided")
    assert [timeline.index(step) for step in steps] == sorted(timeline.index(s) for s in steps)
    # Who did what: staff by username and role.
    assert "stella" in text and "dora" in text and "Data Protection Officer" in text
    # What was sent: subject lines, not bodies.
    assert "We cannot do what you asked" in text and "We upheld our refusal" in text
    assert "Email sent" in text
    # What the person asked, labelled in words, never by its internal key.
    assert "In their words" in text and "Rue Oberkampf" in text
    assert "correction" not in text.lower().replace("correct and complete", "")
    # The request's facts and reasons; each event's hash.
    assert str(appealed.pk) in text and REFUSAL_REASON in text
    event = AuditEvent.objects.filter(data__request_id=str(appealed.pk)).first()
    assert event.hash[:32] in text.replace(" ", "")


def test_it_audits_the_download_and_the_staff_view_of_what_it_shows(client, appealed, second_dpo):
    client.force_login(second_dpo)
    download(client, appealed)
    exported = AuditEvent.objects.get(code=RightsCode.RIGHTS_EVIDENCE_EXPORTED)
    assert exported.actor_id == str(second_dpo.pk)
    assert exported.data["request_id"] == str(appealed.pk) and exported.data["chain_ok"] is True
    views = AuditEvent.objects.filter(
        code=EventCode.SUBJECT_DATA_VIEWED, actor_id=str(second_dpo.pk)
    )
    models = {view.data["model"]: view.data["fields"] for view in views}
    assert set(models) == {"rights.DataRequest", "rights.Appeal", "comms.OutboundEmail"}
    assert "refusal_reason" in models["rights.DataRequest"]
    assert models["comms.OutboundEmail"] == ["subject_line"]
    assert {view.subject_id for view in views} == {appealed.subject_id}


def test_it_says_the_chain_is_broken_when_an_audit_row_was_tampered_with(
    client, appealed, second_dpo
):
    refused = AuditEvent.objects.get(code=RightsCode.RIGHTS_REQUEST_REFUSED)
    # Someone with database access rewrites the basis of the refusal after the fact.
    AuditEvent.objects.filter(pk=refused.pk).update(
        data={**refused.data, "basis": "manifestly_unfounded"}
    )
    client.force_login(second_dpo)
    text = text_of(download(client, appealed))
    assert "Chain broken" in text and "Chain verified" not in text
    assert f"event {refused.pk}: content does not match its hash" in text
    exported = AuditEvent.objects.get(code=RightsCode.RIGHTS_EVIDENCE_EXPORTED)
    assert exported.data["chain_ok"] is False


def test_it_is_for_dpos_only_and_by_post(client, appealed, alice_account, second_dpo):
    client.force_login(alice_account)
    assert client.post(f"/staff/rights/{appealed.pk}/evidence/").status_code == 403
    client.force_login(second_dpo)
    assert client.get(f"/staff/rights/{appealed.pk}/evidence/").status_code == 405
    assert not AuditEvent.objects.filter(code=RightsCode.RIGHTS_EVIDENCE_EXPORTED).exists()


def test_it_fetches_nothing_while_rendering(monkeypatch):
    asked = []

    refuse_for_real = evidence._no_network

    def refuse(url):
        asked.append(url)
        return refuse_for_real(url)

    monkeypatch.setattr(evidence, "_no_network", refuse)
    html = (
        '<html><head><link rel="stylesheet" href="https://example.com/x.css"></head>'
        '<body><img src="http://127.0.0.1:9/x.png"><p>still a PDF</p></body></html>'
    )
    pdf = evidence._pdf(html)
    assert pdf.startswith(b"%PDF")
    assert set(asked) == {"https://example.com/x.css", "http://127.0.0.1:9/x.png"}
    with pytest.raises(ValueError):
        evidence._no_network("file:///etc/passwd")
