# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser demo test test-fast lint format fuzz bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	# torch first, pinned: this version's CPU build is at hand; mgen itself accepts a range.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test,web,miditok,hub,live]'
	touch $(STAMP)

install: $(STAMP)

## Sample the shipped folk-abc model (MIDI in seconds), then fine-tune it for a minute and sample again.
demo: $(STAMP)
	$(BIN)/python -m mgen.demo

## Debian's chromium and chromium-driver for the browser test of `mgen serve`, and abcmidi (apt-get, as root).
browser:
	@bash tools/install_browser.sh

## Lint, then the whole test suite (what CI runs).
test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/check_structure.py
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

## The long fuzz run: 10,000 generated inputs per tokenizer (see docs/reliability.md).
fuzz: $(STAMP)
	$(BIN)/python -m tools.fuzz --examples 10000

## The performance table of docs/performance.md, measured on this machine.
bench: $(STAMP)
	$(BIN)/mgen bench

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) runs build *.egg-info .pytest_cache .ruff_cache
