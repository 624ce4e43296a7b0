"""``assistant bench`` end to end on a small PIAF sample: every figure is there, and the work behind it is real.

Speed targets are not asserted here (figures depend on the machine): the README records them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant.bench import BenchOptions, _llm_rows, run_bench, table
from assistant.bench.llm_speed import llm_speed
from assistant.config import DEFAULT_BENCH_DATASET, Settings
from assistant.models.chat import llm_installed
from tests.helpers import ROOT

pytestmark = pytest.mark.slow
PIAF = ROOT / DEFAULT_BENCH_DATASET


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    if not PIAF.is_file():
        pytest.skip(f"PIAF is not beside the repository ({PIAF})")
    options = BenchOptions(
        dataset=PIAF, paragraphs=24, questions=12, scale=3000, llm=False, pdf_pages=8, ocr_pages=1, audit_entries=2000
    )
    return run_bench(Settings(), options)


def test_bench_measures_both_sides(result: dict[str, Any]) -> None:
    assert result["paragraphs"] == 24 and result["questions"] == 12
    assert result["chunks"] >= 24 and result["embed_seconds"] > 0 and result["index_over_embed"] > 0
    assert result["sentences"] > result["chunks"] and 0 < result["embed_chunks_seconds"] < result["embed_seconds"]
    # One edited document: only its chunks are embedded again.
    assert 1 <= result["reindex_one_file_embedded"] < result["chunks"]
    assert result["ask_ms"]["n"] == 12 and 0 < result["ask_ms"]["p50"] <= result["ask_ms"]["p95"]
    baseline = result["baseline"]
    assert baseline["chunks"] >= 24 and baseline["ask_ms"]["n"] == 12
    assert set(baseline["ratios"]) == {"index_seconds", "reindex_one_file_seconds", "ask_ms_p50", "peak_rss_mb"}
    assert result["peak_rss_mb"] > 100 and baseline["peak_rss_mb"] > 100


def test_bench_scaled_store_and_table(result: dict[str, Any]) -> None:
    scale = result["scale"]
    assert scale["chunks"] >= 3000 and scale["ask_ms"]["n"] == 12
    text = table(result)
    assert "reindex one file (s)" in text and "at 3,0" in text


def test_bench_times_the_audit_log(result: dict[str, Any]) -> None:
    team = result["team"]
    assert team["audit_entries"] == 2000 and team["audit_verify_seconds"] > 0
    assert 0 < team["audit_append_ms"]["p50"] <= team["audit_append_ms"]["p95"]
    assert "audit verify, 2,000 entries (s)" in table(result)
    assert team["reopen_turns"] == 1000 and team["reopen_ms"] > 0
    assert 0 < team["save_turn_ms"]["p50"] <= team["save_turn_ms"]["p95"]
    assert "reopen 1,000 turns (ms)" in table(result)


def test_bench_indexes_a_pdf_and_reads_a_scanned_page(result: dict[str, Any]) -> None:
    pdf = result["pdf"]
    assert pdf["pdf_pages"] == 8 and pdf["pdf_chunks"] >= 8 and pdf["pdf_index_over_embed"] > 0
    assert "index a 8-page PDF (s)" in table(result)
    if shutil.which("tesseract"):
        assert pdf["ocr_pages_per_minute"] > 0 and pdf["ocr_blocks"] >= 1


@pytest.mark.skipif(not llm_installed(), reason="the bundled LLM is not installed (the [llm] extra)")
def test_llm_speed_against_llama_cpp_alone(onpe_settings: Settings) -> None:
    """Our answers and llama.cpp's own replay of the same prompts, on the ONPE pages with the bundled model."""
    questions = ["Qui organise les Assises ?", "Qu'est-ce que le réseau EuroCAN ?", "Comment faire une tarte ?"]
    llm = llm_speed(onpe_settings, questions)
    assert llm["answers"] == 2  # the third abstains: the model is never asked
    beyond, whole = llm["prompt_tokens_beyond_system"], llm["prompt_tokens"]
    assert 0 < beyond["p50"] < whole["p50"] <= whole["p95"]
    assert 0 < llm["quotes_ms"]["p50"] < 1000 * llm["ttft_s"]["p50"] < 1000 * llm["total_s"]["p50"]
    # Ours can only add to llama.cpp's own time for the same prompt (retrieval, quotes, the check).
    assert llm["ttft_over_prefill"]["p50"] > 0.9 and llm["total_over_raw"]["p50"] > 0.9
    assert llm["prefill_tps"] > llm["decode_tps"] > 0
    assert "LLM first token (s) / raw prefill" in "\n".join(str(row[0]) for row in _llm_rows(llm))


def test_bench_missing_dataset_is_a_clear_error(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "bench", "--dataset", str(tmp_path / "none.json"), "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 1 and "benchmark dataset not found" in run.stderr
    assert "Traceback" not in run.stderr
