# Vigie — the two commands most people need:
#   make demo   install into .venv, load the demo posts, run the pipeline, serve the dashboard
#   make test   run the test suite on PostgreSQL and Redis (127.0.0.1), as CI does
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0

.PHONY: install demo test test-embedded serve worker beat bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# The CPU build of torch first: otherwise pip resolves a multi-GB CUDA build.
	$(VENV)/bin/pip install --quiet torch==2.13.0
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) manage.py demo

test: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
	MONITOR_REQUIRE_SERVICES=1 $(VENV)/bin/pytest

# The same suite on the embedded mode (SQLite, eager Celery); integration tests skip.
test-embedded: $(STAMP)
	env -u DATABASE_URL -u REDIS_URL $(VENV)/bin/pytest -m "not integration"

serve: $(STAMP)
	$(VENV)/bin/gunicorn monitor.wsgi --bind 127.0.0.1:8000 --workers 2

worker: $(STAMP)
	$(VENV)/bin/celery -A workers.celery:app worker -Q ingest,embed,index,detect,reports --concurrency=1 -l info

beat: $(STAMP)
	$(VENV)/bin/celery -A workers.celery:app beat -l info --schedule $${MONITOR_DATA_DIR:-data}/celerybeat-schedule

bench: $(STAMP)
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) data
