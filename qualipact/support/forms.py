"""The person's forms on a ticket's page: a reply, and a rating of the answer."""

from __future__ import annotations

from django import forms

from qualipact.support.services.person import COMMENT_MAX, SCORES
from qualipact.support.services.thread import MESSAGE_MAX

SCORE_LABELS = {1: "1 (poor)", 2: "2", 3: "3", 4: "4", 5: "5 (excellent)"}


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write your reply first."},
    )
    # The page's random key: the same form sent twice is kept once.
    form_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)


class FeedbackForm(forms.Form):
    score = forms.TypedChoiceField(
        label="How good was our answer?",
        choices=[(score, SCORE_LABELS[score]) for score in SCORES],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a rating from 1 to 5.",
            "invalid_choice": "Choose a rating from 1 to 5.",
        },
    )
    comment = forms.CharField(
        label="Anything to add? (optional)",
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
