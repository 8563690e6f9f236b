"""The choices the API documents are the model's choices: a kind, regime, refusal basis or
status added to the model cannot be missing from the schema (nor the other way round)."""

from qualipact.api import api
from qualipact.privacy.purposes import PURPOSES
from qualipact.rights.models import DataRequest
from qualipact.rights.services import dpo


def _enum(document, schema_name, field):
    prop = document["components"]["schemas"][schema_name]["properties"][field]
    options = prop.get("anyOf", [prop])
    for option in options:
        if "enum" in option:
            return set(option["enum"])
        if "items" in option and "enum" in option["items"]:
            return set(option["items"]["enum"])
    raise AssertionError(f"{schema_name}.{field} has no enum")


def _query_enum(document, path, name):
    parameters = document["paths"][path]["get"]["parameters"]
    return set(next(p for p in parameters if p["name"] == name)["schema"]["enum"])


def test_it_documents_exactly_the_models_choices():
    document = api.get_openapi_schema()
    assert _enum(document, "RequestIn", "kind") == set(DataRequest.Kind.values)
    assert _enum(document, "RequestIn", "regime") == set(DataRequest.Regime.values)
    assert _enum(document, "RefuseIn", "basis") == set(DataRequest.RefusalBasis.values)
    assert _query_enum(document, "/api/dpo/requests", "status") == set(dpo.STATUS_FILTERS)
    assert _query_enum(document, "/api/dpo/requests", "due") == set(dpo.DueFilter)
    assert _enum(document, "PreferenceChangeIn", "purpose") == set(PURPOSES)
    assert _enum(document, "RequestDetailsIn", "purposes") == set(PURPOSES)
