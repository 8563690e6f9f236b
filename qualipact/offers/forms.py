from collections.abc import Iterable
from typing import Any

from django import forms

from qualipact.offers.models import Topic


class TopicPreferencesForm(forms.Form):
    """The topics a person is interested in; nothing is ticked until they tick it."""

    topics = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Topics I am interested in",
    )

    def __init__(self, *args: Any, topics: Iterable[Topic], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["topics"].choices = [(t.slug, t.name) for t in topics]  # type: ignore[attr-defined]
