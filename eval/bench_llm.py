"""Benchmark: speed of generated answers with the bundled model on this machine.

Prints, per question: prompt tokens, time to first token, prefill and decode tokens/s, total time,
and the ratio of our total to llama.cpp's own prefill + decode time (1.00 = no overhead of ours).

    .venv/bin/python eval/bench_llm.py [--limit 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import llama_cpp

from assistant.answer import Answer, ExtractiveAnswerer
from assistant.config import Settings
from assistant.generation import GenerativeAnswerer
from assistant.llm import LlamaCppChat, load_chat_model
from assistant.retrieval import SearchEngine

QUESTIONS = Path(__file__).with_name("questions.jsonl")


def measure(answerer: GenerativeAnswerer, chat: LlamaCppChat, question: str) -> dict[str, float]:
    ctx = chat.llama._ctx.ctx
    llama_cpp.llama_perf_context_reset(ctx)
    start = time.perf_counter()
    first = None
    final: Answer | None = None
    for event in answerer.stream(question):
        if isinstance(event, str) and first is None:
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
        "ttft_s": first or total,
        "prefill_tps": perf.n_p_eval / (perf.t_p_eval_ms / 1000) if perf.t_p_eval_ms else 0.0,
        "decode_tps": perf.n_eval / (perf.t_eval_ms / 1000) if perf.t_eval_ms else 0.0,
        "total_s": total,
        "overhead_ratio": total / llama_s if llama_s else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()
    settings = Settings.from_env()
    chat = load_chat_model(settings)
    assert isinstance(chat, LlamaCppChat), "the benchmark measures the bundled model (unset ASSISTANT_LLM_BASE_URL)"
    answerer = GenerativeAnswerer(ExtractiveAnswerer(SearchEngine.open(settings)), chat)
    items = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [i for i in items if not i.get("history") and i.get("reference_answer")][: args.limit]
    answerer.ask("warm-up: quels réseaux ?")
    rows = []
    print(f"{'prompt':>6} {'out':>4} {'ttft':>6} {'pre/s':>6} {'dec/s':>6} {'total':>6} {'ratio':>5}  question")
    for item in items:
        row = measure(answerer, chat, item["question"])
        if row["abstained"] or not row["output_tokens"]:
            continue  # abstentions never reach the model: nothing to measure
        rows.append(row)
        print(f"{row['prompt_tokens']:>6.0f} {row['output_tokens']:>4.0f} {row['ttft_s']:>6.2f} "
              f"{row['prefill_tps']:>6.1f} {row['decode_tps']:>6.1f} {row['total_s']:>6.2f} "
              f"{row['overhead_ratio']:>5.2f}  {item['question'][:60]}")  # fmt: skip
    if rows:
        print("\nmedian: " + ", ".join(f"{k} {statistics.median(r[k] for r in rows):.2f}" for k in rows[0]))


if __name__ == "__main__":
    main()
