"""Thumbs up / down from the web chat, appended to a local JSONL file to grow the evaluation set.

One line per vote: time, vote, question, history, answer, mode, citations (as ``ask --json``).
Default location: ``eval/feedback.jsonl`` (``Settings.feedback``, from ``ASSISTANT_FEEDBACK``).

Example (``tmp`` a scratch directory):
    >>> answer = Answer("Quels réseaux ?", "ESN [1]", False, "extractive", "fr")
    >>> record_feedback(tmp / "feedback.jsonl", answer, liked=True, history=[])
    >>> record = json.loads((tmp / "feedback.jsonl").read_text(encoding="utf-8"))
    >>> record["liked"], record["question"], record["answer"]
    (True, 'Quels réseaux ?', 'ESN [1]')
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from assistant.answering.types import Answer

_lock = threading.Lock()


def record_feedback(path: Path, answer: Answer, liked: bool, history: list[str]) -> None:
    """Append one vote; the whole line is written at once so concurrent votes never interleave."""
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "liked": liked, "history": history} | answer.as_json()
    line = json.dumps(record, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as handle:
        handle.write(line)
