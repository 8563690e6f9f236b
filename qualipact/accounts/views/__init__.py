"""The accounts app's pages, re-exported for urls.py.

account: sign-up, verification, passwords, email change, preferences, deletion.
sessions: where you are signed in. children: parental consent and children's accounts."""

from qualipact.accounts.views.account import (
    delete_account,
    email_change,
    email_change_confirm,
    home,
    password_change,
    password_reset,
    password_reset_set,
    preferences,
    sign_up,
    sign_up_details,
    verify_email,
    verify_email_resend,
)
from qualipact.accounts.views.children import (
    birth_date,
    child_correct,
    child_delete,
    child_detail,
    child_download,
    child_withdraw,
    children_list,
    parental_consent,
    staff_underage,
)
from qualipact.accounts.views.sessions import session_end_view, sessions_list

__all__ = [
    "birth_date",
    "child_correct",
    "child_delete",
    "child_detail",
    "child_download",
    "child_withdraw",
    "children_list",
    "delete_account",
    "email_change",
    "email_change_confirm",
    "home",
    "parental_consent",
    "password_change",
    "password_reset",
    "password_reset_set",
    "preferences",
    "session_end_view",
    "sessions_list",
    "sign_up",
    "sign_up_details",
    "staff_underage",
    "verify_email",
    "verify_email_resend",
]
