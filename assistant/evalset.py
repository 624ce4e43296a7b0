"""Evaluation items (``eval/questions.jsonl``) and where their evidence lies in the corpus.

Evidence is given as quotes from the documents, so it survives any re-chunking: a chunk is
relevant to an item when it overlaps one of the item's evidence spans.

Example:
    >>> items = load_items(Path("eval/questions.jsonl"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.chunks import Chunk
from assistant.cleaning import Document, normalize


@dataclass(frozen=True)
class Span:
    source: str
    start: int
    end: int


@dataclass
class Item:
    """One evaluation question with its gold answer and evidence."""

    id: str
    question: str
    history: list[str] = field(default_factory=list)
    reference_answer: str = ""
    facts: list[list[str]] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def answerable(self) -> bool:
        return bool(self.evidence)


def load_items(path: Path) -> list[Item]:
    """Read a JSONL question set; a bad line names its number."""
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                items.append(Item(**json.loads(line)))
            except (ValueError, TypeError) as err:
                raise ValueError(f"{path}:{number}: not a valid evaluation item ({err})") from err
    return items


def locate(evidence: list[Any], documents: list[Document]) -> list[Span]:
    """Spans of the evidence: quotes are searched in every document; dicts give doc + offsets,
    or doc + quote (searched in that document only).

    Raises:
        ValueError: a quote that is in no document (the set no longer matches the corpus).
    """
    spans: list[Span] = []
    for entry in evidence:
        if isinstance(entry, dict) and "quote" in entry:  # a quote inside one named document
            spans.extend(_quote_in(normalize(str(entry["quote"])), entry["source"], documents))
            continue
        if isinstance(entry, dict):
            spans.append(Span(entry["source"], int(entry["start"]), int(entry["end"])))
            continue
        quote = normalize(str(entry))
        found = [Span(d.source, i, i + len(quote)) for d in documents if (i := d.text.find(quote)) >= 0]
        if not found:
            raise ValueError(f"evidence not found in the corpus: {quote[:80]!r}")
        spans.extend(found)
    return spans


def _quote_in(quote: str, source: str, documents: list[Document]) -> list[Span]:
    doc = next((d for d in documents if d.source == source), None)
    start = doc.text.find(quote) if doc is not None else -1
    if doc is None or start < 0:
        raise ValueError(f"evidence not found in {source}: {quote[:80]!r}")
    return [Span(source, start, start + len(quote))]


def relevant(chunk: Chunk, spans: list[Span]) -> bool:
    return any(s.source == chunk.source and s.start < chunk.end and chunk.start < s.end for s in spans)
