"""The DPO's pages: the queue of requests, and one request with everything to act on it,
grouped by step (check, answer, restriction and holds, notes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from qualipact.privacy.access import StaffView
from qualipact.privacy.audit import Actor
from qualipact.privacy.errors import ApplicationError
from qualipact.privacy.registry import registry
from qualipact.privacy.selectors import subject_collect
from qualipact.retention.selectors import legal_hold_bases, legal_hold_of
from qualipact.retention.services import legal_hold_place
from qualipact.rights import events, services
from qualipact.rights.models import DataRequest
from qualipact.rights.selectors import (
    RectificationTarget,
    legal_holds_in_force,
    rectification_current,
    rectification_targets,
    request_for_dpo,
    subject_names,
)
from qualipact.rights.services.dpo import DUE_WITHIN_DAYS, QUEUE_LIMIT, STATUS_ALL, STATUS_OPEN
from qualipact.rights.services.requests import TEXT_MAX
from qualipact.web.forms import PageForm
from qualipact.web.roles import Role, dpo_required
from qualipact.web.submissions import submitted_once


def _model_choices() -> list[tuple[str, str]]:
    return [(d.label, d.label_human_plural.capitalize()) for d in registry.subject_declarations()]


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(STATUS_OPEN, "Open"), (STATUS_ALL, "All"), *DataRequest.Status.choices],
        required=False,
    )
    due = forms.ChoiceField(
        choices=[
            (services.DueFilter.ALL, "Any date"),
            (services.DueFilter.OVERDUE, "Overdue"),
            (services.DueFilter.WEEK, f"Due within {DUE_WITHIN_DAYS} days"),
        ],
        required=False,
    )


class RefuseForm(PageForm):
    basis = forms.ChoiceField(choices=DataRequest.RefusalBasis.choices)
    reason = forms.CharField(
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent to the person.",
    )


class ExtendForm(PageForm):
    due_on = forms.DateField(label="New due date", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to the person.",
    )


class WaitForm(PageForm):
    note = forms.CharField(
        max_length=TEXT_MAX,
        label="What we need from the person",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Sent to the person.",
    )


class ResumeForm(PageForm):
    pass


class RetryForm(PageForm):
    pass


class NoteForm(PageForm):
    text = forms.CharField(
        max_length=TEXT_MAX,
        label="Internal note",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Never shown to the person.",
    )


class PickForm(PageForm):
    """Step one of a correction: the record and field, from what the person has."""

    correct = forms.ChoiceField(label="Record and field to correct")

    def __init__(self, *args: Any, targets: list[RectificationTarget], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["correct"]).choices = _grouped(targets)


def _grouped(targets: list[RectificationTarget]) -> list[Any]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for target in targets:
        groups.setdefault(target.group, []).append((target.key, target.label))
    return [("", "Choose…"), *groups.items()]


class RectifyForm(PageForm):
    """Step two: the new value, in the picked field's own form field. A target that is not
    one of this person's (a crafted POST) is refused like any invalid choice."""

    target = forms.ChoiceField(widget=forms.HiddenInput)
    more = forms.BooleanField(
        required=False,
        label="More corrections to make on this request",
        help_text="Keeps the request open; the person is told of every correction at the end.",
    )

    def __init__(
        self,
        *args: Any,
        targets: list[RectificationTarget] = (),  # type: ignore[assignment]
        target: RectificationTarget | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.targets = {t.key: t for t in targets}
        cast(forms.ChoiceField, self.fields["target"]).choices = [(k, k) for k in self.targets]
        key = target.key if target else str(self.data.get("target", ""))
        self.picked = self.targets.get(key)
        if self.picked is not None:
            self.fields["value"] = self.picked.field.form_field()
            if target is not None:
                self.initial["target"] = target.key


class HoldForm(PageForm):
    basis = forms.ChoiceField(choices=legal_hold_bases)
    models = forms.MultipleChoiceField(
        choices=_model_choices,
        required=False,
        help_text="None chosen: the hold covers everything of the person.",
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Case reference.",
    )


class LiftNoticeForm(PageForm):
    lift_on = forms.DateField(
        label="Lift on", widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )


FORMS: dict[str, type[forms.Form]] = {
    "refuse": RefuseForm,
    "extend": ExtendForm,
    "wait": WaitForm,
    "resume": ResumeForm,
    "retry": RetryForm,
    "note": NoteForm,
    "rectify": RectifyForm,
    "hold": HoldForm,
    "lift_notice": LiftNoticeForm,
}


def _viewer(request: HttpRequest) -> StaffView:
    """The DPO as the viewer of what the page decrypts (privacy.access)."""
    return StaffView(actor=_actor(request), role=Role.DPO, purpose=events.PURPOSE)


@never_cache
@dpo_required
@require_safe
def holds(request: HttpRequest) -> HttpResponse:
    """Every legal hold in force, each linked to the person's request page (where it is
    lifted). No decrypted value: the hold's note is read on the request page."""
    return render(request, "rights/dpo/holds.html", {"holds": legal_holds_in_force()})


@never_cache
@dpo_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET)
    form.is_valid()
    status = form.cleaned_data.get("status") or STATUS_OPEN
    due = form.cleaned_data.get("due") or services.DueFilter.ALL
    rows = services.requests_queue(status=status, due=due)
    # Who asked: the name each person declared, read for this page and recorded per person.
    names = subject_names({row.subject_id for row in rows}, staff_view=_viewer(request))
    for row in rows:
        row.person = names.get(row.subject_id)  # type: ignore[attr-defined]
    return render(
        request,
        "rights/dpo/queue.html",
        {"form": form, "rows": rows, "status": status, "due": due, "limit": QUEUE_LIMIT},
    )


