import csv
import hashlib
import io
import json
import re
import uuid
import zipfile

import pytest

from conftest import PERSONAS, account_for, submit_persona
from qualipact.comms.newsletters import newsletter_signup
from qualipact.consent.models import Channel
from qualipact.consent.selectors import consent_wording_current
from qualipact.consent.services import consent_grant
from qualipact.contact.services import inquiry_submit
from qualipact.offers.services import topic_get_or_create, topic_preferences_set
from qualipact.privacy import vault
from qualipact.privacy.audit import Actor, EventCode
from qualipact.privacy.errors import SubjectShredded, VaultError
from qualipact.privacy.models import AuditEvent
from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Source
from qualipact.privacy.selectors import subject_collect
from qualipact.privacy.services import subject_erase
from qualipact.rights.schema import SCHEMA_ID, export_schema
from qualipact.rights.services.exports import (
    CSV_COLUMNS,
    ExportError,
    export_build,
    export_open,
    export_seal,
)

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

ACTOR = Actor.system("test")
XSS = "<script>alert('x')</script>"
FORMULA = '=HYPERLINK("https://evil.example","open")'


# -- a small JSON Schema validator for the keywords our schema uses ---------------------

ANNOTATIONS = {"$schema", "$id", "title", "description", "format", "$defs"}
TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def schema_errors(schema, value, root=None, path="$"):
    """Problems of `value` against `schema` (draft 2020-12 subset); unknown keywords fail."""
    root = root or schema
    errors = []
    for keyword, argument in schema.items():
        if keyword in ANNOTATIONS:
            continue
        if keyword == "$ref":
            assert argument.startswith("#/$defs/"), argument
            target = root["$defs"][argument.removeprefix("#/$defs/")]
            errors += schema_errors(target, value, root, path)
        elif keyword == "type":
            names = argument if isinstance(argument, list) else [argument]
            if not any(TYPES[name](value) for name in names):
                errors.append(f"{path}: {value!r} is not of type {argument}")
        elif keyword == "enum":
            if value not in argument:
                errors.append(f"{path}: {value!r} not in {argument}")
        elif keyword == "const":
            if value != argument:
                errors.append(f"{path}: {value!r} is not {argument!r}")
        elif keyword == "pattern":
            if isinstance(value, str) and not re.search(argument, value):
                errors.append(f"{path}: {value!r} does not match {argument}")
        elif keyword == "minimum":
            if TYPES["number"](value) and value < argument:
                errors.append(f"{path}: {value} < {argument}")
        elif keyword == "required":
            if isinstance(value, dict):
                errors += [f"{path}: missing {name}" for name in argument if name not in value]
        elif keyword == "properties":
            if isinstance(value, dict):
                for name, sub in argument.items():
                    if name in value:
                        errors += schema_errors(sub, value[name], root, f"{path}.{name}")
        elif keyword == "additionalProperties":
            assert argument is False, "only closed objects are supported"
            if isinstance(value, dict):
                extra = set(value) - set(schema.get("properties", {}))
                errors += [f"{path}: unexpected {name}" for name in sorted(extra)]
        elif keyword == "items":
            if isinstance(value, list):
                for index, item in enumerate(value):
                    errors += schema_errors(argument, item, root, f"{path}[{index}]")
        else:
            raise AssertionError(f"the test validator does not know the keyword {keyword}")
    return errors


# -- data -------------------------------------------------------------------------------


def people():
    """Alice with an inquiry, an account, consents, topics and a newsletter sign-up; Bob too."""
    submit_persona("alice")
    alice = account_for("alice")
    subject = alice.subject
    inquiry_submit(
        kind="general",
        name=PERSONAS["alice"]["name"],
        email=PERSONAS["alice"]["email"],
        subject_line=FORMULA,
        message=f"Line one\n{XSS}",
    )
    consent_grant(
        subject=subject,
        purpose="personalised_offers",
        channel=Channel.PREFERENCE_CENTRE,
        actor=Actor.subject(subject.pk),
    )
    topic_get_or_create(slug="privacy", name="Privacy matters")
    topic_preferences_set(subject=subject, topics=["privacy"], actor=Actor.subject(subject.pk))
    newsletter_signup(
        email=PERSONAS["alice"]["email"],
        wording_sha256=consent_wording_current("marketing").sha256,
    )
    submit_persona("bob", kind="privacy")
    bob = account_for("bob")
    subject.refresh_from_db()
    return subject, bob.subject


