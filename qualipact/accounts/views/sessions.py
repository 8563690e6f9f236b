"""Where you are signed in: the list of your sessions, and ending them."""

from __future__ import annotations

import uuid

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from qualipact.accounts.models import AccountSession, User
from qualipact.accounts.services import session_end, session_key_hash, sessions_end_all
from qualipact.web.people import signed_in_user


def _current_hash(request: HttpRequest) -> str:
    return session_key_hash(request.session.session_key or "")


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def sessions_list(request: HttpRequest) -> HttpResponse:
    """The list; a POST signs out every other session ("sign out everywhere else")."""
    user = signed_in_user(request, User)
    current = _current_hash(request)
    if request.method == "POST":
        keep = AccountSession.objects.filter(subject_id=user.subject_id, session_key_hash=current)
        sessions_end_all(
            subject=user.subject,
            reason="ended_by_user",
            keep=keep.values_list("pk", flat=True).first(),
        )
        return redirect("accounts:sessions")
    active = list(AccountSession.objects.filter(subject_id=user.subject_id, ended_at__isnull=True))
    rows = [
        {
            "id": record.pk,
            "device": record.device,
            "country": record.country,
            "signed_in_at": record.signed_in_at,
            "last_seen_at": record.last_seen_at,
            "current": record.session_key_hash == current,
        }
        for record in active
    ]
    return render(
        request,
        "accounts/sessions.html",
        {"sessions": rows, "others": sum(not row["current"] for row in rows)},
    )


@never_cache
@login_required
@require_POST
def session_end_view(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request, User)
    current = AccountSession.objects.filter(
        subject_id=user.subject_id, session_key_hash=_current_hash(request)
    ).first()
    # The same 404 for someone else's session, an ended one and one that never existed.
    if not session_end(subject=user.subject, session_id=session_id):
        raise Http404("No such session")
    if current is not None and current.pk == session_id:
        logout(request)  # this browser's own session: sign it out here too
        return redirect("account_login")
    return redirect("accounts:sessions")
