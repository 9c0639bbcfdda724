# Convoscope — every install step the project needs lives here (nothing by hand).
#   make demo       venv + packages + models, then the demo (ingest, analyse, digest)
#   make test       everything above + test-only system packages, then the whole suite
#   make test-fast  the quick loop: no model-heavy tests (marked `slow`)
#   make soak       the kill-based fault tests with hundreds of kills, then bench/chaos.py
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CACHE ?= $(HOME)/.cache/convoscope
export CONVOSCOPE_CACHE ?= $(CACHE)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
PYTEST_ARGS ?=
# two pytest-xdist workers: the suite waits on models, subprocesses and servers as much as on
# the CPU; each worker loads its own models, so more workers mostly cost memory
PYTEST_WORKERS ?= 2

# Debian packages: the demo decodes audio with PyAV (bundled FFmpeg) and needs none;
# the tests synthesise speech (espeak-ng, sox) and run a real IMAP server (dovecot).
TEST_DEBS := espeak-ng sox libsox-fmt-all dovecot-imapd openssl postgresql

.PHONY: demo test test-fast soak venv models sysdeps-test lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PY) >/dev/null || { echo "error: $(PY) not found; install Python 3.11 or run make PY=/path/to/python3.11"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: the CPU build on this machine's disk, not a multi-GB CUDA one
	$(BIN)/pip install --quiet torch==2.13.0
	# the tests start a local Ray cluster (tests/cluster), so they need the cluster extra
	$(BIN)/pip install --quiet -e '.[test,cluster]'
	@touch $@

sysdeps-test:
	@missing=$$(for p in $(TEST_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "error: the tests need these Debian packages, which are missing: $$missing"; \
	    echo "       install them as root: apt-get install $$missing"; exit 1; \
	  fi; \
	fi

models: venv
	$(BIN)/convoscope models prepare

demo: venv models
	$(BIN)/convoscope demo

test: venv sysdeps-test models
	$(BIN)/ruff check .
	$(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup --durations=25 $(PYTEST_ARGS)

test-fast: venv sysdeps-test
	$(BIN)/pytest -p no:cacheprovider -n $(PYTEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

# SIGKILL the real CLI hundreds of times (tests/faults: $(SOAK_KILLS) kills per path, ~9 paths),
# the chat vendors' heavy chaos with $(SOAK_CHAOS_SEEDS) seeds per vendor (`make test`: one),
# then the chaos table (50 kills per path). Takes about an hour on 2 cores.
SOAK_KILLS ?= 40
SOAK_CHAOS_SEEDS ?= 6
soak: venv sysdeps-test models
	CONVOSCOPE_FAULT_KILLS=$(SOAK_KILLS) $(BIN)/pytest -p no:cacheprovider tests/faults $(PYTEST_ARGS)
	CONVOSCOPE_CHAOS_SEEDS=$(SOAK_CHAOS_SEEDS) $(BIN)/pytest -p no:cacheprovider \
	    tests/connectors/chat/test_chat_chaos.py -k heavy_chaos $(PYTEST_ARGS)
	$(BIN)/python bench/chaos.py --kills 50

lint: venv
	$(BIN)/ruff check .

# Each script prints a table; see the README's Benchmarks section for sizes and flags.
bench: venv models
	$(BIN)/python bench/asr.py
	$(BIN)/python bench/alert_latency.py
	$(BIN)/python bench/diarization.py
	$(BIN)/python bench/diarization.py --split eval_overlap --calls 20
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/eval_sentiment.py
	$(BIN)/python bench/anger.py
	$(BIN)/python bench/analysis.py
	$(BIN)/python bench/redaction.py
	$(BIN)/python bench/redaction_asr.py
	$(BIN)/python bench/verdicts.py
	$(BIN)/python bench/patterns.py
	$(BIN)/python bench/tui.py
	$(BIN)/python bench/bot.py
	$(BIN)/python bench/questions.py
	$(BIN)/python bench/slack_attack.py

clean:
	rm -rf $(VENV) build *.egg-info demo
