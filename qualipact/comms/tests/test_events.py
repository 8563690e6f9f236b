import pytest

from qualipact.comms import events
from qualipact.comms.events import CommsCode
from qualipact.privacy.tests.events_contract import (
    event_functions,
    event_problems,
    event_written,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("function", event_functions(events), ids=lambda f: f.__name__)
def test_it_writes_its_own_code_and_a_declared_purpose(function):
    assert event_problems(function, CommsCode) == []


def test_it_writes_a_different_code_from_each_function():
    written = [event_written(f, CommsCode).code for f in event_functions(events)]
    assert len(written) == len(set(written))
