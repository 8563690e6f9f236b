"""The DPO's pages, under /staff/rights/ (staff with MFA, in the DPO group).

Part of the "rights" namespace: qualipact/rights/urls.py appends these patterns (a second
include with the same app_name would make one of the two unreversible)."""

from django.urls import path

from qualipact.rights import views

_ACTIONS = {
    "refuse": "refuse",
    "extend": "extend",
    "wait": "wait",
    "resume": "resume",
    "retry": "retry",
    "note": "notes",
    "rectify": "rectify",
    "hold": "holds",
    "lift_notice": "restriction/notify",
}

urlpatterns = [
    path("staff/rights/", views.queue, name="dpo_queue"),
    path("staff/rights/holds/", views.holds, name="dpo_holds"),
    path("staff/rights/appeals/", views.dpo_appeals, name="dpo_appeals"),
    path("staff/rights/appeals/<uuid:appeal_id>/", views.dpo_appeal, name="dpo_appeal"),
    path(
        "staff/rights/appeals/<uuid:appeal_id>/decide/",
        views.dpo_appeal_decide,
        name="dpo_appeal_decide",
    ),
    path("staff/rights/<uuid:request_id>/evidence/", views.dpo_evidence, name="dpo_evidence"),
    path("staff/rights/<uuid:request_id>/", views.request_detail, name="dpo_request"),
    *[
        path(
            f"staff/rights/<uuid:request_id>/{segment}/",
            views.request_action,
            {"action": action},
            name=f"dpo_{action}",
        )
        for action, segment in _ACTIONS.items()
    ],
    path(
        "staff/rights/<uuid:request_id>/restriction/lift/",
        views.restriction_lift,
        name="dpo_lift",
    ),
    path(
        "staff/rights/<uuid:request_id>/holds/<uuid:hold_id>/lift/",
        views.hold_lift,
        name="dpo_hold_lift",
    ),
]
