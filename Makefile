# otelspend developer entry points; `make help` lists them.
# Everything runs from the repo's own .venv, created on demand, so a fresh
# clone needs only python3 (>= 3.11), make and, for `make test`, root or an
# installed PostgreSQL (scripts/pg-test-server.sh installs it via apt-get).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; older than pyproject.toml => reinstall.
STAMP := $(VENV)/.install-stamp
PKGS := collector_processor semconv store otelspend gateway ui
PG := scripts/pg-test-server.sh
# Extra arguments: `make run ARGS="--port 4318"`, `make test PYTEST_ARGS="-k store -x"`.
ARGS ?=
PYTEST_ARGS ?=
# A hung test must not eat CI's whole time budget. SIGINT makes pytest print
# where it was stuck before exiting.
TEST_TIMEOUT ?= 40m

.PHONY: help venv install run test lint typecheck pytest pg-start pg-stop pg-url bench clean distclean

help:
	@echo "make install    create .venv and pip install -e '.[test]' (only when pyproject.toml changed)"
	@echo "make run        otelspend serve on ./otelspend.db (ARGS=... passed through)"
	@echo "make test       lint + typecheck + pytest against a throwaway PostgreSQL (PYTEST_ARGS=...)"
	@echo "make lint       ruff check ."
	@echo "make typecheck  mypy $(PKGS)"
	@echo "make pytest     pytest only (starts PostgreSQL too)"
	@echo "make pg-start / pg-stop / pg-url   the test PostgreSQL (port \$$PGTEST_PORT, default 54329)"
	@echo "make bench      python bench/ingest.py (ARGS=... passed through)"
	@echo "make clean      stop and delete the test cluster, remove caches"
	@echo "make distclean  clean + remove .venv"

# pyvenv.cfg is written once when the venv is created: a stable marker,
# unlike bin/python, a symlink whose mtime is the interpreter's.
venv: $(VENV)/pyvenv.cfg

$(VENV)/pyvenv.cfg:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "need Python >= 3.11 for the venv, $(PYTHON) is " + sys.version.split()[0] + "; run make PYTHON=python3.11 ...")'
	@echo "== creating $(VENV) with $$(command -v $(PYTHON)) ($$($(PYTHON) -V))"
	$(PYTHON) -m venv $(VENV)

install: $(STAMP)

$(STAMP): pyproject.toml $(VENV)/pyvenv.cfg
	@echo "== pip install -e '.[test]'"
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e ".[test]"
	@touch $@

# On an empty store, and only when a person is at the terminal (never in CI), offer to load
# the demo company first: `otelspend demo` through the real ingest path, ~1 minute.
run: install
	@if [ -t 0 ] && $(BIN)/otelspend store-empty 2>/dev/null; then \
		read -r -p "The store is empty. Load a demo company (40 people, 30 days)? [y/N] " yn; \
		case "$$yn" in [yY]*) $(BIN)/otelspend demo ;; esac; \
	fi
	$(BIN)/otelspend serve $(ARGS)

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy $(PKGS)

pg-start:
	@$(PG) start

pg-stop:
	@$(PG) stop

pg-url:
	@$(PG) url

# pytest's exit code 5 ("no tests collected") is non-zero, so it fails too.
pytest: install pg-start
	OTELSPEND_TEST_PG_URL="$$($(PG) url)" timeout --signal=INT --kill-after=60s $(TEST_TIMEOUT) \
		$(BIN)/pytest $(PYTEST_ARGS)

# Runs all three steps even when one fails, so one CI run shows every
# problem; pytest goes last so its summary line closes the output.
test: install pg-start
	@bash scripts/ensure-apt.sh "the real-CLI tests (-m clis)" node npm -- nodejs npm
	@bash scripts/ensure-apt.sh "the gateway's Redis cache tests" redis-server -- redis-server
	@failed=""; \
	echo "== ruff check ."; $(BIN)/ruff check . || failed="$$failed ruff"; \
	echo "== mypy $(PKGS)"; $(BIN)/mypy $(PKGS) || failed="$$failed mypy"; \
	echo "== pytest"; \
	export OTELSPEND_TEST_PG_URL="$$($(PG) url)"; \
	rc=0; timeout --signal=INT --kill-after=60s $(TEST_TIMEOUT) $(BIN)/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then failed="$$failed pytest(no-tests-collected)"; \
	elif [ $$rc -eq 124 ]; then failed="$$failed pytest(timeout-$(TEST_TIMEOUT))"; \
	elif [ $$rc -ne 0 ]; then failed="$$failed pytest(exit-$$rc)"; fi; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed" >&2; exit 1; fi

bench: install
	@if [ -f bench/ingest.py ]; then \
		echo "== python bench/ingest.py $(ARGS)"; $(BIN)/python bench/ingest.py $(ARGS); \
	else echo "bench/ingest.py does not exist yet; nothing to run"; fi
	@echo "== python bench/ui_queries.py (builds a 1M-call store in /tmp once, ~10 min)"
	$(BIN)/python bench/ui_queries.py

clean:
	@$(PG) destroy
	rm -rf .pytest_cache .mypy_cache .ruff_cache build *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
