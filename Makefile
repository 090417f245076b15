# The README's two commands: `make lab` opens the notebooks in JupyterLab, `make test` runs the tests.
# Both create the virtual environment in .venv and install colorlib with everything it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: lab test install trust site

install: $(VENV)/.installed

# The project's JupyterLab defaults (widget state saved with notebooks), in this venv only.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): jupyterlab/overrides.json $(VENV)/.installed
	mkdir -p $(dir $@)
	cp $< $@

# TORCH_INDEX=https://download.pytorch.org/whl/cpu (e.g. `make test TORCH_INDEX=...`): PyTorch from its own
# CPU-only index first, which leaves out the ~4 GB of CUDA libraries a plain install brings on Linux.
# Unset (the default), PyTorch comes from the usual package index like everything else.
TORCH_INDEX ?=
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --quiet --disable-pip-version-check --index-url $(TORCH_INDEX) torch torchvision)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Jupyter refuses to run as root (containers, CI) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# Our own notebooks are trusted, so their saved widgets (sliders) show on opening, before any cell runs.
trust:
	$(BIN)/jupyter trust notebooks/*.ipynb

lab: install trust $(LAB_SETTINGS)
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

# The site's JavaScript (web/package.json: the widget renderer, RequireJS, onnxruntime-web), served by the
# site itself instead of a CDN, from the npm registry; the site's and the static-render tests skip without npm.
WEB_JS := web/node_modules/.installed
$(WEB_JS): web/package.json
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix web && touch $@; \
	else echo "npm not found: the site cannot be built, and its browser tests will skip"; fi

# The static site in site/: every chapter with working widgets, and the in-browser colouriser.
site: install $(WEB_JS)
	$(BIN)/python web/build.py --out site

test: install $(LAB_SETTINGS) $(WEB_JS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -rs --durations=25 --nbval-lax tests notebooks
