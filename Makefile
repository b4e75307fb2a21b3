# The two set-up commands (see README): `make demo` runs the flagship backtest on the embedded
# sample data; `make test` runs the test suite. Both create their own virtual environment.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test bench lint sample clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/backtest run russell-fed-rotation

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

# Benchmarks against vectorbt (not part of `make test`): BENCH_ARGS=--quick or --full.
bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

sample: $(BIN)/.installed
	$(BIN)/backtest data sample

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
