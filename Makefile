# Two set-up commands for a newcomer: `make demo` and `make test`. Each builds its own .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Progress bars are for people: off for the headless targets (mo run sets it for its kernels
# too), on in `make lab`, where imports and recomputes show a tqdm bar.
HEADLESS := TQDM_DISABLE=1

.PHONY: demo test nbval browser bench soak fuzz lab serve clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# --compile-bytecode: otherwise each process (test workers, kernels, mo run) compiles every
# package it imports, on every run where PYTHONDONTWRITEBYTECODE is set (as on CI's machine).
$(VENV)/.stamp-notebook: pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[notebook]'
	touch $@

$(VENV)/.stamp-dev: pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $@ $(VENV)/.stamp-notebook

demo: $(VENV)/.stamp-notebook
	$(HEADLESS) $(BIN)/python -m mo.cli.demo

# One pytest worker per core (pytest-xdist; TEST_WORKERS=0: one process). Modules that share a
# module-wide fixture or tally stay on one worker (tests/conftest.py, WHOLE_MODULES). nbval is
# not needed here (`make nbval` runs it), so its plugin is not loaded; the real-browser checks
# run in `make browser` (they need Chromium, and run every notebook a third time).
TEST_WORKERS ?= auto
test: $(VENV)/.stamp-dev
	$(HEADLESS) $(BIN)/python -m pytest -n $(TEST_WORKERS) -p no:nbval -m "not browser"

# Every notebook with its defaults (interactive: the forms are built) in a real kernel, under
# nbval; `make test` runs them headless through papermill instead. CI runs both.
nbval: $(VENV)/.stamp-dev
	$(BIN)/python -m pytest --nbval-lax notebooks/

# JupyterLab in headless Debian Chromium (apt-get install -y chromium): the README's first run
# (`make demo`, then every notebook in `make lab`, a second tab and a cron `mo run` meanwhile)
# and the parity-export screen. A missing browser is a failure here, not a skip.
browser: $(VENV)/.stamp-dev
	$(HEADLESS) MO_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -p no:nbval -m browser tests/test_browser.py

bench: $(VENV)/.stamp-dev
	$(HEADLESS) $(BIN)/python -m bench --quick

# Reliability, longer than `make test` and still bounded (pytest-timeout per test; sizes in
# tests/reliability_support.py). Figures of the run land in test-artifacts/reliability/*.json.
# soak: 20 SIGKILLed 200k-row imports per backend, 5 rounds of every race, 60 rounds of racing
# recipe saves, 300-step tenant walks, a 30 s four-process file-sharing run (2 s in `make test`).
soak: $(VENV)/.stamp-dev
	$(HEADLESS) MO_SOAK=1 $(BIN)/python -m pytest --timeout=5400 -rA \
		tests/test_crash_safety.py tests/test_concurrency.py tests/test_recipe_graph_races.py \
		tests/test_tenant_walls.py tests/test_file_sharing.py

# fuzz: the "mo-fuzz" hypothesis profile (400 examples per property, ~120 per API operation
# and generation mode) over hostile input, the API and exports; the other properties at their
# full example counts (`make test` runs them with fewer: reliability_support.examples).
fuzz: $(VENV)/.stamp-dev
	$(HEADLESS) MO_FUZZ=1 $(BIN)/python -m pytest --timeout=3600 -rA \
		tests/test_hostile_input.py tests/test_api_fuzz.py tests/test_export_safety.py \
		tests/test_event_reads.py tests/test_export.py tests/test_measure.py \
		tests/test_costing_property.py tests/test_hostile_http.py

# Rooted at the project folder (so links to var/exports/… download), opening notebooks/.
LAB_ARGS := --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks
lab: $(VENV)/.stamp-notebook
	$(BIN)/jupyter lab $(LAB_ARGS)

serve: $(VENV)/.stamp-notebook
	$(BIN)/mo serve

clean:
	rm -rf $(VENV) var runs .pytest_cache