@pytest.fixture
def alice_and_bob():
    return people()


def unzip(archive):
    with zipfile.ZipFile(io.BytesIO(archive.zip_bytes)) as opened:
        assert opened.testzip() is None
        return {name: opened.read(name) for name in opened.namelist()}


def data_of(archive):
    return json.loads(unzip(archive)["data.json"])


def fields_of(document):
    return {
        (record["model"], record["id"], entry["field"]): entry
        for record in document["records"]
        for entry in record["fields"]
    }


# -- the archive ---------------------------------------------------------------------------


def test_it_puts_json_schema_csv_and_summary_in_the_zip(alice_and_bob):
    alice, _ = alice_and_bob
    archive = export_build(subject=alice, kind="access", actor=ACTOR)
    files = unzip(archive)
    assert {"data.json", "schema.json", "summary.html"} <= set(files)
    csvs = {name for name in files if name.endswith(".csv")}
    assert {
        "contact.Inquiry.csv",
        "accounts.User.csv",
        "accounts.Preferences.csv",
        "consent.ConsentEvent.csv",
        "offers.TopicPreference.csv",
        "comms.NewsletterSignup.csv",
        "privacy.SubjectIdentifier.csv",
    } <= csvs
    assert set(files) == {"data.json", "schema.json", "summary.html"} | csvs
    assert archive.members == tuple(files)
    assert archive.filename.endswith(".zip") and archive.export_id.hex[:8] in archive.filename
    assert "alice" not in archive.filename.lower()
    assert archive.sha256 == hashlib.sha256(archive.zip_bytes).hexdigest()
    document = json.loads(files["data.json"])
    assert archive.manifest == {**document["counts"], "files": len(files)}
    assert document["counts"]["models"] == len(csvs)


