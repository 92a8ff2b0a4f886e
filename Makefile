# The README's two commands: `make run` and `make test`. Both set everything up
# from a fresh clone (a virtual environment in .venv, the package installed
# editable with the extras they need).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Parallel test workers; CI has 2 cores.
WORKERS ?= 2

.PHONY: run test install bench mutate mutate-report clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed

## make run: the main job on the built-in default scenario
run: $(VENV)/.run-installed
	$(BIN)/qproto demo
	$(BIN)/qproto pass leo-haps --max-half-window 30 --step 15 --starts 2
	$(BIN)/qproto bench suite run quick --output results/bench-quick --workers 2

## make test: every test, notebooks included
test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -n $(WORKERS) -q

## make bench: the benchmark scripts (results go to BENCHMARKS.md by hand)
bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/bench_bb84.py

## make mutate: mutation testing with mutmut (not part of `make test`; see TESTING.md)
##   make mutate                                     every module of the list in tools/mutate.py
##   make mutate MODULES="qproto/security/_decoy.py"  files or folders, repository paths
##   make mutate REF=HEAD                            a commit instead of the working tree
##   make mutate MODULES=qproto/_engine.py TESTS="tests/test_engine.py tests/test_stabilizer.py"
##                                                   against a selection of tests (default: all)
##   make mutate MUTATE_FLAGS="--sample 400"          a random sample of each module's untested mutants
## Runs in build/mutate/ (a staging tree with the installed package layout); one worker.
MODULES ?=
REF ?=
MUTATE_WORKERS ?= 1
MUTATE_FLAGS ?=
$(VENV)/.mutate-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,mutate]"
	touch $@ $(VENV)/.test-installed $(VENV)/.run-installed

mutate: $(VENV)/.mutate-installed
	$(BIN)/python tools/mutate.py run --workers $(MUTATE_WORKERS) $(if $(REF),--ref $(REF)) $(MUTATE_FLAGS) $(MODULES) $(if $(TESTS),--tests $(TESTS))
	$(BIN)/python tools/mutate.py report --output build/mutate/report.md $(MODULES) > /dev/null
	@echo "score table and surviving mutants: build/mutate/report.md"

## make mutate-report: the table and the survivors of the last `make mutate`
mutate-report: $(VENV)/.mutate-installed
	$(BIN)/python tools/mutate.py report --output build/mutate/report.md $(MODULES)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis mutants
