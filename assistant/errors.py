"""Every error the assistant reports to a user, under one base.

The CLI catches :class:`AssistantError` and prints its message on one line with its
``exit_code``; the web chat shows the message. Messages say what happened and what to do.

Example:
    >>> try:
    ...     raise IndexMissing("no index in index/: run `assistant index` first")
    ... except AssistantError as err:
    ...     print(err.exit_code, err)
    1 no index in index/: run `assistant index` first
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error the assistant explains to its user."""

    exit_code = 1


class UsageError(AssistantError):
    """The command was called wrongly (unknown mode, malformed option, unusable question)."""

    exit_code = 2


class QuestionError(UsageError):
    """A question that cannot be answered as given (empty, too long, not text)."""


class CorpusError(AssistantError):
    """The corpus directory itself is unusable."""


class FormatError(AssistantError):
    """A file of a supported type whose content cannot be read (reported as a skip reason, never raised out)."""


class DatasetError(AssistantError):
    """A question set or benchmark dataset that cannot be used (unreadable, not SQuAD-shaped, evidence not found)."""


class EmbedderError(AssistantError):
    """The configured embedding model cannot be loaded offline."""


class ModelFileError(AssistantError):
    """The bundled model's parts are missing, or do not make the official file."""


class LLMUnavailable(AssistantError):
    """No language model can be used; the message says how to enable one."""


class StreamCut(AssistantError):
    """The model's stream ended without saying it was finished: the connection was closed mid-answer."""


class Cancelled(AssistantError):
    """The user stopped the answer while it was being written."""


class IndexMissing(AssistantError):
    """No index has been committed yet."""


class IndexBroken(AssistantError):
    """The committed index cannot be read."""


class EmbedderMismatch(AssistantError):
    """The index was built with another embedder than the configured one."""


class StoreError(AssistantError):
    """The Chroma store cannot be opened or read."""


class StoreInUse(StoreError):
    """Another process holds the embedded store (Chroma's embedded store is single-process)."""


class IndexBusy(StoreInUse):
    """Another process is writing the index."""


def short_message(err: BaseException, limit: int = 160) -> str:
    """The first line of ``err``'s message (its class name when it has none), at most ``limit`` characters.

    >>> short_message(ConnectionError("refused\\nat line 3"))
    'refused'
    >>> short_message(TimeoutError())
    'TimeoutError'
    """
    text = str(err)
    return (text.splitlines()[0] if text.strip() else err.__class__.__name__)[:limit]