def test_it_lists_every_stored_field_of_the_person_with_its_metadata(alice_and_bob):
    alice, _ = alice_and_bob
    document = data_of(export_build(subject=alice, kind="access", actor=ACTOR))
    exported = fields_of(document)
    collected = subject_collect(alice)
    expected = {
        (record.model, record.pk, f.name): f for record in collected.records for f in record.fields
    }
    assert set(exported) == set(expected)
    assert document["counts"]["fields"] == len(expected)
    assert document["counts"]["records"] == len(collected.records)
    for key, field in expected.items():
        entry = exported[key]
        assert entry["category"] == field.spec.category
        assert entry["purposes"] == list(field.spec.purposes)
        assert entry["legal_basis"] == field.spec.legal_basis
        assert entry["source"] == field.spec.source
        assert entry["retention"] == field.spec.retention.describe()
        assert entry["recipients"] == []
    values = {(model, name): entry["value"] for (model, _, name), entry in exported.items()}
    alice_person = PERSONAS["alice"]
    assert values[("accounts.User", "username")] == "alice"
    assert values[("accounts.User", "email")] == alice_person["email"]
    assert values[("comms.NewsletterSignup", "email")] == alice_person["email"]
    inquiries = [e for (m, _, _), e in exported.items() if m == "contact.Inquiry"]
    assert {e["value"] for e in inquiries} >= {
        alice_person["phone"],
        alice_person["postal_address"],
        alice_person["message"],
        f"Line one\n{XSS}",
    }
    # Times are ISO 8601 in UTC.
    verified = values[("accounts.User", "email_verified_at")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", verified)
    # A reference to a catalogue row carries its readable name.
    topic = next(
        e for (m, _, n), e in exported.items() if (m, n) == ("offers.TopicPreference", "topic")
    )
    assert topic["display"] == "Privacy matters"


def test_it_gives_the_art_15_information(alice_and_bob):
    alice, _ = alice_and_bob
    info = data_of(export_build(subject=alice, kind="access", actor=ACTOR))["information"]
    codes = {p["code"] for p in info["purposes"]}
    assert {"service_delivery", "customer_support", "marketing", "legal_compliance"} <= codes
    assert {c["code"] for c in info["categories"]} >= {"identity", "contact", "communication"}
    assert info["recipients"] == [] and info["third_country_transfers"] == []
    assert {r["code"] for r in info["rights"]} == {
        "access",
        "rectification",
        "erasure",
        "restriction",
        "objection",
        "portability",
        "withdraw_consent",
    }
    assert info["complaint"]["article"] == "GDPR Art 77"
    assert "supervisory authority" in info["complaint"]["description"]
    assert info["automated_decisions"]["used"] is False
    sources = {(s["model"], s["field"]): s["source"] for s in info["sources"]}
    assert sources[("accounts.User", "email_index")] == "derived"
    assert all(source != "provided" for source in sources.values())
    assert ("contact.Inquiry", "message") not in sources
    rules = {r["model"]: r["rule"] for r in info["retention"]}
    assert rules["contact.Inquiry"] == "730 days after the ticket was closed, then deleted"


def test_it_never_puts_another_persons_data_in_the_export(alice_and_bob):
    alice, bob = alice_and_bob
    for kind in ("access", "portability"):
        archive = export_build(subject=alice, kind=kind, actor=ACTOR)
        everything = b"".join(unzip(archive).values()).decode("utf-8-sig", "replace")
        for value in ("Okonkwo", PERSONAS["bob"]["email"], "erase everything about me", "bob"):
            assert value not in everything
        assert str(bob.pk) not in everything
        bob_ids = {r.pk for r in subject_collect(bob).records}
        assert not bob_ids & {r["id"] for r in data_of(archive)["records"]}


def test_it_keeps_only_provided_data_under_consent_or_contract_for_portability(alice_and_bob):
    alice, _ = alice_and_bob
    access = fields_of(data_of(export_build(subject=alice, kind="access", actor=ACTOR)))
    document = data_of(export_build(subject=alice, kind="portability", actor=ACTOR))
    assert document["kind"] == "portability"
    portable = fields_of(document)
    assert portable and set(portable) < set(access)
    for entry in portable.values():
        assert entry["portable"] is True
        assert entry["legal_basis"] in {LegalBasis.CONSENT, LegalBasis.CONTRACT}
        assert entry["source"] in {Source.PROVIDED, Source.AUTOMATIC}
    names = {(model, name) for model, _, name in portable}
    assert {
        ("contact.Inquiry", "message"),
        ("accounts.User", "email"),
        ("accounts.User", "username"),
        ("offers.TopicPreference", "topic"),
        ("comms.NewsletterSignup", "email"),
    } <= names
    for left_out in [
        ("accounts.User", "email_index"),  # derived
        ("accounts.User", "password"),  # derived, not portable
        ("accounts.User", "last_login"),  # not portable
        ("accounts.User", "child_until"),  # derived
        ("consent.ConsentEvent", "purpose"),  # legal obligation
        ("privacy.SubjectIdentifier", "value_index"),
        ("comms.OutboundEmail", "body"),  # our email to her, derived
    ]:
        assert left_out in {(m, n) for m, _, n in access}
        assert left_out not in names
    files = unzip(export_build(subject=alice, kind="portability", actor=ACTOR))
    assert "consent.ConsentEvent.csv" not in files
    assert "privacy.SubjectIdentifier.csv" not in files


def test_it_withholds_credentials_but_lists_them(alice_and_bob):
    alice, _ = alice_and_bob
    archive = export_build(subject=alice, kind="access", actor=ACTOR)
    document = data_of(archive)
    password = next(e for (m, _, n), e in fields_of(document).items() if n == "password")
    assert password["value"] is None and "credential" in password["withheld"]
    assert document["counts"]["withheld"] >= 1
    password_hash = alice.account.password
    assert password_hash.startswith(("pbkdf2", "argon2", "scrypt", "bcrypt"))
    for content in unzip(archive).values():
        assert password_hash.encode() not in content


def test_it_escapes_values_in_the_summary(alice_and_bob):
    alice, _ = alice_and_bob
    html = unzip(export_build(subject=alice, kind="access", actor=ACTOR))["summary.html"].decode()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert PERSONAS["alice"]["postal_address"] in html
    assert "supervisory authority" in html
    # Self-contained: nothing is fetched from anywhere.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert "<link" not in html and "@import" not in html


def test_it_writes_one_csv_per_model_with_the_same_fields(alice_and_bob):
    alice, _ = alice_and_bob
    archive = export_build(subject=alice, kind="access", actor=ACTOR)
    files = unzip(archive)
    exported = fields_of(json.loads(files["data.json"]))
    rows = []
    for name, content in files.items():
        if name.endswith(".csv"):
            table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
            assert tuple(table[0]) == CSV_COLUMNS
            rows += [(name.removesuffix(".csv"), row) for row in table[1:]]
    assert {(model, row[0], row[1]) for model, row in rows} == set(exported)
    inquiry_cells = [row[2] for model, row in rows if model == "contact.Inquiry"]
    # "+44 20 ..." would be computed by a spreadsheet (to an error): it is kept as text.
    assert f"'{PERSONAS['alice']['phone']}" in inquiry_cells
    assert f"'{FORMULA}" in inquiry_cells  # a formula is defused
    assert FORMULA not in inquiry_cells
    assert f"Line one\n{XSS}" in inquiry_cells


def test_it_writes_data_that_validates_against_the_published_schema(alice_and_bob):
    alice, _ = alice_and_bob
    for kind in ("access", "portability"):
        files = unzip(export_build(subject=alice, kind=kind, actor=ACTOR))
        schema = json.loads(files["schema.json"])
        document = json.loads(files["data.json"])
        assert schema == export_schema()
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert document["schema"] == schema["$id"] == SCHEMA_ID
        assert schema_errors(schema, document) == []
    # The check is real: broken documents fail it.
    broken = json.loads(json.dumps(document))
    broken["records"][0]["fields"][0]["legal_basis"] = "because"
    del broken["information"]["complaint"]
    broken["counts"]["extra"] = 1
    broken["generated_at"] = "2024-01-01T10:00:00+02:00"
    problems = schema_errors(schema, broken)
    assert any("legal_basis" in p for p in problems)
    assert any("missing complaint" in p for p in problems)
    assert any("unexpected extra" in p for p in problems)
    assert any("generated_at" in p for p in problems)


def test_it_audits_the_read_with_the_actor(alice_and_bob):
    alice, _ = alice_and_bob
    before = AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_COLLECTED).count()
    export_build(subject=alice, kind="access", actor=Actor.staff("42"))
    event = AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_COLLECTED).latest("id")
    assert AuditEvent.objects.filter(code=EventCode.SUBJECT_DATA_COLLECTED).count() == before + 1
    assert (event.actor_kind, event.actor_id) == ("staff", "42")
    assert event.subject_id == alice.pk


