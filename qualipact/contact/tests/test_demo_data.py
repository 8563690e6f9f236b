import io

import pytest
from django.core.management import call_command

from qualipact.contact.events import ContactCode
from qualipact.contact.models import Inquiry
from qualipact.privacy.models import AuditEvent, DataSubject

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def test_it_creates_encrypted_demo_people_through_the_services():
    out = io.StringIO()
    call_command("demo_data", people=4, stdout=out)
    assert DataSubject.objects.count() == 4
    inquiries = Inquiry.objects.count()
    assert 4 <= inquiries <= 12
    assert f"created 4 people with {inquiries} inquiries" in out.getvalue()
    # Written like real data: encrypted, readable with the key, and audited.
    raw = Inquiry.objects.values_list("message", flat=True).first()
    assert isinstance(raw, bytes)
    assert Inquiry.objects.first().message.encode() not in raw
    assert AuditEvent.objects.filter(code=ContactCode.INQUIRY_SUBMITTED).count() == inquiries


def test_it_adds_nothing_when_asked_only_for_an_empty_database():
    call_command("demo_data", people=2, stdout=io.StringIO())
    before = Inquiry.objects.count()
    out = io.StringIO()
    call_command("demo_data", people=2, if_empty=True, stdout=out)
    assert Inquiry.objects.count() == before
    assert "already present" in out.getvalue()
