"""Evaluation items (``eval/questions.jsonl``), where their evidence lies in the corpus, and what each gave.

Evidence is given as quotes from the documents, so it survives any re-chunking: a chunk is
relevant to an item when it overlaps one of the item's evidence spans.

Example:
    >>> from assistant.ingest.cleaning import Document
    >>> docs = [Document("a.txt", "A", "L’ONPE est membre d’ESN. Il participe à EUSARF.", ())]
    >>> item = Item("q1", "Quels réseaux ?", evidence=["Il participe à EUSARF."])
    >>> spans = locate(item.evidence, docs)
    >>> spans, spans[0].overlaps("a.txt", 0, 30)
    ([EvidenceSpan(source='a.txt', start=25, end=47)], True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import DatasetError
from assistant.ingest.chunks import Chunk, overlaps
from assistant.ingest.cleaning import Document, normalize


@dataclass(frozen=True)
class EvidenceSpan:
    """Where a piece of evidence lies: a document and character offsets in its cleaned text."""

    source: str
    start: int
    end: int

    def overlaps(self, source: str, start: int, end: int) -> bool:
        """Whether the span ``[start, end)`` of ``source`` shares a character with this one."""
        return source == self.source and overlaps((self.start, self.end), (start, end))


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
                raise DatasetError(f"{path}:{number}: not a valid evaluation item ({err})") from err
    return items


def locate(evidence: list[Any], documents: list[Document]) -> list[EvidenceSpan]:
    """Spans of the evidence: quotes are searched in every document; dicts give doc + offsets,
    or doc + quote (searched in that document only).

    Raises:
        DatasetError: a quote that is in no document (the set no longer matches the corpus).
    """
    spans: list[EvidenceSpan] = []
    for entry in evidence:
        if isinstance(entry, dict) and "quote" in entry:  # a quote inside one named document
            spans.extend(_quote_in(normalize(str(entry["quote"])), entry["source"], documents))
            continue
        if isinstance(entry, dict):
            spans.append(EvidenceSpan(entry["source"], int(entry["start"]), int(entry["end"])))
            continue
        quote = normalize(str(entry))
        found = [EvidenceSpan(d.source, i, i + len(quote)) for d in documents if (i := d.text.find(quote)) >= 0]
        if not found:
            raise DatasetError(f"evidence not found in the corpus: {quote[:80]!r}")
        spans.extend(found)
    return spans


def _quote_in(quote: str, source: str, documents: list[Document]) -> list[EvidenceSpan]:
    doc = next((d for d in documents if d.source == source), None)
    start = doc.text.find(quote) if doc is not None else -1
    if doc is None or start < 0:
        raise DatasetError(f"evidence not found in {source}: {quote[:80]!r}")
    return [EvidenceSpan(source, start, start + len(quote))]


def relevant(chunk: Chunk, spans: list[EvidenceSpan]) -> bool:
    """Whether ``chunk`` overlaps one of the evidence ``spans``."""
    return any(s.overlaps(chunk.source, chunk.start, chunk.end) for s in spans)


@dataclass
class ItemResult:
    """What one question gave: ranks, answer quality, citations, timings."""

    id: str
    lang: str
    kind: str
    answerable: bool
    abstained: bool
    relevance: float
    confidence: float
    rank: int | None = None  # first relevant passage, ours (None: not in the top 10)
    baseline_rank: int | None = None
    baseline_score: float | None = None  # the baseline's best cosine (what it could abstain on)
    # Same, counting documents (a paragraph, for SQuAD data): each document at its best passage's rank.
    doc_rank: int | None = None
    baseline_doc_rank: int | None = None
    fact_recall: float = 0.0
    f1: float = 0.0
    crag: int = 0
    citations_valid: bool = True
    citation_precision: float | None = None
    citation_recall: float | None = None
    retrieve_ms: float = 0.0
    answer_ms: float = 0.0
    mode: str = "extractive"
    answer: str = ""
    corpus: str = ""  # which corpus it was asked of, when a run spans several (the realistic suite)
    missing: list[str] = field(default_factory=list)  # key words the answer said the documents never use
    # For reading answers by hand: the question, each claim's status, each citation's quoted sentence.
    question: str = ""
    claims: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)
    ranking: list[tuple[str, float]] = field(default_factory=list)
    relevant_ids: list[str] = field(default_factory=list)
