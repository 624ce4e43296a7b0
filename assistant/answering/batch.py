"""Batch answering (``assistant ask -``): one JSON request per line in, one JSON answer per line out.

A request is ``{"question": str, "history": [str], "sources": [pattern]}`` (history and sources optional).
A line that cannot be answered gives an ``{"error": …}`` object in its place, so the output keeps one line per request.

Example (``answerer`` an :class:`~assistant.answering.extractive.ExtractiveAnswerer`):
    >>> lines = ['{"question": "Qu\\'est-ce que EuroCAN ?"}', "", '{"question": " "}', "[1, 2]",
    ...          '{"question": "Qui ?", "history": "Qui organise les Assises ?"}']
    >>> [sorted(reply)[:2] for reply in answer_lines(answerer, lines, 2000)]
    [['abstained', 'answer'], ['error', 'question'], ['error'], ['error', 'question']]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from assistant.answering.conversation import Question
from assistant.answering.modes import Answerer
from assistant.answering.types import Answer
from assistant.errors import QuestionError


def _request(line: str) -> dict[str, Any]:
    request = json.loads(line)
    if not isinstance(request, dict):
        raise ValueError("expected an object")
    return request


def answer_lines(
    answerer: Answerer, lines: Iterable[str], max_chars: int, on_answer: Callable[[Answer], None] | None = None
) -> Iterator[dict[str, Any]]:
    """The JSON object answering each non-blank line of ``lines``, in order (each answer also given to
    ``on_answer``: the audit log)."""
    for line in lines:
        if not line.strip():
            continue
        try:
            request = _request(line)
        except ValueError as err:  # json.JSONDecodeError included
            yield {"error": f"invalid input line: {err}"}
            continue
        try:
            asked = Question.parse(
                str(request.get("question", "")), request.get("history"), max_chars, request.get("sources")
            )
            answer = answerer.ask(asked)
            if on_answer is not None:
                on_answer(answer)
            yield answer.as_json()
        except QuestionError as err:
            yield {"question": request.get("question"), "error": str(err)}
