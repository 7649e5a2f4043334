# Two commands on a fresh machine: `make demo` (the main job, small and local) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_RESULTS ?= demo-results

.PHONY: install data demo test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# Fashion-MNIST: use what is found; else Debian's package where apt-get works; else download.
data: install
	@$(BIN)/python -m fakedet.data --no-download 2>/dev/null || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } || true
	$(BIN)/python -m fakedet.data

demo: data
	$(BIN)/python sweeps/all_triples.py --smoke --results $(DEMO_RESULTS)
	$(BIN)/python -m analysis.summarize --results $(DEMO_RESULTS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: data lint
	$(BIN)/python -m pytest -q

bench: data
	$(BIN)/python -m bench.throughput --device cpu

clean:
	rm -rf $(VENV) $(DEMO_RESULTS) .pytest_cache .ruff_cache
