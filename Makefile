# Two set-up commands for a newcomer: `make demo` and `make test`. Each builds its own .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export TQDM_DISABLE ?= 1

.PHONY: demo test bench soak fuzz lab serve clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(VENV)/.stamp-notebook: pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[notebook]'
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	touch $@ $(VENV)/.stamp-notebook

demo: $(VENV)/.stamp-notebook
	$(BIN)/python -m mo.demo

test: $(VENV)/.stamp-dev
	$(BIN)/python -m pytest

bench: $(VENV)/.stamp-dev
	$(BIN)/python -m bench --quick

lab: $(VENV)/.stamp-notebook
	$(BIN)/jupyter lab notebooks/

serve: $(VENV)/.stamp-notebook
	$(BIN)/mo serve

clean:
	rm -rf $(VENV) var runs .pytest_cache
