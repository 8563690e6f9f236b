"""The back office's pages, one module per part: the console, staff and roles, the DPO
dashboard, and the person's "Who accessed my data" page."""

from qualipact.backoffice.views.console import console

__all__ = ["console"]
