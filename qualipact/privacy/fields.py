"""Model fields for the vault: encrypted text and blind indexes.

An EncryptedTextField stores only ciphertext, bound to its table, column and the
row's subject. Reading the attribute decrypts it with the subject's data key;
assigning plaintext encrypts it when the row is saved.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from qualipact.privacy import vault
from qualipact.privacy.errors import VaultError


def encrypted_context(model: type[models.Model], field_name: str) -> str:
    """The associated data that binds a field's ciphertext to its table and column."""
    column = model._meta.get_field(field_name).column  # type: ignore[union-attr]
    return f"{model._meta.db_table}.{column}"


class _EncryptedAttribute(DeferredAttribute):
    """Decrypts on first read; a data descriptor so it sees every access."""

    field: EncryptedTextField

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, vault.Sealed):
            value = vault.decrypt(self.field.subject_id_of(instance), self.field.context, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.BinaryField):
    """Text kept as AES-256-GCM ciphertext under the subject's data key."""

    descriptor_class = _EncryptedAttribute
    # For django-stubs: instances read and write text, not bytes.
    _pyi_private_set_type: str | vault.Sealed
    _pyi_private_get_type: str  # type: ignore[assignment]

    def __init__(self, *args: Any, subject_field: str = "subject", **kwargs: Any) -> None:
        self.subject_field = subject_field
        kwargs.setdefault("editable", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.subject_field != "subject":
            kwargs["subject_field"] = self.subject_field
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    @property
    def context(self) -> str:
        return encrypted_context(self.model, self.name)

    def subject_id_of(self, instance: Any) -> Any:
        subject_id = getattr(instance, f"{self.subject_field}_id")
        if subject_id is None:
            raise VaultError(f"{self.context}: a row needs its subject before it can be encrypted")
        return subject_id

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return vault.Sealed(bytes(value))

    def to_python(self, value: Any) -> Any:
        # Model validation (full_clean, createsuperuser) sees plaintext, not base64 bytes.
        if value is None or isinstance(value, str | vault.Sealed):
            return value
        return super().to_python(value)

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, vault.Sealed):
            return value
        if not isinstance(value, str):
            raise VaultError(f"{self.context}: encrypted fields hold text")
        return vault.Sealed(vault.encrypt(self.subject_id_of(model_instance), self.context, value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, vault.Sealed):
            return value
        # Plaintext can only reach the database through save(), which encrypts it.
        raise VaultError(
            f"{self.context}: encrypted fields cannot be written with update() or filtered on; "
            "save the instance, and look values up through a blind index"
        )

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        value = self.get_prep_value(value)
        if value is None:
            return None
        return connection.Database.Binary(bytes(value))

    def value_to_string(self, obj: Any) -> str:
        raise VaultError(f"{self.context}: encrypted fields are not serialised in plaintext")


class BlindIndexField(models.CharField):
    """HMAC-SHA256 of another field's plaintext, for exact-match lookups without plaintext."""

    def __init__(self, *args: Any, source: str = "", scope: str = "", **kwargs: Any) -> None:
        self.source = source
        self.scope = scope or source
        kwargs["max_length"] = 64
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if self.scope != self.source:
            kwargs["scope"] = self.scope
        kwargs.pop("max_length", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: Any, add: bool) -> Any:
        plaintext = getattr(model_instance, self.source)
        value = None if plaintext in (None, "") else vault.blind_index(self.scope, plaintext)
        setattr(model_instance, self.attname, value)
        return value
