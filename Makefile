# Vista: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DEMO_DB ?= demo/vista-demo.db
DEMO_CUSTOMERS ?= 5000

.PHONY: run test demo bench bench-quick bench-pg-load bench-identity bench-identity-quick clean lint services mutate

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $(STAMP)

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP) $(TEST_STAMP)

$(DEMO_DB): | $(STAMP)
	@mkdir -p $(dir $(DEMO_DB))
	$(VENV)/bin/vista demo --customers $(DEMO_CUSTOMERS) --db $(DEMO_DB)

demo: $(STAMP) $(DEMO_DB)

# The demo's providers on loopback (`vista standins`: an SMTP sink, a WhatsApp Cloud API
# stand-in, and `vista serve` dispatching to them and taking their status webhooks) run in
# the background while the console is open, and stop with it; their log is next to the store.
DEMO_SMTP_PORT ?= 8725
DEMO_WHATSAPP_PORT ?= 8726
DEMO_API_PORT ?= 8727

# The demo's telephony rings for the console's operator a few seconds in (a screen pop).
run: $(STAMP) $(DEMO_DB)
	@$(VENV)/bin/vista standins --db $(DEMO_DB) --parent $$$$ --smtp-port $(DEMO_SMTP_PORT) \
		--whatsapp-port $(DEMO_WHATSAPP_PORT) --api-port $(DEMO_API_PORT) \
		> $(dir $(DEMO_DB))standins.log 2>&1 & standins=$$!; \
	trap 'kill $$standins 2>/dev/null; wait $$standins 2>/dev/null' EXIT HUP INT TERM; \
	$(VENV)/bin/vista --backend sqlite:///$(DEMO_DB) --agent admin calls demo \
		--operator demo --delay 6 >/dev/null 2>&1 & \
	$(VENV)/bin/vista --backend sqlite:///$(DEMO_DB) --agent demo

test: lint services
	$(PY) -m compileall -q console backends themes
	$(PY) -m pytest -n 2 -q tests

# The benchmark's PostgreSQL section needs the postgres extra (and `make services`).
PG_STAMP := $(VENV)/.installed-postgres

$(PG_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install --quiet -e '.[postgres]'
	@touch $(PG_STAMP)

bench: $(STAMP) $(PG_STAMP)
	$(PY) -m compileall -q console backends themes bench
	$(PY) bench/run.py --customers 1000000

bench-quick: $(STAMP) $(PG_STAMP)
	$(PY) -m compileall -q console backends themes bench
	$(PY) bench/run.py --customers 100000

# 200 simulated operators against two `vista serve` processes on one PostgreSQL (a
# throwaway cluster) and on one SQLite file, steady and with one server SIGKILLed halfway;
# part of `make bench` too (its postgres section). PG_LOAD_CUSTOMERS=1000000 for the full size.
PG_LOAD_CUSTOMERS ?= 100000
bench-pg-load: $(STAMP) $(PG_STAMP)
	$(PY) bench/pg_load_bench.py --customers $(PG_LOAD_CUSTOMERS)

# Identity resolution quality and speed: the generator's records (it, us, uk, de) and the
# FEBRL sets with ground truth, imported through the CLI, scored as pairwise precision/recall/
# F1 beside Splink on the same data (IDENTITY_RECORDS=1000000 for 1M per country); the table
# also goes to build/bench-identity.json. Splink and recordlinkage live in their own venv.
IDENTITY_RECORDS ?= 100000
BENCH_VENV := build/bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): bench/identity/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/identity/requirements.txt
	@touch $(BENCH_STAMP)

bench-identity: $(STAMP) $(BENCH_STAMP)
	$(PY) bench/identity/run.py --records $(IDENTITY_RECORDS) --baseline --bulk-floor

# The same in a couple of minutes: 5,000 records of it and us, FEBRL 1 and 4, no floors.
bench-identity-quick: $(STAMP) $(BENCH_STAMP)
	$(PY) bench/identity/run.py --quick

# Mutation testing (mutmut, configured in pyproject's [tool.mutmut]) of the code that decides
# who sees and changes what; prints the share of mutants the tests kill, per module.
MUTATE_STAMP := $(VENV)/.installed-mutate
MUTANTS := 'backends.identity.*' 'backends.channels.*' 'console.safe_text.*' \
	'backends.sqlite.tokens.*' 'backends.sqlite.backend.*queue*' \
	'backends.sqlite.rows.*cursor*' 'backends.sqlite.rows.*queue_key*'

$(MUTATE_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,mutate]'
	@touch $(STAMP) $(TEST_STAMP) $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP)
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children 2 $(MUTANTS) > mutants.log 2>&1 || (tail -30 mutants.log; false)
	$(PY) tests/mutation_score.py $(MUTANTS)
# The HTTP API against its own OpenAPI document (schemathesis.toml says what it allows and
# why): a 300-customer demo store, an admin token, `vista serve` on a loopback port, every
# check on every operation. schemathesis goes into the venv only; it is no dependency.
SCHEMATHESIS_PORT ?= 18751
SCHEMATHESIS_EXAMPLES ?= 30
ST_DB := build/schemathesis/st.db
.PHONY: schemathesis
schemathesis: $(STAMP)
	$(PY) -m pip install --quiet schemathesis==4.32.5
	@rm -rf build/schemathesis && mkdir -p build/schemathesis
	$(VENV)/bin/vista demo --customers 300 --db $(ST_DB) >/dev/null
	@token=$$($(VENV)/bin/vista --backend sqlite:///$(ST_DB) --agent admin \
		tokens create --name st --role admin 2>/dev/null | head -1); \
	$(VENV)/bin/vista serve --backend sqlite:///$(ST_DB) --port $(SCHEMATHESIS_PORT) \
		--log-level warning & pid=$$!; trap "kill $$pid" EXIT; sleep 3; \
	$(VENV)/bin/schemathesis run http://127.0.0.1:$(SCHEMATHESIS_PORT)/api/v1/openapi.json \
		-H "Authorization: Bearer $$token" --checks all --max-examples $(SCHEMATHESIS_EXAMPLES) \
		--seed 1 --continue-on-failure --warnings off

# Real servers the tests talk to, from Debian's packages when missing (CI runs as root with
# apt-get): dovecot for the IMAP poller, PostgreSQL for the PostgreSQL store (the tests start
# a throwaway cluster of their own as an unprivileged user, or use VISTA_TEST_POSTGRES).
# Where they cannot be installed the tests that need them skip and say so.
services:
	@if [ -z "$$VISTA_TEST_POSTGRES" ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		&& [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing postgresql for the PostgreSQL store tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
			|| echo "could not install postgresql: the PostgreSQL tests will skip"; \
	fi
	@if [ ! -x /usr/sbin/dovecot ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing dovecot-imapd for the IMAP tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null) \
			|| echo "could not install dovecot-imapd: the IMAP tests will skip"; \
	fi

# The house rules, held in `make test`: the layers of the README's diagram (import-linter),
# ruff's lint and format, and mypy on the backends.
lint: $(TEST_STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m ruff check console backends themes tests bench
	$(PY) -m ruff format --check console backends themes tests bench
	$(PY) -m mypy

clean:
	rm -rf $(VENV) demo build *.egg-info mutants mutants.log
