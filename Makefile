# kamfit: `make run` to try it, `make test` to check everything. Each sets up what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KAMFIT_DATA_DIR ?= $(CURDIR)/var
PORT ?= 8000

.PHONY: setup system-libs run test test-sqlite test-postgres check fmt e2e-deps bench bench-load fuzz clean

$(STAMP): requirements/base.txt requirements/dev.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP) system-libs

# Debian libraries for PDF documents (WeasyPrint); a quick check when all are present.
system-libs:
	scripts/install-system-libs

run: setup
	KAMFIT_DEBUG=true $(BIN)/kamfit migrate --noinput
	KAMFIT_DEBUG=true $(BIN)/kamfit demo
	KAMFIT_DEBUG=true $(BIN)/kamfit serve --port $(PORT)

e2e-deps:
	scripts/install-chromium

check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	KAMFIT_DEBUG=true $(BIN)/mypy src tests
	KAMFIT_DEBUG=true $(BIN)/kamfit makemigrations --check --dry-run

# Every test runs on both databases: the embedded SQLite, then a throwaway PostgreSQL 15
# cluster that scripts/with-postgres installs (if missing), starts and removes.
test: check e2e-deps test-sqlite test-postgres

test-sqlite: setup e2e-deps
	$(BIN)/pytest -n 2

test-postgres: setup e2e-deps
	scripts/with-postgres $(BIN)/pytest -n 2

bench: setup
	$(BIN)/python -m tests.bench.run

# 50 users for 3 minutes against gunicorn, on SQLite and on PostgreSQL (docs/operations.md).
bench-load: setup
	$(BIN)/python -m tests.load.run --database sqlite
	scripts/with-postgres $(BIN)/python -m tests.load.run --database postgres

# Schemathesis, 100 examples per operation and phase, every identity, and the permission
# state machine at 200 examples (T7), on both databases (make test runs shorter versions:
# docs/security/fuzzing.md).
fuzz: setup
	$(BIN)/python -m tests.security.fuzz.run --examples 100
	scripts/with-postgres $(BIN)/python -m tests.security.fuzz.run --examples 100
	KAMFIT_T7_EXAMPLES=200 $(BIN)/pytest -p no:cacheprovider -q tests/security/statemachine
	KAMFIT_T7_EXAMPLES=200 scripts/with-postgres $(BIN)/pytest -p no:cacheprovider -q tests/security/statemachine

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var
