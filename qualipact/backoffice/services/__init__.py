"""The back office's writes, one module per part, re-exported here so callers write
`from qualipact.backoffice.services import staff_invite`.

staff: staff accounts, invitations and roles.

Modules of this package import each other directly, never through this file."""

from qualipact.backoffice.services.staff import (
    INVITE_VALID_FOR,
    InviteInvalid,
    staff_account_create,
    staff_deactivate,
    staff_invite,
    staff_invite_accept,
    staff_invite_cancel,
    staff_restore,
    staff_role_grant,
    staff_role_remove,
    staff_roles_set,
)

__all__ = [
    "INVITE_VALID_FOR",
    "InviteInvalid",
    "staff_account_create",
    "staff_deactivate",
    "staff_invite",
    "staff_invite_accept",
    "staff_invite_cancel",
    "staff_restore",
    "staff_role_grant",
    "staff_role_remove",
    "staff_roles_set",
]
