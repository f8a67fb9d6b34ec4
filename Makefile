# wangge — the README's commands. Each target installs what it needs first.
#   make demo    build the demo district and serve it on http://127.0.0.1:8000
#   make test    run the whole test suite (SQLite; PostgreSQL when WANGGE_TEST_DATABASE_URL is set)
#   make test-browser   real-browser tests in headless Chromium (needs /usr/bin/chromium)
#   make test-fuzz      OpenAPI-driven fuzzing of the API (schemathesis, in-process, deterministic)
#   make test-spark     the linkage model on Spark (local mode; needs Java 17)
#   make test-wheel     build the wheel from a clean copy, install it, serve pages without Node.js
#   make wheel   dist/wangge-*.whl, carrying the front-end files and compiled translations
#   make lint    ruff, ruff format --check, mypy, import-linter, makemigrations --check, OpenAPI drift,
#                the zh_Hans catalogue, no English on any rendered page (scripts/check_ui_text.py)
#   make bench   benchmarks (benchmarks/*.py)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: setup demo serve test test-browser test-fuzz test-spark test-wheel wheel lint bench openapi messages clean

setup: $(VENV)/.synced wangge/static/vendor/.copied wangge/locale/.compiled

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(BIN)/uv pyproject.toml uv.lock
	$(BIN)/uv sync --frozen --inexact --quiet
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

wangge/static/vendor/.copied: node_modules/.package-lock.json scripts/vendor_static.sh
	sh scripts/vendor_static.sh
	touch $@

wangge/locale/.compiled: $(VENV)/.synced $(wildcard wangge/locale/*/LC_MESSAGES/*.po)
	$(BIN)/pybabel compile --use-fuzzy -d wangge/locale -D django --statistics 2>&1 | tail -n 2
	touch $@

demo: setup
	$(BIN)/wangge demo

serve: setup
	$(BIN)/wangge serve

# pytest with bytecode caching on even where the environment turns it off (PYTHONDONTWRITEBYTECODE):
# every session, and every xdist worker, imports about a thousand modules.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest
# xdist workers for the main session: one per core (`make test TEST_WORKERS=0` for none).
TEST_WORKERS ?= auto

# Two sessions: the suite on the small test world (in parallel, each worker builds its own world
# in its own database), then the demo district's end-to-end tests.
test: setup
	$(PYTEST) -q -m "not browser and not fuzz and not wheel and not spark" -n $(TEST_WORKERS) $(PYTEST_ARGS)
	WANGGE_TEST_WORLD=demo $(PYTEST) -q -m "demo" $(PYTEST_ARGS)

test-browser: setup
	$(PYTEST) -q -m browser $(PYTEST_ARGS)

test-fuzz: setup
	$(PYTEST) -q -m fuzz tests/fuzz $(PYTEST_ARGS)

test-spark: setup
	$(PYTEST) -q -m spark $(PYTEST_ARGS)

test-wheel: setup
	$(PYTEST) -q -m wheel tests/packaging $(PYTEST_ARGS)

# The build hook (hatch_build.py) runs npm ci and the vendor script when the front-end files are
# missing, and compiles the translations: the wheel serves pages where there is no Node.js.
wheel: $(BIN)/uv
	$(BIN)/uv build --wheel --out-dir dist

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy wangge
	$(BIN)/lint-imports
	WANGGE_DATA_DIR=$$(mktemp -d) $(BIN)/wangge makemigrations --check --dry-run
	$(BIN)/python scripts/openapi.py --check
	$(BIN)/python scripts/check_messages.py
	$(BIN)/python scripts/check_ui_text.py

bench: setup
	$(BIN)/python benchmarks/run.py

openapi: setup
	$(BIN)/python scripts/openapi.py --write

messages: setup
	cd wangge && ../$(BIN)/django-admin makemessages -l zh_Hans -l en --no-obsolete --no-location --settings=wangge.settings_test --pythonpath=..
	$(BIN)/pybabel compile --use-fuzzy -d wangge/locale -D django --statistics

clean:
	rm -rf $(VENV) node_modules wangge/static/vendor dist
