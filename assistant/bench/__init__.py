"""``assistant bench``: indexing and query speed, ours side by side with the LangChain tutorial pipeline.

On a sample (or all) of a SQuAD-format dataset's paragraphs (PIAF by default), each side in its own
process: raw embedding of what our index stores (chunks, and a vector per sentence) vs our whole indexing
run (``index_over_embed``), one-file reindex, warm extractive asks (p50 / p95), peak memory; then asks
against a scaled store of
``scale`` chunks (:mod:`assistant.bench.scale`), a long text PDF indexed and scanned pages read by OCR
(:mod:`assistant.bench.documents`), and the bundled LLM's speed.

Usage: ``run_bench(settings, BenchOptions(paragraphs=200, scale=0, llm=False))`` returns every figure as
one JSON-ready dict (``index_over_embed``, ``ask_ms``, ``baseline``…); :func:`table` prints it.
``tests/interfaces/test_bench.py`` runs it on a small sample.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from assistant.bench.workload import prepare
from assistant.config import DEFAULT_BENCH_DATASET, Settings


@dataclass(frozen=True)
class BenchOptions:
    dataset: Path = DEFAULT_BENCH_DATASET
    paragraphs: int = 0  # 0: every paragraph
    questions: int = 200
    scale: int = 100_000  # 0: skip the scaled store
    llm: bool = True
    llm_questions: int = 20
    pdf_pages: int = 300  # 0: skip the PDF phase
    ocr_pages: int = 5
    audit_entries: int = 100_000  # 0: skip the audit log's figures


def _in_child(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``function`` in a fresh process (its own peak memory, no shared caches)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _ratio(ours: float, theirs: float) -> float | None:
    return round(ours / theirs, 3) if theirs else None


def ratios(ours: dict[str, Any], baseline: dict[str, Any]) -> dict[str, float | None]:
    """Ours / baseline for each shared figure (below 1: we are faster or smaller)."""
    return {
        "index_seconds": _ratio(ours["index_seconds"], baseline["index_seconds"]),
        "reindex_one_file_seconds": _ratio(ours["reindex_one_file_seconds"], baseline["reindex_one_file_seconds"]),
        "ask_ms_p50": _ratio(ours["ask_ms"]["p50"], baseline["ask_ms"]["p50"]),
        "peak_rss_mb": _ratio(ours["peak_rss_mb"], baseline["peak_rss_mb"]),
    }


def run_bench(settings: Settings, options: BenchOptions) -> dict[str, Any]:
    """Every measurement, as one JSON-ready object (see the README's "Speed" section)."""
    from assistant.bench import phases

    with tempfile.TemporaryDirectory(prefix="assistant-bench-") as tmp:
        root = Path(tmp)
        work = prepare(options.dataset, root, options.paragraphs, options.questions)
        own = settings.with_(corpus=work.corpus, index_dir=root / "index", chroma_url=None)
        ours = _in_child(phases.ours, own, work.questions)
        result: dict[str, Any] = {
            "dataset": str(options.dataset),
            "paragraphs": work.paragraphs,
            "questions": len(work.questions),
            "cpus": os.cpu_count(),
            **ours,
        }
        result["baseline"] = _in_child(phases.baseline, own, work.questions)
        result["baseline"]["ratios"] = ratios(ours, result["baseline"])
        if options.scale:
            big = own.with_(index_dir=root / "scaled")
            result["scale"] = _in_child(phases.scaled, big, own.index_dir, options.scale, work.questions)
        if options.audit_entries:
            from assistant.bench.team import audit_figures, conversation_figures

            (root / "audit").mkdir()
            result["team"] = _in_child(audit_figures, root / "audit", options.audit_entries)
            result["team"] |= _in_child(conversation_figures, root / "conversations")
        if options.pdf_pages:
            from assistant.bench.documents import pdf_indexing

            result["pdf"] = _in_child(pdf_indexing, own, options.pdf_pages, options.ocr_pages)
        if options.llm:
            from assistant.bench.llm_speed import llm_speed

            result["llm"] = _in_child(llm_speed, own, work.questions[: options.llm_questions])
    return result


def table(result: dict[str, Any]) -> str:
    """The figures as a terminal table: ours, the baseline, and ours / baseline."""
    base = result["baseline"]
    rows = [
        ("chunks", result["chunks"], base["chunks"], None),
        ("index (s)", result["index_seconds"], base["index_seconds"], base["ratios"]["index_seconds"]),
        ("sentences (a vector each)", result["sentences"], None, None),
        ("embedding chunks only (s)", result["embed_chunks_seconds"], None, None),
        ("embedding only, chunks + sentences (s)", result["embed_seconds"], None, None),
        ("index / embedding only", result["index_over_embed"], None, None),
        ("reindex one file (s)", result["reindex_one_file_seconds"], base["reindex_one_file_seconds"],
         base["ratios"]["reindex_one_file_seconds"]),
        ("ask p50 (ms)", result["ask_ms"]["p50"], base["ask_ms"]["p50"], base["ratios"]["ask_ms_p50"]),
        ("ask p95 (ms)", result["ask_ms"]["p95"], base["ask_ms"]["p95"], None),
        ("peak memory (MB)", result["peak_rss_mb"], base["peak_rss_mb"], base["ratios"]["peak_rss_mb"]),
    ]  # fmt: skip
    if "scale" in result:
        scale = result["scale"]
        rows += [
            (f"ask p50 at {scale['chunks']:,} chunks (ms)", scale["ask_ms"]["p50"], None, None),
            (f"ask p95 at {scale['chunks']:,} chunks (ms)", scale["ask_ms"]["p95"], None, None),
        ]
    if "pdf" in result:
        pdf = result["pdf"]
        rows += [
            (f"index a {pdf['pdf_pages']}-page PDF (s)", pdf["pdf_index_seconds"], None, None),
            ("  / embedding its chunks only", pdf["pdf_index_over_embed"], None, None),
            ("OCR (pages per minute)", pdf["ocr_pages_per_minute"], None, None),
        ]
    if "team" in result:
        team = result["team"]
        append = team["audit_append_ms"]
        rows += [
            ("audit log: one answer's entry (ms)", f"{append['p50']} / {append['p95']}", None, None),
            (f"audit verify, {team['audit_entries']:,} entries (s)", team["audit_verify_seconds"], None, None),
            ("save a turn (ms)", f"{team['save_turn_ms']['p50']} / {team['save_turn_ms']['p95']}", None, None),
            (f"reopen {team['reopen_turns']:,} turns (ms)", team["reopen_ms"], None, None),
        ]
    if result.get("llm", {}).get("answers"):
        rows += _llm_rows(result["llm"])
    lines = [f"{'':<34} {'ours':>12} {'baseline':>10} {'ratio':>7}"]
    for name, mine, theirs, ratio in rows:
        lines.append(f"{name:<34} {mine!s:>12} {'' if theirs is None else theirs!s:>10} "
                     f"{'' if ratio is None else ratio!s:>7}")  # fmt: skip
    return "\n".join(lines)


def _llm_rows(llm: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """The LLM's figures (p50 / p95), ours beside llama.cpp's own time for the same prompts."""

    def both(figure: dict[str, float]) -> str:
        return f"{figure['p50']} / {figure['p95']}"

    return [
        ("LLM prompt tokens, p50 / p95", both(llm["prompt_tokens"]), None, None),
        ("LLM prompt beyond the system prompt", both(llm["prompt_tokens_beyond_system"]), None, None),
        ("LLM quotes shown (ms)", both(llm["quotes_ms"]), None, None),
        ("LLM first token (s) / raw prefill", both(llm["ttft_s"]), both(llm["raw_prefill_s"]),
         both(llm["ttft_over_prefill"])),
        ("LLM answer (s) / raw prefill+decode", both(llm["total_s"]), None, both(llm["total_over_raw"])),
        ("LLM prefill / decode (tokens/s)", f"{llm['prefill_tps']} / {llm['decode_tps']}", None, None),
    ]  # fmt: skip
