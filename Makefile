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
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/hwdse report

# The tests run as if typed in a shell: the parent make's MAKEFLAGS/MAKELEVEL would otherwise reach
# the Verilator builds that cocotb runs through make.
test: $(STAMP)
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadgroup -q --durations=25 tests

clean:
	rm -rf $(VENV) .cache build
