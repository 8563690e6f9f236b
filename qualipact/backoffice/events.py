"""The back office's audit events (codes 900-999): staff and roles, and access alerts.

Codes are stored: never renumber; only add. 900-919: staff accounts and roles;
920-939: access transparency (alerts on bulk or unusual access).
"""

from enum import IntEnum

from qualipact.privacy.audit import Actor, audit_codes_register, audit_log
from qualipact.privacy.models import AuditEvent


class BackofficeCode(IntEnum):
    # 920-939: access transparency
    ACCESS_ALERT_RAISED = 920  # one staff member viewed many people's data in a short time


# -- access transparency ---------------------------------------------------------------

ACCESS_ALERT_PURPOSE = "security"


def access_alert_raised_event(
    *, staff_id: str, people: int, threshold: int, window_minutes: int
) -> AuditEvent:
    """920: the staff member `staff_id` viewed the data of `people` distinct persons within
    `window_minutes` minutes, more than `threshold`; every security officer was emailed.
    Ids and counts only (GDPR Art 32(1)(d), Art 33: detect unauthorised access)."""
    return audit_log(
        code=BackofficeCode.ACCESS_ALERT_RAISED,
        actor=Actor.system("access_alert"),
        purpose=ACCESS_ALERT_PURPOSE,
        data={
            "staff": staff_id,
            "people": people,
            "threshold": threshold,
            "window_minutes": window_minutes,
        },
    )


audit_codes_register(owner="backoffice", codes=BackofficeCode, span=range(900, 1000))
