"""Django's createsuperuser makes a full account: a data subject, the address encrypted."""

import pytest
from django.core.management import call_command

from qualipact.accounts.models import Preferences, User
from qualipact.privacy.registry import registry

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def test_createsuperuser_makes_a_verified_staff_account_with_an_encrypted_address(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "correct horse battery staple 42")
    call_command(
        "createsuperuser",
        interactive=False,
        username="admin",
        email="Admin@Example.com",
        verbosity=0,
    )
    user = User.objects.get()
    assert (user.is_staff, user.is_superuser) == (True, True)
    assert user.email == "Admin@example.com"  # the domain is case-insensitive
    assert user.email_verified_at is not None
    assert Preferences.objects.filter(subject=user.subject).exists()
    raw = User.objects.values_list("email", flat=True).get()
    assert b"Admin" not in bytes(raw)


def test_every_account_field_is_declared_and_children_keep_only_what_they_need():
    assert registry.conformance_problems() == []
    user_fields = registry.get(User).fields
    assert all(spec.for_children for spec in user_fields.values())
    assert not any(spec.for_children for spec in registry.get(Preferences).fields.values())
