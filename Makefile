# The two commands: `make run` (app on SQLite with demo data) and `make test` (everything CI runs).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
ADDR ?= 127.0.0.1:8000

.PHONY: run test lint typecheck pytest worker clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

run: $(VENV)/.runtime-installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Serving on http://$(ADDR)/  (Ctrl+C stops it)"
	$(PY) manage.py runserver $(ADDR)

# axe-core for the browser tests' accessibility checks (skipped without npm, except in CI).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund; \
	else echo "npm not found: the accessibility checks will be skipped"; fi

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy .

pytest: $(VENV)/.dev-installed node_modules/.package-lock.json
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck $(VENV)/.dev-installed node_modules/.package-lock.json
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

worker: $(VENV)/.runtime-installed
	$(BIN)/celery -A clinic worker -B -P solo --loglevel=INFO

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache staticfiles