def _page(
    request: HttpRequest,
    data_request: DataRequest,
    *,
    bound: dict[str, forms.Form] | None = None,
    problem: str = "",
    status: int = 200,
    records: Any = None,
) -> HttpResponse:
    bound = bound or {}
    page_forms = {name: form_class() for name, form_class in FORMS.items() if name != "rectify"}
    page_forms.update({name: form for name, form in bound.items() if name != "rectify"})
    viewer = _viewer(request)
    context: dict[str, Any] = {
        "r": data_request,
        "view": request_for_dpo(data_request, staff_view=viewer),
        "notes": list(data_request.notes.all()),
        "trail": [
            (event, services.event_name(event.code))
            for event in services.request_trail(data_request)
        ],
        "holds": services.subject_holds(data_request),
        "forms": page_forms,
        "problem": problem,
        "done": request.GET.get("done", "") if not problem else "",
        "lift_state": services.restriction_lift_state(data_request),
        "records": records,
        "models": {d.label: d.label_human_plural for d in registry.subject_declarations()},
    }
    if data_request.kind == DataRequest.Kind.RECTIFICATION and data_request.is_open:
        context.update(_correction(request, data_request, viewer, bound.get("rectify")))
    return render(request, "rights/dpo/request.html", context, status=status)


def _correction(
    request: HttpRequest,
    data_request: DataRequest,
    viewer: StaffView,
    bound: forms.Form | None,
) -> dict[str, Any]:
    """The two steps of a correction: pick the record and field; enter the new value."""
    targets = rectification_targets(data_request.subject_id)
    pick = PickForm(request.GET if "correct" in request.GET else None, targets=targets)
    form: forms.Form | None = bound
    if form is None and pick.is_bound and pick.is_valid():
        target = next(t for t in targets if t.key == pick.cleaned_data["correct"])
        form = RectifyForm(targets=targets, target=target)
    picked = form.picked if isinstance(form, RectifyForm) else None
    current = rectification_current(picked, staff_view=viewer) if picked else None
    return {"pick": pick, "rectify": form, "target": picked, "current": current}


def _actor(request: HttpRequest) -> Actor:
    return Actor.staff(str(request.user.pk))


def _request_or_404(request_id: Any) -> DataRequest:
    return get_object_or_404(DataRequest.objects.select_related("subject"), pk=request_id)


