"""Credentials inside an email's text are masked wherever the text is shown."""

from hypothesis import assume, given
from hypothesis import strategies as st

from qualipact.privacy.masking import CODE_MASK, LINK_MASK, credentials_masked
from qualipact.privacy.registry import registry


def test_it_keeps_a_links_site_and_masks_its_path_and_query():
    text = "Open https://qualipact.example/rights/download/AbC.123-xyz/?a=1 within a day."
    assert credentials_masked(text) == f"Open https://qualipact.example/{LINK_MASK} within a day."


def test_it_masks_a_code_of_six_or_more_digits_and_keeps_shorter_numbers():
    text = "Your code is 123456. It works for 15 minutes; reference 2026-12-30."
    masked = credentials_masked(text)
    assert "123456" not in masked and CODE_MASK in masked
    assert "15 minutes" in masked and "2026-12-30" in masked


def test_it_masks_a_link_in_angle_brackets_as_headers_carry_it():
    headers = '{"List-Unsubscribe": "<http://127.0.0.1:8123/unsubscribe/tok3n/>"}'
    assert credentials_masked(headers) == (
        f'{{"List-Unsubscribe": "<http://127.0.0.1:8123/{LINK_MASK}>"}}'
    )


def test_it_returns_other_values_as_they_are():
    assert credentials_masked(None) is None
    assert credentials_masked({"a": 1}) == {"a": 1}


@given(
    site=st.from_regex(r"[a-z][a-z0-9.-]{0,20}(:[0-9]{2,5})?", fullmatch=True),
    path=st.from_regex(r"[A-Za-z0-9._~%/?=&-]{8,60}", fullmatch=True),
    code=st.from_regex(r"[0-9]{6,12}", fullmatch=True),
    before=st.text(alphabet=" ,.;:!()\n"),
    after=st.text(alphabet=" ,.;:!()\n"),
)
def test_no_path_of_any_link_and_no_code_survives(site, path, code, before, after):
    assume(path not in site and code not in site)  # the site is kept
    masked = credentials_masked(f"{before}https://{site}/{path}{after} code {code}{after}")
    assert path not in masked
    assert code not in masked
    assert f"https://{site}/{LINK_MASK}" in masked


def test_the_outboxs_text_and_headers_are_declared_masked():
    declaration = next(d for d in registry.declarations() if d.label == "comms.OutboundEmail")
    assert declaration.fields["body"].mask is credentials_masked
    assert declaration.fields["headers"].mask is credentials_masked
