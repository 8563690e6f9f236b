"""The export learns which fields are secrets from the registry, never from a list of its own."""

import ast
from pathlib import Path

from qualipact.privacy.registry import registry
from qualipact.rights.services import exports


def test_it_names_no_credential_field_or_model_of_another_app():
    tree = ast.parse(Path(exports.__file__).read_text())
    texts = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    secret_names = {
        name for d in registry.declarations() for name, spec in d.fields.items() if spec.secret
    }
    labels = {d.label for d in registry.declarations()}
    assert texts & (secret_names | labels) == set()
