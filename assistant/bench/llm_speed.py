"""Speed of generated answers with the bundled model, against llama.cpp alone on the same prompts.

Each question is answered as the web chat does (quotes first, then the model's stream, then the
check), timing when the quotes are ready, the first generated token and the end. Its prompt is
then replayed through llama.cpp alone, generating as many tokens as the answer did: its prefill and
decode times are the floor our times are compared with. Before each answer and each replay the
model's cache holds the system prompt alone, as in the chat (one system prompt for every answer).

Usage: ``llm_speed(settings, questions)`` (``assistant bench`` runs it in its own process).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from assistant.answering.generative import GenerativeAnswerer
from assistant.answering.prompting import SYSTEM
from assistant.answering.search import SearchEngine
from assistant.answering.types import Preview
from assistant.bench.phases import peak_rss_mb
from assistant.config import Settings
from assistant.errors import LLMUnavailable
from assistant.evaluation.metrics import percentile
from assistant.models.chat import load_chat_model
from assistant.models.llama_chat import LlamaCppChat

# Answered first and not measured: the first call's costs (kernels, caches) are no answer's.
WARM_UP = "Qu'est-ce que le réseau EuroCAN ?"


def measure(answerer: GenerativeAnswerer, chat: LlamaCppChat, question: str) -> dict[str, Any]:
    """One streamed answer, timed (seconds), with the prompt the model read and how many tokens it wrote."""
    start = time.perf_counter()
    first = quotes = None
    written: list[str] = []
    for event in answerer.stream(question):
        if isinstance(event, Preview):
            quotes = time.perf_counter() - start
        elif isinstance(event, str):
            first = first or time.perf_counter() - start
            written.append(event)
    total = time.perf_counter() - start
    return {
        "reached_model": first is not None,
        "prompt": list(chat.last_prompt_tokens),
        "generated": chat.count_tokens("".join(written)),
        "quotes_s": quotes or total,
        "ttft_s": first or total,
        "total_s": total,
    }


def system_prefix(chat: LlamaCppChat) -> list[int]:
    """The tokens every answer's prompt starts with (the system prompt, as the chat template writes it)."""
    one, other = ([SystemMessage(content=SYSTEM), HumanMessage(content=text)] for text in ("a", "b"))
    first, second = chat.prompt_tokens(one), chat.prompt_tokens(other)
    return first[: next(i for i, (x, y) in enumerate(zip(first, second, strict=False)) if x != y)]


def prime(chat: LlamaCppChat, system: list[int]) -> None:
    """Leave only the system prompt in the model's cache, as between two answers in the chat."""
    chat.llama.reset()
    chat.llama.eval(system)


def raw_llama(chat: LlamaCppChat, prompt: list[int], tokens: int) -> dict[str, float]:
    """llama.cpp alone (through llama-cpp-python, nothing of ours) on ``prompt``, the cache primed: prefill
    seconds (to the first sampled token) and decode seconds for ``tokens`` written tokens, by the wall clock.

    llama.cpp's own perf counters are not used: here they did not reset between calls.
    """
    cached = next((i for i, (a, b) in enumerate(zip(chat.llama._input_ids, prompt, strict=False)) if a != b),
                  min(chat.llama.n_tokens, len(prompt)))  # fmt: skip
    start = time.perf_counter()
    first = start
    # The answer's last written token was evaluated too, to sample the end: one step more than tokens written.
    for step, _ in enumerate(chat.llama.generate(prompt, temp=0.0, reset=True), 1):
        if step == 1:
            first = time.perf_counter()
        if step > tokens:
            break
    end = time.perf_counter()
    return {
        "prefill_tokens": len(prompt) - cached,
        "prefill_s": first - start,
        "decode_tokens": tokens,
        "decode_s": end - first,
    }


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 3), "p95": round(percentile(values, 0.95), 3)}


def _ratio(ours: float, raw: float) -> float:
    return ours / raw if raw > 0 else float("nan")


def llm_speed(settings: Settings, questions: list[str], warm_up: str = WARM_UP) -> dict[str, Any]:
    """p50 / p95 over ``questions`` that reach the model (abstentions never do), ours and llama.cpp's alone.

    ``ttft_over_prefill`` is our time to the first generated token over llama.cpp's prefill of the same
    prompt; ``total_over_raw`` our whole answer over its prefill + decode (1.00 = no overhead of ours:
    retrieval, quote choice, prompt building, the claim check). ``warm_up`` (not measured) pays the
    first-call costs.
    """
    chat = load_chat_model(settings)
    if not isinstance(chat, LlamaCppChat):
        raise LLMUnavailable("the LLM benchmark measures the bundled model: unset ASSISTANT_LLM_BASE_URL")
    answerer = GenerativeAnswerer(SearchEngine.open(settings), chat)
    system = system_prefix(chat)
    measure(answerer, chat, warm_up)
    answerer.engine.forget()  # as for extractive asks: nothing of the warm-up's cached, caches fill as users ask
    rows = []
    for question in questions:
        prime(chat, system)
        row = measure(answerer, chat, question)
        if row["reached_model"]:
            prime(chat, system)
            rows.append(row | raw_llama(chat, row["prompt"], max(row["generated"], 1)))
    if not rows:
        return {"answers": 0, "peak_rss_mb": peak_rss_mb()}
    prompt_tokens = [float(len(r["prompt"])) for r in rows]
    return {
        "answers": len(rows),
        "prompt_tokens": _summary(prompt_tokens),
        "prompt_tokens_beyond_system": _summary([n - len(system) for n in prompt_tokens]),
        "quotes_ms": _summary([1000 * r["quotes_s"] for r in rows]),
        "ttft_s": _summary([r["ttft_s"] for r in rows]),
        "total_s": _summary([r["total_s"] for r in rows]),
        "raw_prefill_s": _summary([r["prefill_s"] for r in rows]),
        "raw_decode_s": _summary([r["decode_s"] for r in rows]),
        "prefill_tps": round(_ratio(sum(r["prefill_tokens"] for r in rows), sum(r["prefill_s"] for r in rows)), 1),
        "decode_tps": round(_ratio(sum(r["decode_tokens"] for r in rows), sum(r["decode_s"] for r in rows)), 1),
        "ttft_over_prefill": _summary([_ratio(r["ttft_s"], r["prefill_s"]) for r in rows]),
        "total_over_raw": _summary([_ratio(r["total_s"], r["prefill_s"] + r["decode_s"]) for r in rows]),
        "peak_rss_mb": peak_rss_mb(),
    }
