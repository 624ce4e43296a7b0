"""Team features in the benchmark: what the audit log costs an answer, and verifying a long log.

``audit_figures(root, entries)`` writes a chained log of ``entries`` answers the way :class:`AuditLog` chains
them (built directly: a real append fsyncs each entry, which is what ``append_ms`` measures), then times
``verify`` on it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from assistant.bench.workload import seconds
from assistant.team.audit import GENESIS, AuditLog, _digest

APPENDS = 200  # appends timed one by one (each fsyncs)


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
    timings.sort()
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
        "audit_append_ms": {
            "p50": round(timings[len(timings) // 2], 2),
            "p95": round(timings[int(len(timings) * 0.95)], 2),
        },
        "audit_entries": entries,
        "audit_verify_seconds": round(verify_s, 2),
        "audit_mb": round(big.path.stat().st_size / 1e6, 1),
    }
