# The two commands: `make run` (the app with demo data) and `make test` (everything CI runs).
# Without DATABASE_URL both use an embedded PostgreSQL (clinic/embedded_db.py): `make run`
# keeps its data in .pgdata/ (`make reset-db` deletes it), `make test` a throwaway cluster.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
ADDR ?= 127.0.0.1:8000

.PHONY: run test lint typecheck pytest worker bench bench-phone bench-profile clean reset-db messages

# The embedded cluster runs for as long as the command after it, then stops.
WITH_DB = $(if $(DATABASE_URL),,$(PY) -m clinic.embedded_db run --)
WITH_TEST_DB = $(if $(DATABASE_URL),,$(PY) -m clinic.embedded_db run --throwaway --)
# E-mailed links point where the demo is served.
SITE_URL ?= http://$(ADDR)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.runtime-installed: requirements.txt requirements-local.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt -r requirements-local.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-local.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt -r requirements-local.txt
	touch $@ $(VENV)/.runtime-installed

# The translations: locale/<lang>/LC_MESSAGES/django.po (committed) compiled to .mo
# (not committed) by Babel, a pinned pure-Python tool, so no GNU gettext is needed to
# build or run. `make messages` (developers; needs GNU gettext) re-extracts the .po.
PO_FILES := $(wildcard locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)
%.mo: %.po $(VENV)/.runtime-installed
	$(BIN)/pybabel compile --statistics -i $< -o $@

messages: $(VENV)/.runtime-installed
	$(PY) manage.py makemessages --locale es --no-obsolete --ignore '.venv*' \
	  --ignore node_modules --ignore staticfiles --ignore tests --ignore bench \
	  --add-location file

run: $(VENV)/.runtime-installed $(MO_FILES)
	@SITE_URL=$(SITE_URL) $(WITH_DB) sh -c '$(PY) manage.py migrate --noinput \
	  && $(PY) manage.py seed_demo \
	  && echo "Serving on http://$(ADDR)/  (Ctrl+C stops it)" \
	  && exec $(PY) manage.py runserver $(ADDR)'

reset-db: $(VENV)/.runtime-installed
	$(PY) -m clinic.embedded_db reset

# axe-core for the browser tests' accessibility checks and @medplum/core for the FHIR
# export's validator (both skipped without npm, except in CI).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --silent --no-audit --no-fund; \
	else echo "npm not found: the accessibility checks will be skipped"; fi

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy .

# The benchmark's load generator (locust) lives in its own virtualenv.
BENCH_VENV ?= .venv-bench
$(BENCH_VENV)/.installed: requirements-bench.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -r requirements-bench.txt
	touch $@

pytest: $(VENV)/.dev-installed node_modules/.package-lock.json $(BENCH_VENV)/.installed $(MO_FILES)
	$(WITH_TEST_DB) $(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck $(VENV)/.dev-installed node_modules/.package-lock.json $(BENCH_VENV)/.installed $(MO_FILES)
	$(PY) manage.py check
	$(WITH_TEST_DB) sh -c '$(PY) manage.py makemigrations --check --dry-run && $(BIN)/pytest $(PYTEST_ARGS)'

# `make bench` (large scale, minutes) or `make bench SCALE=small`; BENCH_ARGS adds
# options of bench/run.py (--seconds, --users, --workers, --reseed, --markdown FILE).
SCALE ?= large
bench: $(VENV)/.runtime-installed $(BENCH_VENV)/.installed
	$(PY) -m bench.run --scale $(SCALE) $(BENCH_ARGS)

# What a patient's phone downloads and when it paints (headless Chromium, slow 4G,
# CPU slowed 4x), on the database `make bench` seeded: `make bench-phone SCALE=small`.
bench-phone: $(VENV)/.dev-installed
	$(PY) -m bench.phone --scale $(SCALE) $(BENCH_ARGS)

# Where the signed-in floor, queue, case and plan pages spend their time (pyinstrument).
bench-profile: $(VENV)/.dev-installed
	$(PY) -m bench.profile --scale $(SCALE) $(BENCH_ARGS)

worker: $(VENV)/.runtime-installed
	$(BIN)/celery -A clinic worker -B -P solo --loglevel=INFO

clean:
	rm -rf $(VENV) $(BENCH_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache staticfiles
	rm -f $(MO_FILES)
	@echo "The demo database (.pgdata/) is kept; make reset-db deletes it." 
