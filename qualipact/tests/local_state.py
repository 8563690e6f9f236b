"""Pytest plugin (`-p qualipact.tests.local_state` in pyproject.toml): the development
secrets file and local folders a test run needs, written as `make run` writes them.

The settings only read, and pytest-django reads them before any conftest.py is imported,
so this runs earlier: a plugin named with `-p` is loaded while pytest parses its command
line. Processes the tests start (the site, workers) read the same file.
"""

import pytest

from qualipact import config


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests() -> None:
    if config.env_str("QUALIPACT_ENV", "development") == "production":
        return
    folder = config.var_dir()
    config.local_dirs_init(folder=folder)
    if config.secrets_missing_from_env():
        config.secrets_file_init(path=folder / config.SECRETS_FILE_NAME)
