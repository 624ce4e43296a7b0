"""The answer modes: ``extractive`` (quotes only), ``llm`` (the language model writes), ``auto`` (the
model when one can be used, else quotes).

Example (``engine`` a :class:`~assistant.answering.search.SearchEngine`):
    >>> answerer, notice = make_answerer(engine, "extractive")
    >>> answerer.mode, notice
    ('extractive', None)
    >>> make_answerer(engine, "creative")
    Traceback (most recent call last):
    ...
    assistant.errors.UsageError: unknown mode 'creative' (available: auto, llm, extractive)
"""

from __future__ import annotations

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.generative import GenerativeAnswerer
from assistant.answering.search import SearchEngine
from assistant.errors import LLMUnavailable, UsageError

# The answer modes, as the CLI, the API and the web chat name them.
MODES = ("auto", "llm", "extractive")
Answerer = ExtractiveAnswerer | GenerativeAnswerer


def check_mode(mode: str) -> str:
    """``mode`` when it is one of :data:`MODES`.

    Raises:
        UsageError: an unknown mode (the message lists the known ones).
    """
    if mode not in MODES:
        raise UsageError(f"unknown mode {mode!r} (available: {', '.join(MODES)})")
    return mode


def make_answerer(
    engine: SearchEngine, mode: str, progress: bool = False, extractive: ExtractiveAnswerer | None = None
) -> tuple[Answerer, str | None]:
    """The answerer for ``mode``, and a notice when ``auto`` had to fall back to extractive.

    Args:
        engine: the search engine to answer from.
        mode: one of ``auto``, ``llm``, ``extractive``.
        progress: show a progress bar if the bundled model's file must be assembled first.
        extractive: an extractive answerer to reuse (its caches are shared).

    Raises:
        UsageError: unknown mode.
        LLMUnavailable: ``llm`` asked for and no model can be used.
    """
    from assistant.models.chat import load_chat_model

    extractive = extractive or ExtractiveAnswerer(engine)
    if check_mode(mode) == "extractive":
        return extractive, None
    try:
        chat = load_chat_model(engine.settings, progress=progress)
    except LLMUnavailable as err:
        if mode == "llm":
            raise
        return extractive, str(err)
    return GenerativeAnswerer(engine, chat, extractive), None
