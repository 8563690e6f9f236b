"""Forms that share a page with other forms.

A page with several forms (a ticket's answer, call log and note; a request's refusal,
extension and hold) would give two fields of the same name the same id, and a label
would point to the first of them: a screen reader, and a click on the label, reach the
wrong box (WCAG 2.2 SC 1.3.1 and 4.1.2). `PageForm` names its fields' ids after the form
(`id_<form>_<field>`); what is posted, the fields' names, does not change.
"""

from __future__ import annotations

from typing import Any

from django import forms


class PageForm(forms.Form):
    """A form whose field ids start with its class's name less "Form", lowercased:
    `AnswerForm`'s `body` is `id_answer_body`. An explicit `auto_id` still wins."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        name = type(self).__name__.removesuffix("Form").lower()
        kwargs.setdefault("auto_id", f"id_{name}_%s")
        super().__init__(*args, **kwargs)
