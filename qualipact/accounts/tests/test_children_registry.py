"""What a child's account may hold comes from the registry's declarations."""

from pathlib import Path

from qualipact.accounts import child_rule
from qualipact.comms.models import OutboundEmail
from qualipact.privacy.registry import registry


def test_it_admits_a_childs_service_email_by_the_comms_declaration():
    declaration = registry.get(OutboundEmail)
    assert declaration is not None and declaration.for_children_when is not None
    assert declaration.for_children_when(OutboundEmail(kind=OutboundEmail.Kind.SERVICE))
    assert not declaration.for_children_when(OutboundEmail(kind=OutboundEmail.Kind.MARKETING))


def test_it_names_no_other_apps_model_in_the_child_rule():
    source = Path(child_rule.__file__).read_text()
    assert "comms." not in source and "OutboundEmail" not in source
