"""Speed of generated answers with the bundled model, against llama.cpp alone on the same prompts.

Each question is answered as the web chat does (quotes first, then the model's stream, then the
check), timing when the quotes are ready, the first generated token and the end. The prompts are
then replayed through llama.cpp alone, in the same order (so its prompt cache holds what it held
during the answers: the shared system prefix), each generating as many tokens as the answer did:
its prefill and decode times are the floor our times are compared with.

Usage: ``llm_speed(settings, questions)`` (``assistant bench`` runs it in its own process).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from langchain_core.messages import SystemMessage

from assistant.answering.generative import GenerativeAnswerer
from assistant.answering.prompting import SYSTEM
from assistant.answering.search import SearchEngine
from assistant.answering.types import Answer, Preview
from assistant.bench.phases import peak_rss_mb
from assistant.config import Settings
from assistant.errors import LLMUnavailable
from assistant.evaluation.metrics import percentile
from assistant.models.chat import LlamaCppChat, load_chat_model


def measure(answerer: GenerativeAnswerer, chat: LlamaCppChat, question: str) -> dict[str, Any]:
    """One streamed answer, timed (seconds), with the prompt the model read."""
    answerer.engine.forget()  # as a new question: nothing cached but the models and the index
    start = time.perf_counter()
    first = quotes = None
    final: Answer | None = None
    written: list[str] = []
    for event in answerer.stream(question):
        if isinstance(event, Preview):
            quotes = time.perf_counter() - start
        elif isinstance(event, str):
            first = first or time.perf_counter() - start
            written.append(event)
        elif isinstance(event, Answer):
            final = event
    total = time.perf_counter() - start
    return {
        "reached_model": first is not None,
        "abstained": final is not None and final.abstained,
        "prompt": list(chat.last_prompt_tokens),
        "generated": len(chat.llama.tokenize("".join(written).encode("utf-8"), add_bos=False, special=True)),
        "quotes_s": quotes or total,
        "ttft_s": first or total,
        "total_s": total,
    }


def raw_llama(chat: LlamaCppChat, prompt: list[int], tokens: int) -> dict[str, float]:
    """llama.cpp alone on ``prompt``: prefill and decode seconds for ``tokens`` generated tokens, by its own
    counters."""
    import llama_cpp

    ctx = chat.llama._ctx.ctx
    llama_cpp.llama_perf_context_reset(ctx)
    for _ in chat.llama.generate(prompt, temp=0.0, reset=True):
        tokens -= 1
        if tokens <= 0:
            break
    perf = llama_cpp.llama_perf_context(ctx)
    return {
        "prefill_tokens": perf.n_p_eval,
        "prefill_s": perf.t_p_eval_ms / 1000,
        "decode_tokens": perf.n_eval,
        "decode_s": perf.t_eval_ms / 1000,
    }


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 3), "p95": round(percentile(values, 0.95), 3)}


def llm_speed(settings: Settings, questions: list[str]) -> dict[str, Any]:
    """p50 / p95 over ``questions`` that reach the model (abstentions never do), ours and llama.cpp's alone.

    ``ttft_over_prefill`` is our time to the first generated token over llama.cpp's prefill of the same
    prompt; ``total_over_raw`` our whole answer over its prefill + decode (1.00 = no overhead of ours:
    retrieval, quote choice, prompt building, the claim check).
    """
    chat = load_chat_model(settings)
    if not isinstance(chat, LlamaCppChat):
        raise LLMUnavailable("the LLM benchmark measures the bundled model: unset ASSISTANT_LLM_BASE_URL")
    answerer = GenerativeAnswerer(SearchEngine.open(settings), chat)
    measure(answerer, chat, questions[0])  # warm-up: first-call costs (kernels, caches) are not an answer's
    rows = [row for row in (measure(answerer, chat, q) for q in questions) if row["reached_model"]]
    if not rows:
        return {"answers": 0, "peak_rss_mb": peak_rss_mb()}
    system = len(chat.prompt_tokens([SystemMessage(content=SYSTEM)]))
    for row in rows:
        row.update(raw_llama(chat, row["prompt"], max(row["generated"], 1)))
    prompt_tokens = [len(r["prompt"]) for r in rows]
    return {
        "answers": len(rows),
        "prompt_tokens": _summary([float(n) for n in prompt_tokens]),
        "prompt_tokens_beyond_system": _summary([float(n - system) for n in prompt_tokens]),
        "quotes_ms": _summary([1000 * r["quotes_s"] for r in rows]),
        "ttft_s": _summary([r["ttft_s"] for r in rows]),
        "total_s": _summary([r["total_s"] for r in rows]),
        "raw_prefill_s": _summary([r["prefill_s"] for r in rows]),
        "raw_decode_s": _summary([r["decode_s"] for r in rows]),
        "prefill_tps": round(sum(r["prefill_tokens"] for r in rows) / sum(r["prefill_s"] for r in rows), 1),
        "decode_tps": round(sum(r["decode_tokens"] for r in rows) / max(sum(r["decode_s"] for r in rows), 1e-9), 1),
        "ttft_over_prefill": _summary([r["ttft_s"] / r["prefill_s"] for r in rows]),
        "total_over_raw": _summary([r["total_s"] / (r["prefill_s"] + r["decode_s"]) for r in rows]),
        "peak_rss_mb": peak_rss_mb(),
    }
