# Two commands do all the set-up: `make demo` runs the service, `make test` runs the tests.
# Dependencies install from requirements.lock (pinned, with hashes); `make lock` regenerates it
# after a change to pyproject.toml's dependency lists.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PIP_COMPILE_FLAGS := --generate-hashes --extra dev --build-deps-for editable --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: demo serve test test-unit lint bench lock clean

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/blendbot demo

serve: $(STAMP)
	$(BIN)/blendbot serve

test: $(STAMP)
	$(BIN)/pytest

test-unit: $(STAMP)
	$(BIN)/pytest tests/unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Regenerates the lock for this platform (Linux x86_64, CPython 3.11); pip-tools goes into the venv
# only here. Keeps the current pins where pyproject.toml allows: delete $(LOCK) first to upgrade all.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip pip-tools
	$(BIN)/pip-compile --quiet $(PIP_COMPILE_FLAGS) --output-file $(LOCK) pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
