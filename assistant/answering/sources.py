"""Search limited to chosen documents: glob patterns over corpus paths (``--source``, the ``/ask`` API's
``sources``, the web chat's document picker).

A pattern is matched against a document's path relative to the corpus (POSIX separators): ``*.pdf``,
``rapports/*``, or a folder's name alone (``rapports`` covers everything under it).

Example:
    >>> chosen(["rapports/2024.pdf", "rapports/2023.pdf", "onpe.txt"], ("rapports",))
    ['rapports/2023.pdf', 'rapports/2024.pdf']
    >>> chosen(["rapports/2024.pdf", "onpe.txt"], ("*.txt", "absent.md"))
    ['onpe.txt']
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence

from assistant.errors import QuestionError

MAX_PATTERNS = 200
MAX_PATTERN_CHARS = 500


def clean_patterns(patterns: object) -> tuple[str, ...]:
    """The patterns a caller gave, trimmed and deduplicated ("" or none: the whole corpus).

    Raises:
        QuestionError: not a list of strings, too many, or too long.
    """
    if patterns is None:
        return ()
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, Sequence) or not all(isinstance(p, str) for p in patterns):
        raise QuestionError("sources must be a list of file names or patterns")
    if len(patterns) > MAX_PATTERNS or any(len(p) > MAX_PATTERN_CHARS for p in patterns):
        raise QuestionError(f"too many or too long source patterns (at most {MAX_PATTERNS})")
    return tuple(dict.fromkeys(p.strip().strip("/") for p in patterns if p.strip().strip("/")))


def matches(source: str, pattern: str) -> bool:
    """Whether ``source`` (a corpus path) is chosen by ``pattern``: a glob, or a folder that holds it."""
    return fnmatch.fnmatchcase(source, pattern) or source.startswith(pattern.rstrip("/") + "/")


def chosen(sources: Iterable[str], patterns: Sequence[str]) -> list[str]:
    """The indexed ``sources`` that any of ``patterns`` chooses, sorted."""
    return sorted({s for s in sources if any(matches(s, p) for p in patterns)})


def folders(sources: Iterable[str]) -> list[str]:
    """Every folder that holds indexed documents (what a user may pick besides single documents).

    >>> folders(["a/b/c.pdf", "a/d.txt", "e.md"])
    ['a', 'a/b']
    """
    found = {"/".join(parts[:i]) for s in sources if len(parts := s.split("/")) > 1 for i in range(1, len(parts))}
    return sorted(found)
