import base64
import io
import os

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test import override_settings

from qualipact.contact.models import Inquiry
from qualipact.privacy import vault
from qualipact.privacy.errors import SubjectShredded, VaultError
from qualipact.privacy.models import DataSubject, ShredRecord, SubjectKey

pytestmark = pytest.mark.django_db(databases=["default", "keys"])


def new_master_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_it_creates_a_wrapped_key_on_first_use_in_the_key_database_only(alice_inquiry):
    row = SubjectKey.objects.using("keys").get(subject_id=alice_inquiry.subject_id)
    assert len(bytes(row.wrapped_key)) == 12 + 32 + 16  # nonce, key, tag
    assert row.master_key_id == next(iter(vault.settings.VAULT_MASTER_KEYS))
    # The unwrapped key never appears in the stored blob.
    assert vault.data_key(alice_inquiry.subject_id) not in bytes(row.wrapped_key)
    tables = connections["default"].introspection.table_names()
    assert "privacy_subjectkey" not in tables


def test_it_stores_ciphertext_and_decrypts_for_code_that_holds_the_subject(alice_inquiry):
    raw = Inquiry.objects.values_list("message", flat=True).get()
    assert isinstance(raw, bytes)
    assert b"AM-7731" not in raw
    assert Inquiry.objects.get().message.endswith("Reference AM-7731.")


def test_it_binds_ciphertext_to_its_column(alice_inquiry):
    # Copy the ciphertext of `name` into `subject_line`: decryption must refuse it.
    name_ct = Inquiry.objects.values_list("name", flat=True).get()
    Inquiry.objects.update(subject_line=name_ct)  # raw ciphertext, as an attacker could
    with pytest.raises(VaultError, match="does not belong"):
        _ = Inquiry.objects.get().subject_line


def test_it_binds_ciphertext_to_its_subject(alice_inquiry, bob_inquiry):
    bob_ct = Inquiry.objects.filter(pk=bob_inquiry.pk).values_list("message", flat=True).get()
    Inquiry.objects.filter(pk=alice_inquiry.pk).update(message=bob_ct)
    with pytest.raises(VaultError, match="does not belong"):
        _ = Inquiry.objects.get(pk=alice_inquiry.pk).message


def test_it_refuses_plaintext_through_queryset_update(alice_inquiry):
    with pytest.raises(VaultError, match="cannot be written with update"):
        Inquiry.objects.update(message="plaintext that must never reach the table")


def test_it_refuses_to_read_after_shredding(alice_inquiry):
    loaded = Inquiry.objects.get()  # ciphertext loaded, not yet decrypted
    vault.key_destroy(alice_inquiry.subject_id)
    with pytest.raises(SubjectShredded, match="was erased"):
        _ = loaded.message
    assert not SubjectKey.objects.using("keys").filter(subject_id=alice_inquiry.subject_id).exists()
    assert ShredRecord.objects.using("keys").filter(subject_id=alice_inquiry.subject_id).exists()


def test_it_never_recreates_a_key_for_a_shredded_subject():
    subject = DataSubject.objects.create()
    vault.encrypt(subject.pk, "t.c", "x")
    vault.key_destroy(subject.pk)
    with pytest.raises(SubjectShredded):
        vault.encrypt(subject.pk, "t.c", "new data")


def test_it_never_serves_a_cached_key_after_another_process_shreds_it():
    subject = DataSubject.objects.create()
    ciphertext = vault.encrypt(subject.pk, "t.c", "secret")
    assert vault.decrypt(subject.pk, "t.c", ciphertext) == "secret"  # key now cached here
    # Another process shreds: it deletes the key and moves the shared epoch on; it
    # cannot touch this process's memory.
    SubjectKey.objects.using("keys").filter(subject_id=subject.pk).delete()
    ShredRecord.objects.using("keys").create(subject_id=subject.pk)
    cache.set(vault.EPOCH_CACHE_KEY, "epoch-after-remote-shred", None)
    with pytest.raises(SubjectShredded):
        vault.decrypt(subject.pk, "t.c", ciphertext)


