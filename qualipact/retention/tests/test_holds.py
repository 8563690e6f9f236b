"""A legal hold keeps itself, its case note included, while it is active."""

import pytest

from conftest import account_for
from qualipact.contact.models import Inquiry
from qualipact.privacy.audit import Actor
from qualipact.privacy.erasure import subject_erase
from qualipact.retention.models import LegalHold
from qualipact.retention.services import legal_hold_lift, legal_hold_place

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

DPO = Actor.system("test")
NOTE = "Case 2026-17: invoice dispute"


@pytest.mark.parametrize("models_held", [["contact.Inquiry"], []])
def test_an_active_hold_keeps_its_note_through_erasure(models_held):
    from conftest import submit_persona

    person = account_for("alice")
    submit_persona("alice")
    hold = legal_hold_place(
        subject=person.subject, basis="legal_claims", actor=DPO, models_held=models_held, note=NOTE
    )
    receipt = subject_erase(subject=person.subject, actor=DPO)
    assert LegalHold.objects.get(pk=hold.pk).note == NOTE
    assert "retention.LegalHold" in receipt.kept
    assert "retention.LegalHold" not in receipt.models  # not both kept and erased
    assert Inquiry.objects.filter(subject=person.subject).exists()


def test_a_lifted_holds_note_is_cleared_by_erasure():
    person = account_for("alice")
    hold = legal_hold_place(
        subject=person.subject, basis="legal_claims", actor=DPO, models_held=[], note=NOTE
    )
    legal_hold_lift(hold=hold, actor=DPO)
    subject_erase(subject=person.subject, actor=DPO)
    kept = LegalHold.objects.get(pk=hold.pk)
    assert kept.note is None and kept.lifted_at is not None
