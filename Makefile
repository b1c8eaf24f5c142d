# Two commands do all set-up on a fresh machine that has python3, make and git:
#   make run    create .venv, install the locked dependencies, load reference data, run the main job
#   make test   the same set-up, then the whole test suite
# Also: make check (ruff lint + format check, mypy, import contracts), make test-fast (tests not marked slow, 2 workers).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DB     ?= data/entries.duckdb

# Prefect stays quiet and local: no analytics, no telemetry, warnings only.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL ?= WARNING
export PREFECT_HOME ?= $(CURDIR)/data/prefect
export ENTRIES_DB ?= $(CURDIR)/$(DB)

.PHONY: setup reference run test test-fast check bench lock clean

# Both locks carry sha256 hashes: pip refuses any file that does not match them.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r requirements.lock -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

setup: $(STAMP)

reference: setup
	$(BIN)/entries reference load

# The main job on the sample data: a fresh copy of the sample inbox, imported by the nightly flow
# into its own store under data/sample-run (the operators' data/entries.duckdb is not touched).
SAMPLE := data/sample-run
SAMPLE_PASSWORD := sample-only-northfield
run: reference
	rm -rf $(SAMPLE) && mkdir -p $(SAMPLE) && cp -r data/samples/inbox $(SAMPLE)/inbox
	ENTRIES_DB=$(CURDIR)/$(SAMPLE)/entries.duckdb ENTRIES_OUT=$(CURDIR)/$(SAMPLE)/out $(BIN)/entries onboard data/samples/onboarding --received-on 2026-09-01
	ENTRIES_DB=$(CURDIR)/$(SAMPLE)/entries.duckdb ENTRIES_OUT=$(CURDIR)/$(SAMPLE)/out $(BIN)/entries results load data/samples/results.csv
	ENTRIES_DB=$(CURDIR)/$(SAMPLE)/entries.duckdb ENTRIES_OUT=$(CURDIR)/$(SAMPLE)/out \
		$(BIN)/entries nightly $(SAMPLE)/inbox --received-on 2027-01-15 --settle-seconds 0
	ENTRIES_DB=$(CURDIR)/$(SAMPLE)/entries.duckdb ENTRIES_OUT=$(CURDIR)/$(SAMPLE)/out $(BIN)/entries invoices --series 2027-06 --on 2027-01-16
	@echo
	@echo "Reports are in $(SAMPLE)/out: <centre>/*.annotated.xlsx (errors in red), <centre>/*.confirmation.xlsx,"
	@echo "<centre>/invoice_OCR-*.html|xlsx|csv|json and finance/invoices_2027-06.xlsx; files moved to $(SAMPLE)/processed, rejected, failed."
	@printf '%s\n' "$(SAMPLE_PASSWORD)" | ENTRIES_DB=$(CURDIR)/$(SAMPLE)/entries.duckdb $(BIN)/entries users add northfield --centre 12345 >/dev/null
	@echo
	@echo "The centre portal on this sample data (a sample account for centre 12345 is made):"
	@echo "  ENTRIES_DB=$(CURDIR)/$(SAMPLE)/entries.duckdb ENTRIES_OUT=$(CURDIR)/$(SAMPLE)/out $(BIN)/entries web"
	@echo "  then open http://127.0.0.1:8000/ and sign in as northfield, password $(SAMPLE_PASSWORD)"

# The whole suite on two workers (the machine has two cores; WORKERS=0 runs it in this process).
# pytest-xdist hands each worker the next test when it is free, slow tests first; tests marked
# xdist_group (the Prefect API's, a module's shared night) go to one worker together (pyproject.toml).
WORKERS ?= 2
test: reference
	$(BIN)/python -m pytest -n $(WORKERS)

# Everything not marked slow, on the same workers.
test-fast: reference
	$(BIN)/python -m pytest -n $(WORKERS) -m "not slow"

# Lint, format and type checks (settings in pyproject.toml); rewrites nothing. All three always run;
# the target fails if any of them does.
check: setup
	@status=0; \
	echo "ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "ruff format --check ."; $(BIN)/ruff format --check --output-format concise . || status=1; \
	echo "mypy"; $(BIN)/mypy || status=1; \
	echo "lint-imports"; $(BIN)/lint-imports --no-logo --no-cache || status=1; \
	exit $$status

bench: setup
	$(BIN)/python benchmarks/read_speed.py
	$(BIN)/python benchmarks/validate_speed.py
	$(BIN)/python benchmarks/xlsx_writers.py
	$(BIN)/python benchmarks/nightly_scale.py

# Compile requirements.in and requirements-dev.in into the hashed locks (needs the package registry).
# Pins already in a lock are kept unless the .in file changes them; `make lock UPGRADE=1` re-pins
# every package to its newest release. The compiler lives in a throwaway venv.
LOCK_TOOL := uv==0.13.8
COMPILE    = .lock-venv/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
             --custom-compile-command "make lock"$(if $(UPGRADE), --upgrade)
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check $(LOCK_TOOL)
	$(COMPILE) requirements.in -o requirements.lock
	$(COMPILE) requirements-dev.in -o requirements-dev.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) data/out data/prefect data/*.duckdb data/*.duckdb.wal
