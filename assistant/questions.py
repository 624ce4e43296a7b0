"""Questions as users type them: cleaned, and refused with a clear reason when unusable."""

from __future__ import annotations

from assistant.cleaning import normalize


class QuestionError(ValueError):
    """A question that cannot be answered as given (empty, too long)."""


def clean_question(question: str, max_chars: int) -> str:
    """Normalise whitespace and drop control characters (NUL included).

    Raises:
        QuestionError: empty after cleaning, or longer than ``max_chars``.
    """
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    cleaned = normalize(question)
    if not cleaned:
        raise QuestionError("the question is empty")
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is too long ({len(cleaned)} characters; the limit is {max_chars})")
    return cleaned
