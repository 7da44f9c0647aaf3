# Two commands: `make run` (install, migrate, serve) and `make test` (install, run every test).
SHELL := /bin/bash
.DEFAULT_GOAL := run
PORT ?= 3000
ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
PYTHON ?= python3
export PATH := $(ROOT)/tools/node_modules/.bin:$(VENV)/bin:$(PATH)
export REFLEX_USE_SYSTEM_BUN := 1
export REFLEX_TELEMETRY_ENABLED := false
export PORT

STAMP := .make

$(STAMP)/venv: pyproject.toml
	@mkdir -p $(STAMP)
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e .
	touch $@

$(STAMP)/test-deps: $(STAMP)/venv
	$(VENV)/bin/pip install -q --disable-pip-version-check -e ".[test]"
	touch $@

$(STAMP)/bun: tools/package.json tools/package-lock.json
	@mkdir -p $(STAMP)
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	touch $@

$(STAMP)/chromium:
	@mkdir -p $(STAMP)
	command -v chromium >/dev/null || (apt-get install -y -q chromium >/dev/null \
	  || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null))
	touch $@

# Debian's nginx for tests/deploy (the shipped deploy/nginx.conf in front of the app).
$(STAMP)/nginx:
	@mkdir -p $(STAMP)
	[ -x /usr/sbin/nginx ] || (apt-get install -y -q nginx-light >/dev/null \
	  || (apt-get update -q >/dev/null && apt-get install -y -q nginx-light >/dev/null))
	touch $@

# Debian's xmlsec1: pysaml2 (SAML single sign-on, SPEC §16) verifies and signs XML with it.
$(STAMP)/xmlsec1:
	@mkdir -p $(STAMP)
	command -v xmlsec1 >/dev/null || (apt-get install -y -q xmlsec1 >/dev/null \
	  || (apt-get update -q >/dev/null && apt-get install -y -q xmlsec1 >/dev/null))
	touch $@

.PHONY: install migrate run test test-unit test-e2e lint clean
install: $(STAMP)/venv $(STAMP)/bun $(STAMP)/xmlsec1

migrate: install
	$(VENV)/bin/alembic upgrade head

run: migrate
	reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT)

test: install $(STAMP)/test-deps $(STAMP)/chromium $(STAMP)/nginx
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest tests -q --ignore=tests/e2e --ignore=tests/e2e_redis --ignore=tests/deploy \
	  --ignore=tests/faults  # services/ state/ adapters/ api/ and the top-level modules' tests
	$(VENV)/bin/pytest tests/e2e -q
	$(VENV)/bin/pytest tests/e2e_redis -q  # two backend workers sharing Redis (127.0.0.1:6379)
	$(VENV)/bin/pytest tests/deploy -q     # behind nginx with TLS (deploy/nginx.conf)
	$(VENV)/bin/pytest tests/faults -q     # its own Redis, PostgreSQL, SMTP, storage, stopped

lint: $(STAMP)/test-deps
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(STAMP) .web
