"""Route the vault's key tables to the separate key database and nothing else there."""

from typing import Any

KEY_STORE_MODELS = frozenset({"subjectkey", "shredrecord"})


def _is_key_store(model: Any) -> bool:
    meta = model._meta
    return bool(meta.app_label == "privacy" and meta.model_name in KEY_STORE_MODELS)


class KeyStoreRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str:
        return "keys" if _is_key_store(model) else "default"

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return "keys" if _is_key_store(model) else "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # __class__, not type(): a lazy request.user (SimpleLazyObject) reports its model.
        if _is_key_store(obj1.__class__) or _is_key_store(obj2.__class__):
            return False
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool:
        is_key_model = app_label == "privacy" and model_name in KEY_STORE_MODELS
        if db == "keys":
            return is_key_model
        return not is_key_model
