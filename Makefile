# Two commands do everything on a fresh machine with Python 3.11, pip and make:
#   make run    runs the bot on its embedded default (SQLite, sample council, console)
#   make test   runs the whole test suite (ruff and mypy first, then pytest on 2 workers)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The demo clock: a Tuesday in the sample council's busiest weeks, so prompts,
# reminders and an escalation are all visible at once whatever today's date is.
DEMO_NOW ?= 2027-01-26T09:30

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . \
	  || $(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/nosurprises serve --demo --console --now $(DEMO_NOW)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .nosurprises