def test_it_serves_the_cached_key_without_a_query_while_nothing_was_shredded(
    django_assert_num_queries,
):
    subject = DataSubject.objects.create()
    ciphertext = vault.encrypt(subject.pk, "t.c", "secret")
    with django_assert_num_queries(0, using="keys"):
        assert vault.decrypt(subject.pk, "t.c", ciphertext) == "secret"


def test_it_rewraps_every_key_under_a_new_master_key(alice_inquiry, bob_inquiry, settings):
    old_keys = dict(settings.VAULT_MASTER_KEYS)
    new_key = base64.b64decode(new_master_key())
    with override_settings(VAULT_MASTER_KEYS={"mk-new": new_key, **old_keys}):
        vault.key_cache_clear()
        assert vault.keys_to_rotate() == 2
        call_command("vault_rotate", stdout=io.StringIO())
        ids = set(SubjectKey.objects.using("keys").values_list("master_key_id", flat=True))
        assert ids == {"mk-new"}
    # The old master key can now be removed: data still decrypts with the new one alone.
    with override_settings(VAULT_MASTER_KEYS={"mk-new": new_key}):
        vault.key_cache_clear()
        assert Inquiry.objects.get(pk=alice_inquiry.pk).name == "Alice Marchetti"


def test_it_names_a_missing_master_key_clearly(alice_inquiry):
    with override_settings(VAULT_MASTER_KEYS={"other": os.urandom(32)}):
        vault.key_cache_clear()
        with pytest.raises(VaultError, match="not configured in VAULT_MASTER_KEYS"):
            _ = Inquiry.objects.get().name


def test_it_blind_indexes_emails_case_and_space_insensitively():
    assert vault.blind_index("email", " Alice@Example.ORG ") == vault.blind_index(
        "email", "alice@example.org"
    )
    assert vault.blind_index("email", "alice@example.org") != vault.blind_index(
        "phone", "alice@example.org"
    )


def test_it_finds_an_inquiry_by_email_through_the_blind_index(alice_inquiry):
    index = vault.blind_index("email", "ALICE.MARCHETTI@example.org")
    assert Inquiry.objects.get(email_index=index).pk == alice_inquiry.pk


def test_it_never_serves_a_cached_key_when_the_shred_epoch_was_evicted():
    subject = DataSubject.objects.create()
    ciphertext = vault.encrypt(subject.pk, "t.c", "secret")
    vault.decrypt(subject.pk, "t.c", ciphertext)  # cached under the current epoch
    SubjectKey.objects.using("keys").filter(subject_id=subject.pk).delete()
    ShredRecord.objects.using("keys").create(subject_id=subject.pk)
    cache.delete(vault.EPOCH_CACHE_KEY)  # the shared cache lost the epoch
    with pytest.raises(SubjectShredded):
        vault.decrypt(subject.pk, "t.c", ciphertext)


def test_it_reads_the_key_database_every_time_when_the_cache_is_off(
    settings, django_assert_num_queries
):
    settings.VAULT_KEY_CACHE_SECONDS = 0
    subject = DataSubject.objects.create()
    ciphertext = vault.encrypt(subject.pk, "t.c", "secret")
    for _ in range(2):
        with django_assert_num_queries(1, using="keys"):
            assert vault.decrypt(subject.pk, "t.c", ciphertext) == "secret"


def test_both_databases_are_separate_and_sqlite_runs_in_wal_mode():
    main, keys = connections["default"], connections["keys"]
    assert main.settings_dict["NAME"] != keys.settings_dict["NAME"]
    for connection in (main, keys):
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA journal_mode")
                assert cursor.fetchone()[0] == "wal"
                cursor.execute("PRAGMA secure_delete")
                assert cursor.fetchone()[0] == 1
