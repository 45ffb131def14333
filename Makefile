# The two commands a newcomer runs: `make demo` and `make test` (see README.md).
# Both create .venv when it is missing and install what they need into it.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
# ax-platform pulls in torch: install the CPU build first, pinned, or pip takes a multi-GB
# CUDA build. Set TORCH_PIP_ARGS (e.g. an --index-url of CPU wheels) on machines that need it.
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
# mf-prior-bench pins numpy<2 for benchmarks we do not use; its own dependencies are in the
# `bench` extra, so it goes in without them.
MFPBENCH_SPEC ?= mf-prior-bench==1.10.0
# dehb pins numpy<2 too; its dependencies are in the `bench` extra as well.
DEHB_SPEC ?= dehb==0.1.2
PYTEST_ARGS ?=

.PHONY: demo test quicktest lint hublint typecheck pytest docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Stamps record what was installed; they are rebuilt when pyproject.toml changes.
$(VENV)/.demo-deps: pyproject.toml | $(PY)
	$(PIP) install -q -e . optuna-dashboard
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(PY)
	$(PIP) install -q $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(PIP) install -q -e ".[all,dev,bench,docs]"
	$(PIP) install -q --no-deps "$(MFPBENCH_SPEC)"
	$(PIP) install -q --no-deps "$(DEHB_SPEC)"
	touch $@ $(VENV)/.demo-deps

demo: $(VENV)/.demo-deps
	$(PY) examples/demo.py

lint: $(VENV)/.test-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# The OptunaHub packages in hub/package/, checked with the registry's own pinned linters
# (ruff 0.3.5, mypy 1.9.0, mdformat 0.7.16) in a venv of their own, and its front-matter rules.
HUBLINT := $(VENV)/hublint
$(HUBLINT)/.deps: | $(PY)
	$(PYTHON) -m venv $(HUBLINT)
	$(HUBLINT)/bin/python -m pip --disable-pip-version-check install -q ruff==0.3.5 mypy==1.9.0 \
		mdformat==0.7.16 mdformat-frontmatter types-PyYAML python-frontmatter
	touch $@

hublint: $(HUBLINT)/.deps
	cd hub && ../$(HUBLINT)/bin/ruff check package && ../$(HUBLINT)/bin/ruff format --check package
	cd hub && ../$(HUBLINT)/bin/mypy package
	cd hub && ../$(HUBLINT)/bin/mdformat --check package
	cd hub && ../$(HUBLINT)/bin/python check_headers.py

typecheck: $(VENV)/.test-deps
	$(PY) -m mypy

pytest: $(VENV)/.test-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# The documentation site: HTML with warnings as errors (-E: re-read every page, so an unchanged
# page's warnings are not skipped), then every example on the pages and in the public classes'
# docstrings run as doctests.
docs: $(VENV)/.test-deps
	$(PY) -m sphinx -W --keep-going -E -q -b html docs docs/_build/html
	$(PY) -m sphinx -W -b doctest docs docs/_build/doctest

# What CI runs (.ci/run): lint, the registry's lint of hub/, mypy, every test, the docs.
test: lint hublint typecheck pytest docs

# For someone changing one piece: lint, mypy and the tests not marked slow (under 3 minutes).
quicktest: lint typecheck
	$(PY) -m pytest -m "not slow and not multiprocess" -q $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis optuna_advanced_demo.db docs/_build
