"""The committed state of the index: which chunks answer, and how they were built.

A snapshot is a directory ``<index>/snapshots/<name>/`` holding ``meta.json``, ``chunks.jsonl``,
``documents.jsonl`` (the cleaned texts that offsets refer to), the BM25 index and the sentence vectors
(:mod:`~assistant.indexing.sentence_vectors`).
``<index>/CURRENT`` names the committed one and is replaced atomically: that rename is the commit
point of every indexing run. Readers only trust chunks listed in the committed snapshot, so vectors
written by an interrupted run never reach an answer.

Example (``settings`` name an indexed corpus):
    >>> current = load(settings.index_dir)
    >>> current.name == current_name(settings.index_dir), len(current.documents), len(current.chunks)
    (True, 2, 27)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import IndexBroken, IndexMissing
from assistant.indexing import sentence_vectors
from assistant.indexing.lexical import VERSION as LEXICAL_VERSION
from assistant.indexing.lexical import LexicalIndex
from assistant.ingest.chunks import Chunk
from assistant.ingest.cleaning import Block, Document

FORMAT_VERSION = 1
log = logging.getLogger(__name__)


@dataclass
class Meta:
    """How the snapshot was built, and what it holds per document."""

    embedder: str
    chunk_size: int
    chunk_overlap: int
    fingerprint: str
    collection: str
    created: float = field(default_factory=time.time)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = FORMAT_VERSION
    lexical: str = ""  # lexical.VERSION the BM25 side was built with
    # How unrelated questions score against this corpus (indexing.background.measure).
    background: dict[str, float] = field(default_factory=dict)
    sentences: int = 0  # sentence vectors stored (sentence_vectors), checked by intact()
    # Corpus files not indexed, with why (the web chat's document library lists them).
    skipped: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Snapshot:
    """A committed index state, loaded in memory: chunks by position, BM25 over the same order."""

    name: str
    meta: Meta
    chunks: list[Chunk]
    lexical: LexicalIndex
    documents: dict[str, Document]
    # Sentence text -> its vector, embedded at index time (empty for an index written before they were stored).
    sentences: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.position = {chunk.id: i for i, chunk in enumerate(self.chunks)}

    def chunk_at(self, source: str, start: int, end: int) -> Chunk | None:
        """The first chunk of ``source`` that contains the span ``[start, end)``."""
        return next((c for c in self.chunks if c.source == source and c.start <= start and end <= c.end), None)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def snapshots_dir(index_dir: Path) -> Path:
    return index_dir / "snapshots"


def _document_json(doc: Document) -> str:
    data = {"source": doc.source, "title": doc.title, "text": doc.text, "blocks": [asdict(b) for b in doc.blocks],
            "notes": list(doc.notes)}  # fmt: skip
    return json.dumps(data, ensure_ascii=False) + "\n"


def _document_from(data: dict[str, Any]) -> Document:
    blocks = tuple(Block(**b) for b in data["blocks"])
    return Document(data["source"], data["title"], data["text"], blocks, tuple(data.get("notes", ())))


def commit(
    index_dir: Path,
    meta: Meta,
    chunks: list[Chunk],
    lexical: LexicalIndex,
    documents: list[Document],
    *,
    sentences: dict[str, np.ndarray],
) -> str:
    """Write a snapshot next to the current one, then switch ``CURRENT`` to it atomically.

    ``sentences`` maps each sentence text to its vector (:func:`~assistant.indexing.sentence_vectors.embed_sentences`).
    """
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**9:09d}"
    root = snapshots_dir(index_dir)
    tmp = root / f"{name}.tmp"
    tmp.mkdir(parents=True)
    _write_file(tmp / "meta.json", json.dumps(asdict(meta), ensure_ascii=False, indent=1))
    _write_file(tmp / "chunks.jsonl", "".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in chunks))
    _write_file(tmp / "documents.jsonl", "".join(_document_json(d) for d in documents))
    sentence_vectors.save(tmp, sentences)
    lexical.save(tmp / "bm25")
    for path in (tmp / "bm25").iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    os.rename(tmp, root / name)
    _fsync_dir(root)
    pointer = index_dir / "CURRENT.tmp"
    _write_file(pointer, name + "\n")
    os.replace(pointer, index_dir / "CURRENT")
    _fsync_dir(index_dir)
    return name


def current_name(index_dir: Path) -> str | None:
    try:
        return (index_dir / "CURRENT").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def prune(index_dir: Path) -> None:
    """Remove snapshots other than the committed one (old ones, or left by a killed run)."""
    keep = current_name(index_dir)
    root = snapshots_dir(index_dir)
    if not root.is_dir():
        return
    for path in root.iterdir():
        if path.name != keep:
            shutil.rmtree(path, ignore_errors=True)


def current_path(index_dir: Path) -> Path | None:
    """The committed snapshot's directory (None when nothing is committed)."""
    name = current_name(index_dir)
    return None if name is None else snapshots_dir(index_dir) / name


