"""Chunks: structure-aware, sentence-packed passages with exact offsets in the cleaned text.

A chunk never crosses a heading; inside a section, sentences (and whole list items) are packed
up to ``size`` characters, and the next chunk repeats the last ``overlap`` sentences.

Example:
    >>> from assistant.ingest.cleaning import clean
    >>> from assistant.ingest.formats import parse_text
    >>> doc = clean(parse_text("Titre\\n\\nUne phrase. Une autre."), "a.txt", "a")
    >>> [c.text for c in chunk_document(doc, size=200, overlap=0)]
    ['Une phrase. Une autre.']
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from sentencex import segment

from assistant.ingest.cleaning import Document, PageMark
from assistant.ingest.language import detect_language

_WORD = re.compile(r"\S+")
Span = tuple[int, int]


def label(title: str, section: str) -> str:
    """Where a passage sits, as shown and searched: its document's title, then its section if different.

    >>> label("Les partenariats", "À l'international"), label("Les partenariats", "Les partenariats")
    ("Les partenariats — À l'international", 'Les partenariats')
    """
    return title if not section or section == title else f"{title} — {section}"


@dataclass(frozen=True)
class Chunk:
    """A passage of a document, as stored in the index and cited in answers."""

    id: str
    source: str
    title: str
    section: str
    start: int
    end: int
    text: str
    language: str = "fr"
    # Paged formats: the page in force at ``start``, then each page that begins inside (see ``pages_of``).
    pages: tuple[PageMark, ...] = ()

    def __post_init__(self) -> None:
        # Read back from JSON, marks are lists; a frozen, hashable chunk needs tuples.
        object.__setattr__(self, "pages", tuple((int(o), int(p), bool(r)) for o, p, r in self.pages))

    def pages_of(self, start: int, end: int) -> list[PageMark]:
        """The page marks covering the document span ``[start, end)`` of this passage (none when not paged).

        >>> chunk = Chunk("a", "r.pdf", "R", "", 0, 40, "x" * 40, pages=((0, 3, False), (20, 4, True)))
        >>> [p for _, p, _ in chunk.pages_of(5, 15)], [p for _, p, _ in chunk.pages_of(15, 30)]
        ([3], [3, 4])
        """
        return marks_within(list(self.pages), start, end)

    def embedding_text(self) -> str:
        """The text that is embedded and searched: passage plus where it sits in its document."""
        return f"{label(self.title, self.section)}\n{self.text}"

    def slice(self, start: int, end: int) -> str:
        """The passage's text between two document offsets."""
        return self.text[start - self.start : end - self.start]

    def sentences(self) -> list[Span]:
        """The passage's sentences as document offsets (the whole passage when it has none)."""
        return sentences_or_whole(self.text, self.start)

    def sentence_units(self) -> list[Span]:
        """The passage's sentences, each opening with a pronoun joined to the sentence before it in its paragraph
        (« Elle publie une revue. » is read with the sentence that says who « Elle » is)."""
        spans = self.sentences()
        units = []
        for i, (start, end) in enumerate(spans):
            before = spans[i - 1] if i else None
            joined = (
                before is not None
                and opens_with_pronoun(self.slice(start, end))
                and "\n" not in self.slice(before[1], start)
            )
            units.append((before[0] if joined and before else start, end))
        return units

    def sentence_texts(self) -> list[str]:
        """Every text answering reads and embeds in this passage: its sentences and its sentence units."""
        spans = dict.fromkeys([*self.sentences(), *self.sentence_units()])
        return [self.slice(start, end) for start, end in spans]

    def metadata(self) -> dict[str, str | int]:
        meta: dict[str, str | int] = {
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "start": self.start,
            "end": self.end,
            "language": self.language,
        }
        return meta | ({"page": self.pages[0][1]} if self.pages else {})


def marks_within(marks: list[PageMark], start: int, end: int) -> list[PageMark]:
    """The page in force at ``start`` (its mark moved to ``start``) and each page that begins before ``end``.

    >>> marks_within([(0, 1, False), (50, 2, False), (90, 3, False)], 60, 95)
    [(60, 2, False), (90, 3, False)]
    """
    at = bisect.bisect_right([m[0] for m in marks], start)
    first = [(start, *marks[at - 1][1:])] if at else []
    return first + [m for m in marks[at:] if m[0] < end]


