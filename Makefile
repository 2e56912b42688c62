# Two commands on a fresh machine (Python >= 3.11):
#   make test            set up .venv and run the test suite (what CI runs)
#   make bench           set up .venv with the benchmark peers and print the kernel benchmark table
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup test bench
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m phasetrace.bench $(BENCH_ARGS)
