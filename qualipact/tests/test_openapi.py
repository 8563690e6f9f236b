"""/api/openapi.json is a valid OpenAPI 3.1 document that says what the code does: each
operation's request schema is the one its view reads, schema names do not collide, every
error it can answer is documented with the error shape, and request bodies state limits."""

import pytest
from ninja import Schema
from ninja.params.models import BodyModel, QueryModel
from openapi_spec_validator import validate

from qualipact.api import api

pytestmark = pytest.mark.django_db(databases=["default", "keys"])

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations():
    """(method, documented path, view's body model or None, query model or None)."""
    for prefix, router in api._routers:
        for route, path_view in router.path_operations.items():
            for operation in path_view.operations:
                body = query = None
                for model in operation.models:
                    fields = list(model.model_fields.values())
                    if issubclass(model, BodyModel) and fields:
                        body = fields[0].annotation
                    if issubclass(model, QueryModel) and fields:
                        query = fields[0].annotation
                path = "/api" + (prefix.rstrip("/") + "/" + route.lstrip("/")).rstrip("/")
                path = path.replace("//", "/")
                for method in operation.methods:
                    yield method.lower(), path, body, query, operation


def _resolve(document, schema):
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def test_it_serves_a_valid_openapi_document(document):
    validate(document)
    assert document["openapi"].startswith("3.")


def test_it_documents_every_operation_with_the_request_schema_its_view_reads(document):
    seen = 0
    for method, path, body, _, _ in _operations():
        documented = document["paths"][path][method]
        if body is None:
            assert "requestBody" not in documented, (method, path)
            continue
        seen += 1
        ref = documented["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.split("/")[-1] == body.__name__, (method, path)
        component = _resolve(document, {"$ref": ref})
        assert set(component["properties"]) == set(body.model_fields), (method, path)
        assert set(component.get("required", [])) == {
            name for name, field in body.model_fields.items() if field.is_required()
        }
    assert seen >= 7


def _schemas_in_use():
    """Every Schema class the API reads or writes, nested ones included."""
    found: dict[str, set[type]] = {}

    def visit(model):
        if not (isinstance(model, type) and issubclass(model, Schema)):
            return
        if model in found.get(model.__name__, set()):
            return
        found.setdefault(model.__name__, set()).add(model)
        for field in model.model_fields.values():
            for arg in _type_args(field.annotation):
                visit(arg)

    for _, _, body, query, operation in _operations():
        visit(body)
        visit(query)
        for model in operation.response_models.values():
            for arg in _type_args(model.model_fields["response"].annotation):
                visit(arg)
    return found


def _type_args(annotation):
    from typing import get_args

    yield annotation
    for arg in get_args(annotation):
        yield from _type_args(arg)


def test_it_gives_no_two_schemas_the_same_name(document):
    found = _schemas_in_use()
    assert {"PreferenceChangeIn", "RectifyChangeIn", "AuditEventOut", "ConsentEventOut"} <= set(
        found
    )
    clashes = {name: models for name, models in found.items() if len(models) > 1}
    assert clashes == {}
    for name, (model,) in found.items():
        component = document["components"]["schemas"].get(name)
        if component is None:  # a query model is inlined as parameters
            continue
        assert set(component["properties"]) == set(model.model_fields), name


def test_it_documents_the_errors_each_operation_can_answer(document):
    for method, path, body, query, _ in _operations():
        responses = document["paths"][path][method]["responses"]
        expected = {"401", "403"} if path.startswith("/api/dpo") else {"401"}
        if body is not None:
            expected |= {"403", "413", "422"}
        if "{" in path:
            expected |= {"404", "422"}
        if query is not None:
            expected |= {"422"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorOut"), (method, path, status)


def _strings_and_lists(document, schema, where, seen=None):
    seen = seen if seen is not None else set()
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        if name in seen:
            return
        seen.add(name)
    schema = _resolve(document, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _strings_and_lists(document, option, where, seen)
    if schema.get("type") == "string":
        yield where, schema
    if schema.get("type") == "array":
        yield where, schema
        yield from _strings_and_lists(document, schema.get("items", {}), where + "[]", seen)
    for name, prop in schema.get("properties", {}).items():
        yield from _strings_and_lists(document, prop, f"{where}.{name}", seen)


def test_it_declares_the_limits_of_every_request_body(document):
    assert "bytes" in document["info"]["description"]
    unbounded = []
    for method, path, body, _, _ in _operations():
        if body is None:
            continue
        schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        for where, part in _strings_and_lists(document, schema["schema"], body.__name__):
            bounded = (
                "maxLength" in part
                or "enum" in part
                or "const" in part
                or part.get("format") in ("date", "uuid", "date-time")
                or "maxItems" in part
            )
            if not bounded:
                unbounded.append((path, where, part))
        assert document["paths"][path][method]["responses"]["413"]
    assert unbounded == []
