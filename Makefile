# The README's two commands: `make lab` opens the notebooks in JupyterLab, `make test` runs the tests.
# Both create the virtual environment in .venv and install colorlib with everything it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: lab test install trust

install: $(VENV)/.installed

# The project's JupyterLab defaults (widget state saved with notebooks), in this venv only.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): jupyterlab/overrides.json $(VENV)/.installed
	mkdir -p $(dir $@)
	cp $< $@

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# Jupyter refuses to run as root (containers, CI) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

# Our own notebooks are trusted, so their saved widgets (sliders) show on opening, before any cell runs.
trust:
	$(BIN)/jupyter trust notebooks/*.ipynb

lab: install trust $(LAB_SETTINGS)
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

# The static-render browser tests load the widget renderer that nbconvert's HTML takes from a CDN;
# it comes from the npm registry (skipped, and those two tests with it, where npm is missing).
WIDGET_JS := .cache/widget-js/node_modules/@jupyter-widgets/html-manager/dist/embed-amd.js
$(WIDGET_JS):
	if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix .cache/widget-js \
		@jupyter-widgets/html-manager@1 requirejs@2; else echo "npm not found: the static-render browser tests will skip"; fi

test: install $(LAB_SETTINGS) $(WIDGET_JS)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest --nbval-lax tests notebooks
