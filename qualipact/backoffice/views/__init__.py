"""The back office's pages, one module per part: the console, staff and roles, the DPO
dashboard, and access transparency. `urls.py` imports each module directly."""
