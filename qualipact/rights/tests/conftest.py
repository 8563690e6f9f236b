"""Shared fixtures of the rights tests."""

from types import SimpleNamespace

import pytest


@pytest.fixture
def web(client, smtp, settings, django_capture_on_commit_callbacks):
    """POST through the pages; what the commit schedules (fulfilment, emails) runs at once."""
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def post(url, data, *, by=None, follow=True):
        """POST, and follow the redirect to the page a person then sees (POST/redirect/GET)."""
        with django_capture_on_commit_callbacks(execute=True):
            return (by or client).post(url, data, follow=follow)

    return SimpleNamespace(post=post, client=client, smtp=smtp)
