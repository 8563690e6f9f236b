"""The published JSON Schema (draft 2020-12) of `data.json` in access and portability exports.

It is shipped inside every export as `schema.json`, so a receiving service can check
the file without asking us. Bump SCHEMA_VERSION (and SCHEMA_ID) on any change that is
not purely additive.
"""

from __future__ import annotations

import copy
from typing import Any

from qualipact.privacy.purposes import LegalBasis
from qualipact.privacy.registry import Category, Source

SCHEMA_VERSION = 1
SCHEMA_ID = f"urn:qualipact:schema:rights-export:v{SCHEMA_VERSION}"
EXPORT_KINDS = ("access", "portability")
RIGHT_CODES = (
    "access",
    "rectification",
    "erasure",
    "restriction",
    "objection",
    "portability",
    "withdraw_consent",
)

_TEXT = {"type": "string"}
_TEXTS = {"type": "array", "items": _TEXT}
_COUNT = {"type": "integer", "minimum": 0}
_UUID = {
    "type": "string",
    "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
}
_UTC_TIME = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$",
}


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """A closed object: every property required unless named in `optional`."""
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _array_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "Qualipact personal data export",
    "description": (
        "Everything Qualipact stores about one person (access, GDPR Art 15) or the part "
        "they provided or generated under consent or contract (portability, Art 20), "
        "with what the law requires us to say about it."
    ),
    **_object(
        {
            "schema": {"const": SCHEMA_ID},
            "format_version": {"const": SCHEMA_VERSION},
            "export_id": _UUID,
            "kind": {"enum": list(EXPORT_KINDS)},
            "generated_at": _UTC_TIME,
            "subject_id": _UUID,
            "records": _array_of("record"),
            "information": _ref("information"),
            "counts": _object(
                {"records": _COUNT, "fields": _COUNT, "models": _COUNT, "withheld": _COUNT}
            ),
            "staff_accesses": {
                **_array_of("staff_access"),
                "description": (
                    "Access exports only: every time a member of staff saw the person's "
                    "data, newest first (who by role, never by name)."
                ),
            },
        },
        optional=("staff_accesses",),
    ),
    "$defs": {
        "record": _object(
            {
                "model": {
                    "type": "string",
                    "description": "Where the record is stored: <app>.<Model>.",
                },
                "id": _TEXT,
                "fields": _array_of("field"),
            }
        ),
        "field": _object(
            {
                "field": _TEXT,
                "value": {
                    "type": ["string", "number", "boolean", "null", "array", "object"],
                    "description": (
                        "The stored value, decrypted. Times are ISO 8601 in UTC; a reference "
                        "to another record is its id (see `display`)."
                    ),
                },
                "display": {
                    "type": "string",
                    "description": "A readable name for a reference (such as a topic's name).",
                },
                "withheld": {
                    "type": "string",
                    "description": (
                        "Why the value is not shown (a credential); `value` is then null."
                    ),
                },
                "category": {"enum": [str(category) for category in Category]},
                "purposes": _TEXTS,
                "legal_basis": {"enum": [str(basis) for basis in LegalBasis]},
                "source": {"enum": [str(source) for source in Source]},
                "recipients": _array_of("recipient"),
                "retention": _TEXT,
                "portable": {"type": "boolean"},
            },
            optional=("display", "withheld"),
        ),
        "staff_access": _object(
            {
                "occurred_at": _UTC_TIME,
                "role": {"type": "string", "description": "The staff member's role."},
                "purpose": {"type": "string", "description": "Why they opened the data."},
                "viewed": {
                    **_TEXTS,
                    "description": "What they saw: a kind of record and its fields, in words.",
                },
            }
        ),
        "recipient": _object(
            {
                "name": _TEXT,
                "kind": {"enum": ["processor", "partner", "authority"]},
                "country": _TEXT,
                "safeguard": _TEXT,
            },
            optional=("safeguard",),
        ),
        "information": _object(
            {
                "purposes": _array_of("purpose"),
                "categories": _array_of("category"),
                "recipients": _array_of("recipient"),
                "third_country_transfers": _array_of("transfer"),
                "retention": _array_of("retention"),
                "sources": _array_of("source"),
                "rights": _array_of("right"),
                "complaint": _object({"article": _TEXT, "description": _TEXT}),
                "automated_decisions": _object({"used": {"type": "boolean"}, "description": _TEXT}),
            }
        ),
        "purpose": _object(
            {
                "code": _TEXT,
                "label": _TEXT,
                "legal_basis": {"enum": [str(basis) for basis in LegalBasis]},
                "legal_basis_explained": _TEXT,
            }
        ),
        "category": _object(
            {"code": {"enum": [str(category) for category in Category]}, "description": _TEXT}
        ),
        "transfer": _object({"country": _TEXT, "safeguard": _TEXT}),
        "retention": _object({"model": _TEXT, "fields": _TEXTS, "rule": _TEXT}),
        "source": _object(
            {
                "model": _TEXT,
                "field": _TEXT,
                "source": {"enum": [str(source) for source in Source]},
                "explanation": _TEXT,
            }
        ),
        "right": _object(
            {
                "code": {"enum": list(RIGHT_CODES)},
                "name": _TEXT,
                "article": _TEXT,
                "description": _TEXT,
            }
        ),
    },
}


def export_schema() -> dict[str, Any]:
    """The JSON Schema of `data.json`; a copy, so callers cannot change the published one."""
    return copy.deepcopy(_SCHEMA)