def test_it_refuses_an_unknown_kind(alice_and_bob):
    alice, _ = alice_and_bob
    with pytest.raises(ExportError):
        export_build(subject=alice, kind="everything", actor=ACTOR)


# -- sealing -------------------------------------------------------------------------------


def test_it_seals_and_opens_the_archive(alice_and_bob):
    alice, _ = alice_and_bob
    archive = export_build(subject=alice, kind="access", actor=ACTOR)
    sealed = export_seal(subject=alice, archive=archive)
    assert b"PK\x03\x04" not in sealed and archive.zip_bytes not in sealed
    assert export_open(subject=alice, sealed=sealed) == archive.zip_bytes
    assert export_open(subject=alice, sealed=sealed, export_id=archive.export_id) == (
        archive.zip_bytes
    )
    vault.key_cache_clear()
    assert export_open(subject=alice, sealed=sealed) == archive.zip_bytes


def test_it_refuses_a_sealed_export_under_another_person_id_or_altered(alice_and_bob):
    alice, bob = alice_and_bob
    archive = export_build(subject=alice, kind="access", actor=ACTOR)
    sealed = export_seal(subject=alice, archive=archive)
    with pytest.raises(VaultError):
        export_open(subject=bob, sealed=sealed)
    with pytest.raises(VaultError):
        export_open(subject=alice, sealed=sealed, export_id=uuid.uuid4())
    # Another export id written into the header: the ciphertext no longer authenticates.
    relabelled = sealed[:4] + uuid.uuid4().bytes + sealed[20:]
    with pytest.raises(VaultError):
        export_open(subject=alice, sealed=relabelled)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(VaultError):
        export_open(subject=alice, sealed=tampered)
    with pytest.raises(VaultError):
        export_open(subject=alice, sealed=archive.zip_bytes)


