# One-command entry points; see README.md.
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: install serve test lint bench generate

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

## install, load the demo catalog (idempotent) and serve every API on SQLite
serve: install
	$(VENV)/bin/tmfstack serve --demo --host $(HOST) --port $(PORT)

## install, lint (ruff, mypy), check the generated contract files, run the test suite
test: install lint
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check src tests tools bench
	$(VENV)/bin/ruff format --check src tests tools bench
	$(VENV)/bin/mypy
	@if [ -d ../shared/specs ]; then $(PY) tools/gen_specs.py --check; fi

## regenerate src/tmfstack/_generated from ../shared/specs
generate: install
	$(PY) tools/gen_specs.py

## benchmarks (wrk from Debian packages); see bench/README.md
bench: install
	$(PY) bench/run.py
