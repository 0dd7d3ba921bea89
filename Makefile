# Every target sets itself up: a virtualenv in .venv with the package and its test tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit e2e lint golden bench fuzz mutate clean dist

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: convert the bundled example registries.yaml to a certs.d listing on stdout
run: $(STAMP)
	$(BIN)/registries-translator convert examples/registries.yaml --to certs-d

## test: lint, unit and golden tests, then the end-to-end tests against a real containerd
test: $(STAMP)
	$(BIN)/ruff check translator tests bench packaging ansible examples
	$(BIN)/vermin --no-tips --violations --eval-annotations -t=3.9- translator ansible
	$(BIN)/python -m pytest -q

## unit: everything but the end-to-end tests
unit: $(STAMP)
	$(BIN)/python -m pytest -q -m 'not e2e'

## e2e: only the end-to-end tests (installs containerd and the registry with apt as root)
e2e: $(STAMP)
	$(BIN)/python -m pytest -q -m e2e

lint: $(STAMP)
	$(BIN)/ruff check translator tests bench packaging ansible examples
	$(BIN)/vermin --no-tips --violations --eval-annotations -t=3.9- translator ansible

## dist: dist/registries-translator.pyz, the tool in one file for a node's own python3 (3.9 or newer, no pip);
## the first build downloads the wheels pinned in packaging/bundle.txt into build/bundle-wheels/
dist: $(STAMP)
	$(BIN)/python packaging/build_zipapp.py

## golden: rewrite the expected files under golden/ for review (read `git diff golden/` before committing)
golden: $(STAMP)
	$(BIN)/python -m tests.golden_driver --regenerate

## bench: whole-process timings, ratios to the interpreter floor, and scaling over growing inputs
bench: $(STAMP)
	$(BIN)/python bench/bench.py

## fuzz: the property-based tests with many more examples
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_properties.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist

## mutate: break each translation an e2e scenario covers and check that the scenario then fails (as root)
mutate: $(STAMP)
	$(BIN)/python -m tests.e2e.mutations
