import pytest

from qualipact.privacy.tests.events_contract import (
    event_functions,
    event_problems,
    event_written,
)
from qualipact.rights import events
from qualipact.rights.events import RightsCode

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("function", event_functions(events), ids=lambda f: f.__name__)
def test_it_writes_its_own_code_and_a_declared_purpose(function):
    assert event_problems(function, RightsCode) == []


def test_it_writes_a_different_code_from_each_function():
    written = [event_written(f, RightsCode).code for f in event_functions(events)]
    assert len(written) == len(set(written))
