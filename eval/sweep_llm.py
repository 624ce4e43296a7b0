"""How the bundled model's settings were chosen: threads, batch size and prompt-lookup decoding, measured.

Builds the real prompts of the ONPE questions (as the LLM mode writes them), then for each setting loads
llama.cpp afresh and replays them in order (the system prefix cached, as in the chat), generating up to
``--tokens`` tokens: prefill and decode rates by llama.cpp's own counters, and the wall time of each answer.

    python eval/sweep_llm.py [--questions 12] [--tokens 60] [--only "prompt lookup"]

Prints one line per setting; README "LLM speed" records the figures and the choice.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import assistant  # noqa: F401  (offline mode first)
from assistant.answering.conversation import Question, retrieval_query
from assistant.answering.generative import GenerativeAnswerer
from assistant.answering.prompting import answer_messages
from assistant.answering.search import SearchEngine, retrieve
from assistant.config import Settings
from assistant.models.chat import load_chat_model
from assistant.models.llama_chat import LlamaCppChat

QUESTIONS = Path(__file__).parent / "questions.jsonl"


def prompts(settings: Settings, chat: LlamaCppChat, limit: int) -> list[list[int]]:
    """The token prompts the LLM mode builds for the first ``limit`` answerable ONPE questions."""
    answerer = GenerativeAnswerer(SearchEngine.open(settings), chat)
    found_prompts = []
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        asked = Question.parse(item["question"], item["history"])
        found = retrieve(answerer.engine, asked, query=retrieval_query(asked.text, asked.history))
        if found.answerable:
            chunks = [h.chunk for h in answerer.passages(found)]
            found_prompts.append(chat.prompt_tokens(answer_messages(found.query, found.language, chunks)))
        if len(found_prompts) == limit:
            break
    return found_prompts


def replay(model_path: str, prompts: list[list[int]], tokens: int, **options: Any) -> dict[str, float]:
    """Prefill / decode rates and the median answer time for one setting of ``llama_cpp.Llama``."""
    import llama_cpp

    llama = llama_cpp.Llama(model_path=model_path, n_ctx=4096, verbose=False, **options)
    llama.create_completion(prompt=prompts[0], max_tokens=1)  # the system prefix cached, as in the chat
    ctx = llama._ctx.ctx
    walls, pre_n, pre_ms, dec_n, dec_ms = [], 0, 0.0, 0, 0.0
    for prompt in prompts:
        llama_cpp.llama_perf_context_reset(ctx)
        start = time.perf_counter()
        llama.create_completion(prompt=prompt, max_tokens=tokens, temperature=0.0)
        walls.append(time.perf_counter() - start)
        perf = llama_cpp.llama_perf_context(ctx)
        pre_n, pre_ms = pre_n + perf.n_p_eval, pre_ms + perf.t_p_eval_ms
        dec_n, dec_ms = dec_n + perf.n_eval, dec_ms + perf.t_eval_ms
    llama.close()
    return {
        "prefill_tps": round(1000 * pre_n / pre_ms, 1),
        "decode_tps": round(1000 * dec_n / dec_ms, 1) if dec_ms else 0.0,
        "answer_s_p50": round(statistics.median(walls), 2),
        "answer_s_sum": round(sum(walls), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--tokens", type=int, default=60)
    parser.add_argument("--only", default="", help="Only the settings whose name contains this.")
    args = parser.parse_args()
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    settings = Settings.from_env()
    chat = load_chat_model(settings)
    assert isinstance(chat, LlamaCppChat), "the sweep measures the bundled model"
    sample = prompts(settings, chat, args.questions)
    print(f"{len(sample)} prompts, {statistics.median(len(p) for p in sample)} tokens median")
    settings_tried: list[tuple[str, dict[str, Any]]] = [
        (f"threads {t}, batch {b}", {"n_threads": t, "n_batch": b}) for t in (2, 1) for b in (512, 128)
    ]
    settings_tried += [
        (f"threads 2, batch 512, prompt lookup {k}",
         # A draft model needs every position's logits: llama-cpp-python 0.3.36 fails unless told so.
         {"n_threads": 2, "n_batch": 512, "logits_all": True,
          "draft_model": LlamaPromptLookupDecoding(num_pred_tokens=k)})
        for k in (2, 10)
    ]  # fmt: skip
    for name, options in (s for s in settings_tried if args.only in s[0]):
        print(f"{name:<40} {replay(chat.model_path, sample, args.tokens, **options)}", flush=True)


if __name__ == "__main__":
    main()
