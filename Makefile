# Two commands, each makes the virtual environment it needs (from PyPI) and reuses it:
#   make report   runs the main job and writes reports/
#   make test     runs the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report test venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

report: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/hwdse report

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadgroup -q tests

clean:
	rm -rf $(VENV) .cache build
