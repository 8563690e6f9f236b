"""Shared fixtures of the rights tests."""

from types import SimpleNamespace

import pytest


@pytest.fixture
def web(client, smtp, settings, django_capture_on_commit_callbacks):
    """POST through the pages; what the commit schedules (fulfilment, emails) runs at once."""
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def post(url, data, *, by=None, follow=True):
        """POST, and follow the redirect to the page a person then sees (POST/redirect/GET)."""
        with django_capture_on_commit_callbacks(execute=True):
            return (by or client).post(url, data, follow=follow)

    return SimpleNamespace(post=post, client=client, smtp=smtp)


# -- appeals and evidence packages ---------------------------------------------------------

REFUSAL_REASON = "We corrected nothing: the address you gave is the one on your contract"


@pytest.fixture
def second_dpo(dpo_user):
    """Dora: a second Data Protection Officer (authenticator app set up), who did not
    refuse anything; `dora.totp_secret` holds her secret for a browser sign-in."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from conftest import PASSWORD, role_give
    from qualipact.accounts.services import account_create
    from qualipact.web.roles import Role

    dora = account_create(
        username="dora",
        email="dora@qualipact.example",
        password=PASSWORD,
        email_verified=True,
        is_staff=True,
    )
    secret = generate_totp_secret()
    TOTP.activate(dora, secret)
    dora.totp_secret = secret
    return role_give(dora, Role.DPO)


def refuse_by(request, user):
    """`request`, refused by the DPO `user` with REFUSAL_REASON."""
    from qualipact.privacy.audit import Actor
    from qualipact.rights import services
    from qualipact.rights.models import DataRequest

    return services.request_refuse(
        request=request,
        basis=DataRequest.RefusalBasis.OTHER_RIGHTS,
        reason=REFUSAL_REASON,
        actor=Actor.staff(str(user.pk)),
    )


@pytest.fixture
def refused_request(alice_account, dpo_user):
    """Alice's rectification request, refused by Stella (the first DPO)."""
    from qualipact.privacy.audit import Actor
    from qualipact.rights import services
    from qualipact.rights.models import DataRequest

    request = services.request_submit(
        subject=alice_account.subject,
        kind=DataRequest.Kind.RECTIFICATION,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(alice_account.subject_id),
        details={"correction": "My street is Rue Oberkampf, not Rue Saint-Maur"},
    )
    return refuse_by(request, dpo_user)