def intact(index_dir: Path, sentences: int | None = None) -> bool:
    """Whether the committed snapshot's files are there and its BM25 covers its chunks.

    Cheap (nothing is parsed but the chunk count): an unchanged reindex, which the watcher runs
    often, uses it to decide whether the snapshot must be written again.
    """
    path = current_path(index_dir)
    if path is None:
        return False
    try:
        with (path / "chunks.jsonl").open(encoding="utf-8") as handle:
            count = sum(1 for line in handle if line.strip())
        if not (path / "documents.jsonl").is_file() or not sentence_vectors.saved(path):
            return False
        if sentences is not None and sentence_vectors.rows(path) != sentences:
            return False
    except OSError:
        return False
    return LexicalIndex.saved_size(path / "bm25") == max(count, 1)


def committed(index_dir: Path) -> Path:
    """The committed snapshot's directory.

    Raises:
        IndexMissing: nothing is committed.
    """
    path = current_path(index_dir)
    if path is None:
        raise IndexMissing(f"no index in {index_dir}: run `assistant index` first")
    return path


def load_meta(index_dir: Path, path: Path | None = None) -> Meta:
    """The committed snapshot's metadata only (cheap); ``path``: that snapshot's directory, when known."""
    path = path or committed(index_dir)
    try:
        data = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if data.get("format") != FORMAT_VERSION:
            raise ValueError("format version")
        return Meta(**data)
    except (OSError, ValueError, TypeError) as err:
        raise IndexBroken(
            f"the index in {index_dir} is damaged ({err.__class__.__name__}): run `assistant index --rebuild`"
        ) from err


def load(index_dir: Path, path: Path | None = None, meta: Meta | None = None) -> Snapshot:
    """The committed snapshot (or the one in ``path``, whose ``meta`` may already be read) with its chunks and BM25
    index, all read from one directory."""
    path = path or committed(index_dir)
    meta = meta or load_meta(index_dir, path)
    try:
        with (path / "chunks.jsonl").open(encoding="utf-8") as handle:
            chunks = [Chunk(**json.loads(line)) for line in handle if line.strip()]
        with (path / "documents.jsonl").open(encoding="utf-8") as handle:
            documents = {d.source: d for d in (_document_from(json.loads(x)) for x in handle if x.strip())}
        lexical = _lexical(path, meta, chunks)
        sentences = sentence_vectors.load(path)
    except (OSError, ValueError, TypeError, KeyError, EOFError) as err:
        raise IndexBroken(
            f"the index in {index_dir} is damaged ({err.__class__.__name__}): run `assistant index --rebuild`"
        ) from err
    return Snapshot(name=path.name, meta=meta, chunks=chunks, lexical=lexical, documents=documents, sentences=sentences)


def _lexical(path: Path, meta: Meta, chunks: list[Chunk]) -> LexicalIndex:
    """The snapshot's BM25 index; rebuilt in memory when an older tokenization made it (questions are tokenized
    the new way: « soeur » would miss « sœur »), until ``assistant index`` writes it again."""
    if meta.lexical == LEXICAL_VERSION:
        return LexicalIndex.load(path / "bm25", len(chunks))
    log.warning("the index's keyword side is from an older version: rebuilt in memory; run `assistant index`")
    return LexicalIndex.build([c.embedding_text() for c in chunks])


def reusable_sentences(index_dir: Path) -> dict[str, np.ndarray]:
    """The committed snapshot's sentence vectors, for a reindex to reuse (empty when they cannot be read)."""
    path = current_path(index_dir)
    try:
        return sentence_vectors.load(path) if path else {}
    except (OSError, ValueError):
        return {}
