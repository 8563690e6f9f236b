"""The back office's audit events (codes 900-999): staff and roles, and access alerts.

Codes are stored: never renumber; only add. 900-919: staff accounts and roles;
920-939: access transparency (alerts on bulk or unusual access).
"""

from enum import IntEnum

from qualipact.privacy.audit import audit_codes_register


class BackofficeCode(IntEnum):
    pass


audit_codes_register(owner="backoffice", codes=BackofficeCode, span=range(900, 1000))
