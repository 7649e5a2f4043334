# Two commands on a fresh machine: `make demo` (the main job, small and local) and `make test`
# (the fast tests). Every target runs the venv's own python, so no activation is needed;
# for the README's plain `python ...` commands, `source .venv/bin/activate` first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_RESULTS ?= demo-results

.PHONY: install data demo pilot study study-exports fake-cluster test test-all lint bench clean

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

# The reduced-budget pilot study of docs/pilot (under an hour on 2 CPU cores), its summary
# exports and plots.
PILOT_RESULTS ?= pilot-results
pilot: data
	$(BIN)/python sweeps/all_triples.py --preset pilot --results $(PILOT_RESULTS)
	$(BIN)/python -m analysis.summarize --results $(PILOT_RESULTS) --tables all
	$(BIN)/python -m analysis.summarize --results $(PILOT_RESULTS) --format markdown > docs/pilot/summary.md
	$(BIN)/python -m analysis.summarize --results $(PILOT_RESULTS) --format csv > docs/pilot/summary.csv
	$(BIN)/python -m analysis.summarize --results $(PILOT_RESULTS) --format json --plots docs/pilot > docs/pilot/summary.json

# The 1-epoch study of docs/study-1epoch (hours on 2 CPU cores), its exports, plots and plan.
STUDY_RESULTS ?= study-results
STUDY_DOCS ?= docs/study-1epoch
study: data
	$(BIN)/python sweeps/all_triples.py --preset study-1epoch --results $(STUDY_RESULTS)
	$(MAKE) study-exports STUDY_RESULTS=$(STUDY_RESULTS)

# The study's exports from a results root (the committed one: STUDY_RESULTS=docs/study-1epoch/results).
study-exports: install
	mkdir -p $(STUDY_DOCS)
	$(BIN)/python -m analysis.summarize --results $(STUDY_RESULTS) --format markdown > $(STUDY_DOCS)/summary.md
	$(BIN)/python -m analysis.summarize --results $(STUDY_RESULTS) --format csv > $(STUDY_DOCS)/summary.csv
	$(BIN)/python -m analysis.summarize --results $(STUDY_RESULTS) --format json --plots $(STUDY_DOCS) > $(STUDY_DOCS)/summary.json
	$(BIN)/python -m analysis.plan --results $(STUDY_RESULTS) > $(STUDY_DOCS)/plan.txt
	$(BIN)/python -m analysis.plan --results $(STUDY_RESULTS) --format json > $(STUDY_DOCS)/plan.json

# The smoke sweep submitted through the Jobs API to an autoscaling cluster faked on this
# machine, losing a worker node mid-run (tests/cluster/run_fake_cluster.py).
fake-cluster: data
	$(BIN)/python tests/cluster/run_fake_cluster.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The fast tests (minutes on 2 cores): everything but the tests marked slow.
test: data lint
	$(BIN)/python -m pytest -q -m "not slow"

# Every test, the slow ones too (sweeps on Ray, the fake cluster, S3): what CI runs.
test-all: data lint
	$(BIN)/python -m pytest -q

bench: data
	$(BIN)/python -m bench.throughput --device cpu --record

clean:
	rm -rf $(VENV) $(DEMO_RESULTS) .pytest_cache .ruff_cache