def test_it_cannot_open_a_sealed_export_once_the_person_is_erased(
    alice_and_bob, django_capture_on_commit_callbacks
):
    alice, _ = alice_and_bob
    archive = export_build(subject=alice, kind="access", actor=ACTOR)
    sealed = export_seal(subject=alice, archive=archive)
    with django_capture_on_commit_callbacks(execute=True):
        receipt = subject_erase(subject=alice, actor=ACTOR)
    assert receipt.key_destroyed
    vault.key_cache_clear()
    with pytest.raises(SubjectShredded):
        export_open(subject=alice, sealed=sealed)
    for plaintext in ("Marchetti", PERSONAS["alice"]["email"], "Larkspur", "alice"):
        assert plaintext.encode() not in sealed
    assert b"PK\x03\x04" not in sealed


def test_it_encrypts_bytes_in_the_vault_bound_to_their_context(alice_and_bob):
    alice, _ = alice_and_bob
    key = vault.data_key(alice.pk)
    payload = bytes(range(256)) * 4
    sealed = vault.encrypt_bytes_with_key(
        key, subject_id=alice.pk, context="rights.export|one", plaintext=payload
    )
    assert sealed[:1] == vault.FORMAT_V1 and payload not in sealed
    opened = vault.decrypt_bytes_with_key(
        key, subject_id=alice.pk, context="rights.export|one", ciphertext=sealed
    )
    assert opened == payload
    with pytest.raises(VaultError):
        vault.decrypt_bytes_with_key(
            key, subject_id=alice.pk, context="rights.export|two", ciphertext=sealed
        )
    with pytest.raises(VaultError):
        vault.decrypt_bytes_with_key(
            key, subject_id=alice.pk, context="rights.export|one", ciphertext=b"\x02" + sealed[1:]
        )


def test_a_dpos_internal_notes_are_not_in_the_persons_export(alice_account):
    from qualipact.rights.models import DataRequest
    from qualipact.rights.services import request_note_add, request_submit

    request = request_submit(
        subject=alice_account.subject,
        kind=DataRequest.Kind.RECTIFICATION,
        channel=DataRequest.Channel.ACCOUNT,
        actor=Actor.subject(alice_account.subject_id),
        details={"correction": "My postal address changed."},
    )
    request_note_add(request=request, text="Check the contract file first.", actor=Actor.staff("9"))
    archive = export_build(subject=alice_account.subject, kind="access", actor=Actor.system("test"))
    data = zipfile.ZipFile(io.BytesIO(archive.zip_bytes)).read("data.json").decode()
    assert "Check the contract file first." not in data
    assert "rights.RequestNote" not in data
    assert "rights.DataRequest" in data
