import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from qualipact.consent import events, services
from qualipact.consent.events import ConsentCode
from qualipact.consent.middleware import BrowserSignalMiddleware
from qualipact.consent.models import Channel, ConsentEvent, ConsentState, ConsentWording
from qualipact.consent.selectors import consent_history, consent_overview, consent_wording_current
from qualipact.privacy.audit import Actor
from qualipact.privacy.enforcement import may_process, purpose_decide, subjects_for_purpose
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.models import AuditEvent, DataSubject
from qualipact.privacy.purposes import PURPOSES, LegalBasis
from qualipact.privacy.services import subject_create, subject_restrict

pytestmark = pytest.mark.django_db(databases=["default", "keys"])
SYSTEM = Actor.system("test")
CONSENT_PURPOSES = sorted(p.code for p in PURPOSES.values() if p.legal_basis is LegalBasis.CONSENT)
LI_PURPOSES = sorted(
    p.code for p in PURPOSES.values() if p.legal_basis is LegalBasis.LEGITIMATE_INTEREST
)


@pytest.fixture
def alice():
    return subject_create(actor=SYSTEM)


@pytest.fixture
def bob():
    return subject_create(actor=SYSTEM)


def grant(subject, purpose, **kwargs):
    return services.consent_grant(
        subject=subject,
        purpose=purpose,
        channel=Channel.PREFERENCE_CENTRE,
        actor=Actor.subject(subject.pk),
        **kwargs,
    )


def withdraw(subject, purpose):
    return services.consent_withdraw(
        subject=subject,
        purpose=purpose,
        channel=Channel.PREFERENCE_CENTRE,
        actor=Actor.subject(subject.pk),
    )


def audience(purpose) -> set:
    return set(subjects_for_purpose(DataSubject.objects.all(), purpose))


@pytest.mark.parametrize("purpose", CONSENT_PURPOSES)
def test_it_refuses_without_consent_allows_after_grant_and_refuses_at_once_after_withdrawal(
    alice, bob, purpose
):
    assert not may_process(alice, purpose)
    assert alice not in audience(purpose)

    grant(alice, purpose)
    assert may_process(alice, purpose)
    assert audience(purpose) == {alice}  # Bob never consented

    withdraw(alice, purpose)
    assert not may_process(alice, purpose)
    assert purpose_decide(alice, purpose).reasons == ("no_consent",)
    assert audience(purpose) == set()


def test_it_keeps_every_event_in_an_append_only_ledger_with_wording_version_and_channel(alice):
    wording = consent_wording_current("marketing")
    grant(alice, "marketing")
    withdraw(alice, "marketing")
    grant(alice, "marketing")
    history = consent_history(alice)
    assert [e.action for e in history] == ["grant", "withdraw", "grant"]
    first = history[0]
    assert first.wording == wording
    assert first.policy_version == 1
    assert first.channel == "preference_centre"
    # The words are stored once, referenced by their hash.
    assert ConsentWording.objects.filter(sha256=wording.sha256).count() == 1
    with pytest.raises(ValueError, match="append-only"):
        first.save()
    state = ConsentState.objects.get(subject=alice, purpose="marketing")
    assert state.granted and state.wording == wording
    codes = list(
        AuditEvent.objects.filter(subject_id=alice.pk, purpose="marketing").values_list(
            "code", flat=True
        )
    )
    assert codes == [
        ConsentCode.CONSENT_GRANTED,
        ConsentCode.CONSENT_WITHDRAWN,
        ConsentCode.CONSENT_GRANTED,
    ]


