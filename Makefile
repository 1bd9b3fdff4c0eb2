# ITB Portal. `make run` starts the portal on embedded defaults; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

# Tests run against the machine's PostgreSQL and Redis (override with DATABASE_URL / REDIS_URL).
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/itbportal)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)
TEST_ENV := DEBUG=false SECRET_KEY=test-secret-key-not-for-production DATABASE_URL=$(TEST_DATABASE_URL) \
	REDIS_URL=$(TEST_REDIS_URL) CELERY_BROKER_URL=$(TEST_REDIS_URL) SMS_BACKEND=locmem \
	EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend ALLOWED_HOSTS=testserver,localhost,127.0.0.1 \
	ITB_VAR_DIR=$(CURDIR)/var/test SECURE_SSL_REDIRECT=false

# `make run` uses no database or Redis server: SQLite and the filesystem transport under var/.
# WEB_PORT (default 8000) is the port of the web process and of the links in e-mails and texts.
WEB_PORT ?= 8000
RUN_ENV := DEBUG=true WEB_PORT=$(WEB_PORT) SWEEP_AT_WORKER_START=true

.PHONY: install system-deps run test test-at lint bench clean messages demo-code simulate backup-drill

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip "setuptools<81" wheel
	$(BIN)/pip install -q --no-build-isolation -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

system-deps:
	bash scripts/system-deps.sh

messages: install
	DEBUG=true $(BIN)/python manage.py compile_catalogues

# `make run` installs only what the portal needs (not the test tools: faketime, poppler-utils).
# One clock on the console: honcho stamps its lines in the clinic's time zone, as Django and Celery
# do. Ctrl-C stops web, worker and beat; honcho then exits 130, which is the normal way out here.
run: install messages
	bash scripts/system-deps.sh runtime
	mkdir -p var/celery/queue var/celery/processed var/celery/control
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py seed_demo
	@echo "ITB Portal: starting on http://127.0.0.1:$(WEB_PORT)/ ; the URL and logins are printed again once web, worker and beat are up."
	@TZ="$$($(RUN_ENV) $(BIN)/python manage.py clock_zone)" $(RUN_ENV) $(BIN)/python scripts/honcho_start.py start -f Procfile \
		|| test $$? -eq 130

test: install messages
	bash scripts/system-deps.sh with-browser
	$(TEST_ENV) $(BIN)/python scripts/check_services.py
	$(TEST_ENV) $(BIN)/python manage.py check
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python tests/security/pip_audit_gate.py
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite again with the clock at another hour (libfaketime; `.ci/run` uses it). Only pytest
# runs under the fake clock; processes that clash with libfaketime (redis-server) start without
# it. PostgreSQL keeps the real clock, so the code never mixes the database's now() with Python's.
# CLOCK is any faketime time spec, e.g. make test-at CLOCK="03:00 MST".
CLOCK ?= 03:00 MST
test-at: install messages
	bash scripts/system-deps.sh with-browser
	$(TEST_ENV) $(BIN)/python scripts/check_services.py
	$(TEST_ENV) faketime '$(CLOCK)' $(BIN)/python -m pytest $(PYTEST_ARGS)

# The backup drill on this machine (README "Backups"; also part of `make test`): a throw-away
# PostgreSQL cluster archiving to an encrypted pgBackRest repository with the deployment's
# configuration, a full backup, refill visits, a point-in-time restore into a new cluster, and the
# latest state restored by the backup service's `drill`; prints the backup and restore times.
backup-drill: install messages
	bash scripts/system-deps.sh
	$(TEST_ENV) $(BIN)/python -m pytest tests/deploy/test_backup_restore.py -p no:cacheprovider

# Benchmarks (issue 9; not part of `make test`): a throwaway database itbportal_bench on the
# local PostgreSQL, Redis db 9. See docs/benchmarks.md. BENCH_ARGS e.g. "--write-docs".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/itbportal_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/9
BENCH_PORTS ?= 8190-8199

bench: install messages
	bash scripts/system-deps.sh with-bench
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_REDIS_URL=$(BENCH_REDIS_URL) BENCH_PORTS=$(BENCH_PORTS) \
		$(BIN)/python -m tests.benchmarks $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff format --check .

clean:
	rm -rf var

demo-code: install
	@$(RUN_ENV) $(BIN)/python manage.py demo_code

# A simulated clinic year (docs/simulation.md), not part of `make test`. It runs in a throw-away
# database beside TEST_DATABASE_URL's (its name + "_simulation"), created, migrated and dropped by
# the run; TEST_DATABASE_URL's own database is not touched.
# SIMULATE_ARGS, e.g. "--children 300 --days 365 --spread 0.15 --seed 1 --observed both".
SIMULATE_ARGS ?= --observed both
simulate: install messages
	$(TEST_ENV) $(BIN)/python scripts/check_services.py
	$(TEST_ENV) $(BIN)/python manage.py simulate $(SIMULATE_ARGS)
