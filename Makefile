# Two commands for a fresh machine with Python and make: `make demo` and `make test`.
# Contributors: `make check` (CONTRIBUTING.md) is the quick loop; it needs no system package and no root.
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
VENV ?= .venv
CONSTRAINTS ?=
PYTEST_ARGS ?=
DEMO_ARGS ?=
# Test processes for the tests that need no deployment (most of their time is spent waiting on servers).
WORKERS ?= 4

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)
DEMO_STAMP := $(VENV)/.installed-demo-$(AIRFLOW_VERSION)
# Bytecode is compiled at install: every Airflow process a test starts then imports from .pyc files,
# even where PYTHONDONTWRITEBYTECODE is set (a cold Airflow import costs seconds without them).
INSTALL = $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet uv && \
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[$(1)]" \
		"apache-airflow==$(AIRFLOW_VERSION)" $(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
QUICK := not deployment and not browser

.PHONY: test check system-packages lint demo docs package-check clean

$(STAMP): pyproject.toml Makefile $(CONSTRAINTS)
	$(call INSTALL,dev)
	touch $(STAMP) $(DEMO_STAMP)

# The demo needs the emulator and a local S3 only: the testing extra, not the contributors' tools.
$(DEMO_STAMP): pyproject.toml Makefile $(CONSTRAINTS)
	$(call INSTALL,testing)
	touch $(DEMO_STAMP)

# Debian's chromium, redis-server and postgresql, installed by the script CI uses (or a message saying
# what to install, when it cannot).
system-packages:
	bash .ci/services.sh

# Everything: the tests that need no deployment in parallel, then the deployment and browser tests one
# at a time (they start many processes and time heartbeats). pytest exits 5 when a phase selects nothing.
test: $(STAMP) system-packages
	$(BIN)/python -m pytest -n $(WORKERS) -m "$(QUICK)" $(PYTEST_ARGS); status=$$?; \
		[ $$status -eq 0 ] || [ $$status -eq 5 ] || exit $$status; \
		$(BIN)/python -m pytest -m "not ($(QUICK))" $(PYTEST_ARGS); second=$$?; \
		[ $$second -eq 0 ] || { [ $$second -eq 5 ] && [ $$status -eq 0 ]; } || exit $$second

# The contributors' loop: lint, types and every test that needs no deployment or browser.
check: lint
	$(BIN)/python -m pytest -n $(WORKERS) -m "$(QUICK)" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

demo: $(DEMO_STAMP)
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

# The documentation site (docs/, Sphinx with MyST Markdown) into .artifacts/docs/html; any warning fails it.
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs .artifacts/docs/html
	@echo "The docs are at .artifacts/docs/html/index.html"

# Build sdist and wheel, twine check them, run the first example DAG from the wheel in a clean venv.
package-check: $(STAMP)
	VENV=$(VENV) bash .ci/package/check.sh $(AIRFLOW_VERSION)

clean:
	rm -rf .venv .venv-*
