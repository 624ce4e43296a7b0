"""Speed of generated answers with the bundled model: time to first token, prefill and decode rates.

``overhead_ratio`` is our total answer time over llama.cpp's own prefill + decode time (1.00 = no
overhead of ours: retrieval, prompt building, grounding).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from assistant.answering.generative import GenerativeAnswerer
from assistant.answering.search import SearchEngine
from assistant.answering.types import Answer, Preview
from assistant.bench.phases import peak_rss_mb
from assistant.config import Settings
from assistant.errors import LLMUnavailable
from assistant.models.chat import LlamaCppChat, load_chat_model


def measure(answerer: GenerativeAnswerer, chat: LlamaCppChat, question: str) -> dict[str, float]:
    """One streamed answer, timed, with llama.cpp's own counters."""
    import llama_cpp

    ctx = chat.llama._ctx.ctx
    llama_cpp.llama_perf_context_reset(ctx)
    start = time.perf_counter()
    first = quotes = None
    final: Answer | None = None
    for event in answerer.stream(question):
        if isinstance(event, Preview):
            quotes = time.perf_counter() - start
        elif isinstance(event, str) and first is None:
            first = time.perf_counter() - start
        elif isinstance(event, Answer):
            final = event
    total = time.perf_counter() - start
    perf = llama_cpp.llama_perf_context(ctx)
    llama_s = (perf.t_p_eval_ms + perf.t_eval_ms) / 1000
    return {
        "abstained": float(final is not None and final.abstained),
        "prompt_tokens": perf.n_p_eval,
        "output_tokens": perf.n_eval,
        "quotes_s": quotes or total,
        "ttft_s": first or total,
        "prefill_tps": perf.n_p_eval / (perf.t_p_eval_ms / 1000) if perf.t_p_eval_ms else 0.0,
        "decode_tps": perf.n_eval / (perf.t_eval_ms / 1000) if perf.t_eval_ms else 0.0,
        "total_s": total,
        "overhead_ratio": total / llama_s if llama_s else 0.0,
    }


def llm_speed(settings: Settings, questions: list[str]) -> dict[str, Any]:
    """Medians over ``questions`` that reach the model (abstentions never do)."""
    chat = load_chat_model(settings)
    if not isinstance(chat, LlamaCppChat):
        raise LLMUnavailable("the LLM benchmark measures the bundled model: unset ASSISTANT_LLM_BASE_URL")
    answerer = GenerativeAnswerer(SearchEngine.open(settings), chat)
    rows = [row for row in (measure(answerer, chat, q) for q in questions) if row["output_tokens"]]
    medians = {key: round(statistics.median(r[key] for r in rows), 2) for key in rows[0]} if rows else {}
    medians.pop("abstained", None)
    return {"answers": len(rows), **medians, "peak_rss_mb": peak_rss_mb()}