def sentence_spans(text: str, start: int = 0, language: str = "fr") -> list[Span]:
    """Sentence boundaries of ``text`` as (start, end) offsets, shifted by ``start``.

    Trailing spaces are excluded so a span is exactly the sentence.

    >>> sentence_spans("Une phrase.  Une autre.", 100)
    [(100, 111), (113, 123)]
    """
    spans: list[Span] = []
    offset = 0
    for sentence in segment(language, text):
        begin = text.find(sentence, offset) if sentence else -1
        if begin < 0:
            continue
        stripped = sentence.strip()
        if stripped:
            lead = len(sentence) - len(sentence.lstrip())
            spans.append((start + begin + lead, start + begin + lead + len(stripped)))
        offset = begin + len(sentence)
    return spans


_PRONOUN_START = re.compile(r"^\W*(il|elle|ils|elles|celui-ci|celle-ci|ceux-ci|celles-ci|it|they|he|she)\b", re.I)


def opens_with_pronoun(sentence: str) -> bool:
    """Whether ``sentence`` opens with a pronoun: what it is about is in the sentence before it.

    >>> opens_with_pronoun("Elle publie une revue."), opens_with_pronoun("L’ISPCAN publie une revue.")
    (True, False)
    """
    return _PRONOUN_START.match(sentence) is not None


def sentences_or_whole(text: str, start: int = 0) -> list[Span]:
    """:func:`sentence_spans`, or the whole of ``text`` as one span when it has no sentence.

    >>> sentences_or_whole("   ", 5)
    [(5, 8)]
    """
    return sentence_spans(text, start) or [(start, start + len(text))]


def overlaps(a: Span, b: Span) -> bool:
    """Whether two spans of one text share a character.

    >>> overlaps((0, 5), (4, 9)), overlaps((0, 5), (5, 9))
    (True, False)
    """
    return a[0] < b[1] and b[0] < a[1]


def _split_long(text: str, start: int, end: int, size: int) -> Iterator[tuple[int, int]]:
    """Cut an over-long unit at word boundaries (no sentence end to use)."""
    piece_start = piece_end = start
    for match in _WORD.finditer(text, start, end):
        if match.end() - piece_start > size and piece_end > piece_start:
            yield piece_start, piece_end
            piece_start = match.start()
        piece_end = match.end()
    if piece_end > piece_start:
        yield piece_start, piece_end


def _units(doc: Document, blocks: list[tuple[int, int, str]], size: int) -> list[tuple[int, int]]:
    """Packing units of a section: sentences of paragraphs, whole list items when they fit."""
    units: list[tuple[int, int]] = []
    for start, end, kind in blocks:
        spans = [(start, end)] if kind == "item" and end - start <= size else sentence_spans(doc.text[start:end], start)
        for s, e in spans:
            units.extend(_split_long(doc.text, s, e, size) if e - s > size else [(s, e)])
    return units


def _pack(units: list[tuple[int, int]], size: int, overlap: int) -> Iterator[tuple[int, int]]:
    i = 0
    while i < len(units):
        j = i + 1
        while j < len(units) and units[j][1] - units[i][0] <= size:
            j += 1
        yield units[i][0], units[j - 1][1]
        if j >= len(units):
            return
        # Step back by `overlap` sentences, but always move forward, and only when the next
        # unit still fits beside the repeated ones (else the chunk would be all repetition).
        i = max(j - overlap, i + 1)
        if units[j][1] - units[i][0] > size:
            i = j


def _sections(doc: Document) -> Iterator[tuple[str, list[tuple[int, int, str]]]]:
    heading = ""
    body: list[tuple[int, int, str]] = []
    for block in doc.blocks:
        if block.kind == "heading":
            if body:
                yield heading, body
            heading, body = doc.block_text(block), []
        else:
            body.append((block.start, block.end, block.kind))
    if body:
        yield heading, body


def chunk_document(doc: Document, size: int, overlap: int) -> list[Chunk]:
    """Split a document into chunks; ids are deterministic (content hash + position)."""
    if size < 50:
        raise ValueError(f"chunk size must be at least 50 characters, got {size}")
    prefix = doc.content_hash[:16]
    language = detect_language(doc.text[:5000])
    marks = doc.page_marks()
    chunks: list[Chunk] = []
    for section, blocks in _sections(doc):
        for start, end in _pack(_units(doc, blocks, size), size, overlap):
            chunk_id = f"{prefix}-{len(chunks):05d}"
            pages = tuple(marks_within(marks, start, end))
            text = doc.text[start:end]
            chunks.append(Chunk(chunk_id, doc.source, doc.title, section, start, end, text, language, pages))
    return chunks
