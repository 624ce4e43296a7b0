"""Team features in the benchmark: what the audit log and saving a turn cost an answer, verifying a long log,
and reopening a long saved conversation.

``audit_figures(root, entries)`` writes a chained log of ``entries`` answers the way :class:`AuditLog` chains
them (built directly: a real append fsyncs each entry, which is what ``append_ms`` measures), then times
``verify`` on it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from assistant.answering.types import Answer, Citation
from assistant.bench.workload import seconds
from assistant.team.audit import GENESIS, AuditLog, _digest
from assistant.team.conversations import Conversations, Saved
from assistant.web.saved import messages_of
from assistant.web.state import ChatState

APPENDS = 200  # appends timed one by one (each fsyncs)
LONG_CONVERSATION = 1000  # turns of the conversation reopened


def _entry(seq: int, prev: str) -> dict[str, Any]:
    entry = {"seq": seq, "time": round(time.time(), 3), "user": f"user{seq % 50}", "channel": "web",
             "question": f"Question numéro {seq} sur la protection de l'enfance ?", "mode": "extractive",
             "model": "extractive", "snapshot": "s-0001", "confidence": 0.9, "abstained": False,
             "citations": [{"source": "rapport.pdf", "start": 120, "end": 240, "page": 3}], "prev": prev}  # fmt: skip
    entry["hash"] = _digest(entry)
    return entry


def audit_figures(root: Path, entries: int = 100_000) -> dict[str, Any]:
    """Milliseconds one answer's entry costs (p50 / p95 of real appends), and seconds to verify ``entries``."""
    log = AuditLog(root / "audit.jsonl")
    timings = []
    for _ in range(APPENDS):
        start = time.perf_counter()
        log.append({"user": "bench", "question": "Qui organise les Assises ?", "abstained": False})
        timings.append((time.perf_counter() - start) * 1000)
    big = AuditLog(root / "long.jsonl")
    prev, lines = GENESIS, []
    for seq in range(1, entries + 1):
        entry = _entry(seq, prev)
        prev = entry["hash"]
        lines.append(json.dumps(entry, ensure_ascii=False) + "\n")
    big.path.write_text("".join(lines), encoding="utf-8")
    big.head_path.write_text(json.dumps({"seq": entries, "hash": prev}) + "\n", encoding="utf-8")
    verify_s, (checked, problem) = seconds(big.verify)
    if problem or checked != entries:
        raise RuntimeError(f"the benchmark's own log does not verify: {problem}")
    return {
        "audit_append_ms": _percentiles(timings),
        "audit_entries": entries,
        "audit_verify_seconds": round(verify_s, 2),
        "audit_mb": round(big.path.stat().st_size / 1e6, 1),
    }


def _typical_answer(turn: int) -> Answer:
    """An answer the size of a real one: four citations of ~900-character passages."""
    passage = "Les Assises nationales de la protection de l’enfance réunissent chaque année les professionnels. " * 9
    citations = [Citation(n, f"doc{n}.pdf", "Rapport", "Section", passage, 0, len(passage), 0.9, 0, 97, [n])
                 for n in range(1, 5)]  # fmt: skip
    text = " ".join(f"« Phrase citée numéro {n}. » [{n}]" for n in range(1, 5))
    return Answer(f"Question {turn} ?", text, False, "extractive", "fr", citations, 0.9, confidence=0.8)


def _percentiles(timings: list[float]) -> dict[str, float]:
    timings = sorted(timings)
    return {"p50": round(timings[len(timings) // 2], 2), "p95": round(timings[int(len(timings) * 0.95)], 2)}


def conversation_figures(root: Path) -> dict[str, Any]:
    """Milliseconds saving one turn adds to an answer (p50 / p95), and reopening a 1,000-turn conversation:
    reading it back and building the chat's messages."""
    store, conversation, timings = Conversations(root), None, []
    for turn in range(LONG_CONVERSATION):
        answer, saved = _typical_answer(turn), Saved(f"Question {turn} ?", snapshot="s-0001", hashes={"doc1.pdf": "h"})
        start = time.perf_counter()
        conversation = store.save("bench", conversation, answer, saved)
        timings.append((time.perf_counter() - start) * 1000)
    assert conversation is not None

    def reopen() -> int:
        return len(messages_of([(t, {}) for t in store.turns("bench", conversation)], ChatState()))

    reopen_s, messages = seconds(reopen)
    if messages != 2 * LONG_CONVERSATION:
        raise RuntimeError(f"the benchmark's conversation reopened with {messages} messages")
    return {"save_turn_ms": _percentiles(timings), "reopen_turns": LONG_CONVERSATION,
            "reopen_ms": round(reopen_s * 1000, 1)}  # fmt: skip
