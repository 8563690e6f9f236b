"""The purpose check for an anonymous visitor: the same rules, in their set form."""

import pytest

from qualipact.consent import signals
from qualipact.privacy.enforcement import may_process, purpose_decide, purpose_require
from qualipact.privacy.errors import ProcessingRefused
from qualipact.privacy.purposes import PURPOSES, LegalBasis

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_it_refuses_a_visitor_what_needs_consent_and_allows_the_rest(purpose):
    consent_based = PURPOSES[purpose].legal_basis is LegalBasis.CONSENT
    assert may_process(None, purpose) is not consent_based
    if consent_based:
        assert "consent" in purpose_decide(None, purpose).reasons
        with pytest.raises(ProcessingRefused) as refused:
            purpose_require(None, purpose)
        assert "subject" not in refused.value.message


@pytest.mark.parametrize("purpose", sorted(signals.SIGNAL_OPT_OUT_PURPOSES))
def test_it_refuses_a_visitor_whose_request_carries_an_opt_out_signal(purpose):
    token = signals._request_opted_out.set(True)
    try:
        assert not may_process(None, purpose)
        assert "browser_signal" in purpose_decide(None, purpose).reasons
    finally:
        signals._request_opted_out.reset(token)
    assert may_process(None, "analytics")
