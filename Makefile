# The README's two commands: `make lab` opens the notebooks in JupyterLab, `make test` runs the tests.
# Both create the virtual environment in .venv and install colorlib with everything it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: lab test install

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

lab: install
	$(BIN)/jupyter lab notebooks/

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest --nbval-lax tests notebooks
