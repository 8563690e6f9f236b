import hashlib
from pathlib import Path

import pytest
from django.urls import reverse

from qualipact.notices.models import PolicyVersion

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
SEED = Path(__file__).resolve().parents[1] / "policies" / "v1.txt"


def test_it_publishes_the_seed_text_as_version_1_effective_7_december_2024():
    policy = PolicyVersion.objects.get(version=1)
    assert policy.text == SEED.read_text(encoding="utf-8")
    assert policy.effective_date.isoformat() == "2024-12-07"
    assert policy.sha256 == hashlib.sha256(policy.text.encode()).hexdigest()


def test_it_shows_the_policy_with_its_version_and_date(client):
    response = client.get(reverse("notices:policy"))
    assert response.status_code == 200
    assert "Version 1 · Effective 7 December 2024" in response.text
    assert "<h2>9. Children&#x27;s Privacy</h2>" in response.text
    assert "<h3>Right to Data Portability: Moving Your Data to Another Service</h3>" in (
        response.text
    )
    assert "support@qualipact.com" in response.text


def test_it_keeps_each_version_at_its_own_address(client):
    response = client.get(reverse("notices:policy_version", args=[1]))
    assert response.status_code == 200
    assert "archived version" not in response.text  # v1 is the current one
    assert client.get(reverse("notices:policy_version", args=[99])).status_code == 404


def test_a_published_version_cannot_be_edited():
    policy = PolicyVersion.objects.get(version=1)
    policy.text = "changed"
    with pytest.raises(ValueError, match="immutable"):
        policy.save()
