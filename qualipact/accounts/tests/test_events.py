"""Every event function of the accounts app writes its own code and a declared purpose."""

from qualipact.accounts import events
from qualipact.privacy.tests.events_contract import contract_tests

(
    test_it_writes_its_own_code_and_a_declared_purpose,
    test_it_writes_a_different_code_from_each_function,
) = contract_tests(events, events.AccountsCode)
