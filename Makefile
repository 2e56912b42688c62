# Two commands on a fresh machine (Python >= 3.11):
#   make run             set up .venv and draw results/phase_diagram.png from the embedded default config.yaml
#   (snakemake --cores 2 with no target builds everything: also the paper's checks under results/checks, figures)
#   make test            set up .venv and run every test tier (what CI runs; `pytest` alone runs the fast tier)
# and: make bench        print the kernel benchmark table (installs QuSpin into .venv)
#      make docs         build the documentation site into site/ (mkdocs build --strict)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CORES ?= 2

.PHONY: setup run test bench docs
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,slurm]'
	touch $@

run: setup
	$(BIN)/snakemake --cores $(CORES) results/phase_diagram.png

# Two pytest-xdist workers: the SLURM tests wait on the cluster's status queries while the other worker runs tests.
test: setup
	$(BIN)/python -m pytest -q -m "" -n 2 --dist loadgroup --durations=20

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m phasetrace.bench $(BENCH_ARGS)

docs: setup
	$(BIN)/mkdocs build --strict