def test_a_failed_audit_write_leaves_neither_ledger_nor_state(alice, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(events, "audit_log", broken)
    with pytest.raises(RuntimeError):
        grant(alice, "marketing")
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


@pytest.mark.parametrize("purpose", ["customer_support", "security", "legal_compliance"])
def test_it_refuses_consent_for_a_purpose_with_another_legal_basis(alice, purpose):
    with pytest.raises(ApplicationError, match="its legal basis is"):
        grant(alice, purpose)


def test_it_refuses_an_unknown_purpose_or_channel(alice):
    with pytest.raises(ApplicationError, match="Unknown purpose"):
        grant(alice, "reselling")
    with pytest.raises(ApplicationError, match="Unknown consent channel"):
        services.consent_grant(subject=alice, purpose="marketing", channel="fax", actor=SYSTEM)
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize("purpose", LI_PURPOSES)
def test_an_objection_stops_a_legitimate_interest_purpose_for_that_person_only(alice, bob, purpose):
    assert may_process(alice, purpose)
    services.objection_record(subject=alice, purpose=purpose, channel="api", actor=SYSTEM)
    assert purpose_decide(alice, purpose).reasons == ("objected",)
    assert audience(purpose) == {bob}
    services.objection_withdraw(subject=alice, purpose=purpose, channel="api", actor=SYSTEM)
    assert may_process(alice, purpose)


def test_restriction_still_wins_over_consent(alice):
    grant(alice, "marketing")
    subject_restrict(subject=alice, actor=SYSTEM, reason="contested")
    assert purpose_decide(alice, "marketing").reasons == ("restricted",)
    assert audience("marketing") == set()


def test_a_material_wording_change_needs_renewal_before_the_purpose_runs_again(alice, bob):
    grant(alice, "marketing")
    grant(bob, "personalised_offers")
    new = services.consent_wording_publish(
        purpose="marketing",
        text="Send me newsletters, and also news from our partners' events.",
        policy_version=2,
        material=True,
        actor=SYSTEM,
    )
    # Silence is not consent: Alice's old grant no longer counts.
    assert purpose_decide(alice, "marketing").reasons == ("consent_needs_renewal",)
    assert audience("marketing") == set()
    assert [c.needs_renewal for c in consent_overview(alice) if c.purpose.code == "marketing"] == [
        True
    ]
    # Other purposes are untouched.
    assert may_process(bob, "personalised_offers")
    # Renewed under the new words, it runs again.
    grant(alice, "marketing", wording=new)
    assert may_process(alice, "marketing")
    assert audience("marketing") == {alice}


def test_a_non_material_wording_change_keeps_existing_consent(alice):
    grant(alice, "marketing")
    services.consent_wording_publish(
        purpose="marketing",
        text="Send me newsletters and news about Qualipact (typo fixed).",
        policy_version=1,
        material=False,
        actor=SYSTEM,
    )
    assert may_process(alice, "marketing")
    assert audience("marketing") == {alice}


def test_it_refuses_a_wording_of_another_purpose(alice):
    with pytest.raises(ApplicationError, match="another purpose"):
        grant(alice, "marketing", wording=consent_wording_current("partner_sharing"))


def test_the_overview_shows_every_purpose_with_its_basis_in_plain_words(alice):
    grant(alice, "personalised_offers")
    services.objection_record(subject=alice, purpose="analytics", channel="api", actor=SYSTEM)
    overview = {c.purpose.code: c for c in consent_overview(alice)}
    assert set(overview) == set(PURPOSES)
    assert overview["personalised_offers"].active
    assert not overview["marketing"].active
    assert overview["analytics"].objected and not overview["analytics"].active
    assert overview["customer_support"].active
    assert overview["marketing"].basis_in_plain_words.startswith("You agreed")


def call_with_headers(alice, purposes, **headers):
    """Run a view behind the signal middleware that asks enforcement about each purpose."""

    def view(request):
        allowed = [p for p in purposes if may_process(alice, p)]
        in_audience = [p for p in purposes if alice in audience(p)]
        return HttpResponse(",".join(allowed) + "|" + ",".join(in_audience))

    request = RequestFactory().get("/", **headers)
    return BrowserSignalMiddleware(view)(request).content.decode()


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_gpc_and_dnt_opt_out_of_ads_sharing_and_analytics_for_that_request(alice, header):
    for purpose in ("personalised_ads", "partner_sharing", "personalised_offers"):
        grant(alice, purpose)
    purposes = ["personalised_ads", "partner_sharing", "analytics", "personalised_offers"]
    with_signal = call_with_headers(alice, purposes, **header)
    assert with_signal == "personalised_offers|personalised_offers"
    without = call_with_headers(alice, purposes)
    assert without == ",".join(purposes) + "|" + ",".join(purposes)


@pytest.mark.parametrize("value", ["0", "yes", "", "true", "11"])
def test_only_the_value_1_opts_out(alice, value):
    grant(alice, "personalised_ads")
    for header in ("HTTP_SEC_GPC", "HTTP_DNT"):
        result = call_with_headers(alice, ["personalised_ads"], **{header: value})
        assert result == "personalised_ads|personalised_ads"


@pytest.mark.parametrize("header", [{"HTTP_SEC_GPC": "1"}, {"HTTP_DNT": "1"}])
def test_the_page_shows_that_the_signal_was_honoured(client, header):
    assert "data-privacy-signal" in client.get("/", **header).text
    assert "data-privacy-signal" not in client.get("/").text
