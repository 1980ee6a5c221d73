# Two commands for a fresh machine with Python and make: `make demo` and `make test`.
PYTHON ?= python3
AIRFLOW_VERSION ?= 3.3.2
VENV ?= .venv
CONSTRAINTS ?=
PYTEST_ARGS ?=
DEMO_ARGS ?=

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(AIRFLOW_VERSION)

.PHONY: test system-packages lint demo package-check clean

$(STAMP): pyproject.toml Makefile $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]" "apache-airflow==$(AIRFLOW_VERSION)" \
		$(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))
	touch $(STAMP)

# Debian's chromium, redis-server and postgresql, installed by the script CI uses (or a message saying
# what to install, when it cannot).
system-packages:
	bash .ci/services.sh

test: $(STAMP) system-packages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

# Build sdist and wheel, twine check them, run the first example DAG from the wheel in a clean venv.
package-check: $(STAMP)
	VENV=$(VENV) bash .ci/package/check.sh $(AIRFLOW_VERSION)

clean:
	rm -rf .venv .venv-*
