# Relais: `make run` serves the demo on SQLite; `make test` installs everything and runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install system-deps i18n lint test-sqlite test-postgres audit

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed i18n

i18n: $(BIN)/.installed
	$(BIN)/python scripts/i18n.py compile

run: install
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app demo load
	$(BIN)/flask --app app run --port $(PORT)

# Debian's Chromium (browser and accessibility tests) and PostgreSQL (the suite runs on it too).
system-deps:
	@if ! command -v chromium >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium postgresql >/dev/null; \
	fi

test-sqlite: install system-deps
	$(BIN)/python -m pytest

test-postgres: install system-deps
	scripts/with-postgres.sh $(BIN)/python -m pytest -m "not browser"

# No known vulnerability in any installed package (pip-audit), no high finding in our code (bandit).
audit: install
	$(BIN)/python scripts/audit.py

# ruff (errors, unused imports, import order) and no import cycle in app/ and ivr/.
lint: install
	$(BIN)/ruff check .
	$(BIN)/python scripts/import_cycles.py

test: lint test-sqlite test-postgres audit
