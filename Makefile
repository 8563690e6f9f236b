# Two commands: `make run` sets up and runs the site, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install secrets lint bench

# Re-installs only when pyproject.toml changes, so a second `make run` starts fast.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The development secrets file, which the settings only read (mypy's Django plugin loads
# them); `run_site` and the test suite write it too. Never changes a value already there.
secrets: install
	$(BIN)/python manage.py secrets_init

# `exec`: make itself is run_site's parent. run_site asks the kernel for a SIGTERM when
# its parent dies and watches it too, so however make is stopped, run_site stops its
# children, each in a process group of its own (qualipact/web/processes.py), and ends.
run: install
	exec $(BIN)/python manage.py run_site --port $(PORT)

lint: secrets
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy qualipact
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

# Library against raw SQL (bench/README.md); each bench keeps its data in var/bench-*/.
bench: install
	$(BIN)/python bench/spine.py
	$(BIN)/python bench/rights.py
	$(BIN)/python bench/retention.py
	$(BIN)/python bench/support.py