@never_cache
@dpo_required
@require_safe
def request_detail(request: HttpRequest, request_id: Any) -> HttpResponse:
    data_request = _request_or_404(request_id)
    records = None
    if request.GET.get("records") == "1":
        # A staff read of the person's data: audited (SUBJECT_DATA_COLLECTED, and a
        # staff view per model).
        collected = subject_collect(data_request.subject, staff_view=_viewer(request)).records
        by_label = {d.label: d.label_human.capitalize() for d in registry.subject_declarations()}
        records = [(by_label.get(record.model, "Other record"), record) for record in collected]
    return _page(request, data_request, records=records)


# -- actions: each a form posted to its own address --------------------------------------


def _refuse(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    services.request_refuse(request=r, basis=data["basis"], reason=data["reason"], actor=actor)


def _extend(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    services.request_extend(
        request=r, new_due_on=data["due_on"], reason=data["reason"], actor=actor
    )


def _wait(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    services.request_wait_on_person(request=r, note=data["note"], actor=actor)


def _resume(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    services.request_resume(request=r, actor=actor)


def _retry(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    services.request_retry(request=r, actor=actor)


def _note(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    services.request_note_add(request=r, text=data["text"], actor=actor)


def _rectify(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    target: RectificationTarget = data["picked"]
    services.rectification_apply(
        request=r,
        changes=[target.change(data["value"])],
        actor=actor,
        complete=not data.get("more"),
    )


def _hold(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    legal_hold_place(
        subject=r.subject,
        basis=data["basis"],
        models_held=list(data["models"]),
        note=data["note"],
        actor=actor,
    )


def _lift_notice(r: DataRequest, data: dict[str, Any], actor: Actor) -> None:
    services.restriction_lift_notify(request=r, lift_on=data["lift_on"], actor=actor)


ACTIONS: dict[str, Callable[[DataRequest, dict[str, Any], Actor], None]] = {
    "refuse": _refuse,
    "extend": _extend,
    "wait": _wait,
    "resume": _resume,
    "retry": _retry,
    "note": _note,
    "rectify": _rectify,
    "hold": _hold,
    "lift_notice": _lift_notice,
}


def _done(data_request: DataRequest, action: str) -> HttpResponse:
    url = reverse("rights:dpo_request", args=[data_request.pk])
    return redirect(f"{url}?done={action}")


def _bound(action: str, data_request: DataRequest, request: HttpRequest) -> forms.Form:
    if action == "rectify":
        # Only the person's own records and rectifiable fields can be chosen.
        return RectifyForm(request.POST, targets=rectification_targets(data_request.subject_id))
    return FORMS[action](request.POST)


@never_cache
@dpo_required
@submitted_once("dpo-action")
@require_POST
def request_action(request: HttpRequest, request_id: Any, action: str) -> HttpResponse:
    data_request = _request_or_404(request_id)
    form = _bound(action, data_request, request)
    if not form.is_valid():
        return _page(request, data_request, bound={action: form}, status=400)
    data = dict(form.cleaned_data)
    if isinstance(form, RectifyForm):
        data["picked"] = form.picked
    try:
        ACTIONS[action](data_request, data, _actor(request))
    except ApplicationError as error:
        form.add_error(None, error.public)
        data_request.refresh_from_db()
        return _page(request, data_request, bound={action: form}, problem=error.public, status=400)
    return _done(data_request, action)


@never_cache
@dpo_required
@submitted_once("dpo-restriction-lift")
@require_POST
def restriction_lift(request: HttpRequest, request_id: Any) -> HttpResponse:
    data_request = _request_or_404(request_id)
    try:
        services.restriction_lift(request=data_request, actor=_actor(request))
    except ApplicationError as error:
        data_request.refresh_from_db()
        return _page(request, data_request, problem=error.public, status=400)
    return _done(data_request, "lift")


@never_cache
@dpo_required
@submitted_once("dpo-hold-lift")
@require_POST
def hold_lift(request: HttpRequest, request_id: Any, hold_id: Any) -> HttpResponse:
    data_request = _request_or_404(request_id)
    hold = legal_hold_of(hold_id=hold_id, subject_id=data_request.subject_id)
    if hold is None:
        raise Http404("No such hold")
    if hold.lifted_at is not None:
        return _page(request, data_request, problem="This hold is already lifted", status=400)
    services.legal_hold_lift_and_resume(hold=hold, actor=_actor(request))
    return _done(data_request, "hold_lift")
