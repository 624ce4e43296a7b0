"""Sync: bring the persisted index in line with the corpus, re-embedding only what changed.

Write order, chosen so that a run killed at any point (even ``kill -9``) leaves an index that
answers with either the old or the new state, and so that the next run converges:

1. add the vectors of new or changed chunks (ids derive from content, so re-adding is idempotent);
2. commit a snapshot (chunks + BM25) that lists exactly the corpus's chunks — the commit point;
3. delete vectors no snapshot lists any more, drop old collections and snapshots.

Example (``settings`` name the ONPE corpus, already indexed):
    >>> report = sync(settings, progress=False)
    >>> report.summary()  # doctest: +ELLIPSIS
    '2 documents (0 added, 0 updated, 0 deleted, 2 unchanged), 27 chunks, 0 embedded, 0 skipped, in ... s'
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chromadb.api import ClientAPI
from langchain_chroma import Chroma
from tqdm import tqdm

from assistant.config import Settings
from assistant.errors import IndexBroken, IndexMissing, StoreError
from assistant.indexing import background, sentence_vectors, snapshot, vectors
from assistant.indexing.lexical import VERSION as LEXICAL_VERSION
from assistant.indexing.lexical import LexicalIndex
from assistant.indexing.locks import held, writer_busy, writer_lock
from assistant.ingest.chunks import Chunk, chunk_document
from assistant.ingest.cleaning import Document
from assistant.ingest.corpus import Skipped, load_corpus
from assistant.models.embeddings import SentenceTransformerEmbeddings, load_embeddings

# Bump when chunking changes in a way that must re-embed everything.
CHUNKER_VERSION = 1
EMBED_BATCH = 128
# on_progress(done, total, what): embedding progress, ``what`` being "chunks" then "sentences".
Progress = Callable[[int, int, str], None]


@dataclass
class IndexReport:
    """What an indexing run did, in documents (and chunks embedded)."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    # Documents indexed only in part (scanned pages without OCR…), with what was left out.
    partial: list[Skipped] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    sentences: int = 0  # sentence vectors embedded
    seconds: float = 0.0
    note: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped],
            "partial": [{"source": s.source, "reason": s.reason} for s in self.partial],
            "chunks": self.chunks,
            "embedded": self.embedded,
            "sentences_embedded": self.sentences,
            "seconds": round(self.seconds, 3),
        }

    def summary(self) -> str:
        documents = self.added + self.updated + self.unchanged
        text = (
            f"{documents} documents ({self.added} added, {self.updated} updated, {self.deleted} deleted, "
            f"{self.unchanged} unchanged), {self.chunks} chunks, {self.embedded} embedded, "
            f"{len(self.skipped)} skipped, in {self.seconds:.1f} s"
        )
        return f"{text}\n{self.note}" if self.note else text


def _entry(doc: Document, previous: snapshot.Meta | None) -> dict[str, object]:
    """What the snapshot says of a document (the library lists it): its hash, title, size, pages, when indexed."""
    before = previous.documents.get(doc.source, {}) if previous else {}
    indexed = before.get("indexed") if before.get("hash") == doc.content_hash else None
    return {
        "hash": doc.content_hash,
        "title": doc.title,
        "chars": len(doc.text),
        "pages": max((b.page for b in doc.blocks), default=0),
        "ocr": any(b.ocr for b in doc.blocks),
        "notes": list(doc.notes),
        "indexed": indexed or round(time.time(), 3),
    }


# OCR results, by PDF content and page: a reindex does not read a scanned page twice.
OCR_CACHE = "ocr"


def fingerprint(settings: Settings, embedder: str) -> str:
    """What the vectors depend on: the embedder and the chunking."""
    key = f"{embedder}|{settings.chunk_size}|{settings.chunk_overlap}|{CHUNKER_VERSION}"
    return hashlib.sha256(key.encode()).hexdigest()


def _previous_meta(index_dir: Path, rebuild: bool) -> snapshot.Meta | None:
    if rebuild:
        return None
    try:
        return snapshot.load_meta(index_dir)
    except (IndexMissing, IndexBroken):
        return None


def _count_changes(report: IndexReport, previous: snapshot.Meta | None, documents: list[Document]) -> None:
    before = previous.documents if previous else {}
    for doc in documents:
        if doc.source not in before:
            report.added += 1
        elif before[doc.source].get("hash") != doc.content_hash:
            report.updated += 1
        else:
            report.unchanged += 1
    report.deleted = len(set(before) - {doc.source for doc in documents})


def _embed_missing(chroma: Chroma, chunks: list[Chunk], progress: bool, on_progress: Progress | None) -> int:
    present = vectors.present_ids(chroma, [c.id for c in chunks])
    # By length: each batch pads to its longest text, so similar lengths waste no compute.
    missing = sorted((c for c in chunks if c.id not in present), key=lambda c: len(c.embedding_text()))
    with tqdm(total=len(missing), desc="Embedding", unit="chunk", disable=not progress or not missing) as bar:
        for i in range(0, len(missing), EMBED_BATCH):
            batch = missing[i : i + EMBED_BATCH]
            chroma.add_texts(
                [c.embedding_text() for c in batch], metadatas=[c.metadata() for c in batch], ids=[c.id for c in batch]
            )
            bar.update(len(batch))
            if on_progress:
                on_progress(i + len(batch), len(missing), "chunks")
    return len(missing)


def _collection_for(previous: snapshot.Meta | None, print_: str, namespace: str) -> str:
    if previous and previous.fingerprint == print_:
        return previous.collection
    # A new name when settings changed or on rebuild: the old collection keeps answering until commit.
    return f"{vectors.COLLECTION_PREFIX}{namespace}-{print_[:12]}-{int(time.time() * 1000) % 10**10}"


def sync(
    settings: Settings,
    rebuild: bool = False,
    embeddings: SentenceTransformerEmbeddings | None = None,
    progress: bool = True,
    on_progress: Progress | None = None,
) -> IndexReport:
    """Index ``settings.corpus`` into ``settings.index_dir`` (one writer at a time).

    ``on_progress`` follows the embedding (:data:`Progress`).

    Raises:
        IndexBusy: another process holds the writer lock.
    """
    started = time.perf_counter()
    with held(writer_lock(settings.index_dir), writer_busy(settings.index_dir)):
        report = _sync_locked(settings, rebuild, embeddings, progress, on_progress)
    report.seconds = time.perf_counter() - started
    return report


def _sync_locked(
    settings: Settings,
    rebuild: bool,
    embeddings: SentenceTransformerEmbeddings | None,
    progress: bool,
    on_progress: Progress | None,
) -> IndexReport:
    documents, skipped = load_corpus(settings.corpus, settings.max_file_mb, settings.index_dir / OCR_CACHE)
    embeddings = embeddings or load_embeddings(settings.embedder, settings.batch_size)
    previous = _previous_meta(settings.index_dir, rebuild)
    partial = [Skipped(d.source, note) for d in documents for note in d.notes]
    report = IndexReport(skipped=skipped, partial=partial)
    _count_changes(report, previous, documents)
    client = _fresh_client(settings) if rebuild else vectors.open_client(settings.index_dir, settings.chroma_url)
    print_ = fingerprint(settings, embeddings.identity)
    if previous and previous.fingerprint != print_:
        report.note = f"embedder or chunking changed (was {previous.embedder}): every chunk re-embedded"
    collection = _collection_for(previous, print_, vectors.namespace(settings.index_dir))
    chroma = vectors.vector_store(client, collection, embeddings)

    chunks = [c for doc in documents for c in chunk_document(doc, settings.chunk_size, settings.chunk_overlap)]
    report.embedded = _embed_missing(chroma, chunks, progress, on_progress)
    meta = snapshot.Meta(
        embedder=embeddings.identity,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        fingerprint=print_,
        collection=collection,
        documents={d.source: _entry(d, previous) for d in documents},
        lexical=LEXICAL_VERSION,
        skipped=[{"source": s.source, "reason": s.reason} for s in skipped],
    )
    report.chunks = len(chunks)
    # Nothing changed: the committed snapshot stays (readers reload nothing); garbage is still collected.
    # A damaged snapshot (BM25 deleted or stale…) is written again, as is one measured with other probes.
    if not (
        previous
        and not report.embedded
        and (previous.fingerprint, previous.documents, previous.lexical, previous.skipped)
        == (print_, meta.documents, meta.lexical, meta.skipped)
        and previous.background.get("version") == background.VERSION
        and snapshot.intact(settings.index_dir, previous.sentences)
    ):
        meta.background = background.measure(chroma, embeddings)
        lexical = LexicalIndex.build([c.embedding_text() for c in chunks])
        # Vectors depend on the embedder: another one's are not reused.
        same = previous is not None and previous.fingerprint == print_
        known = snapshot.reusable_sentences(settings.index_dir) if same else {}
        follow = None if on_progress is None else lambda done, total: on_progress(done, total, "sentences")
        sentences, report.sentences = sentence_vectors.embed_sentences(
            chunks, embeddings.embed_array, known, progress, follow
        )
        meta.sentences = len(sentences)
        snapshot.commit(settings.index_dir, meta, chunks, lexical, documents, sentences=sentences)

    wanted = {c.id for c in chunks}
    vectors.delete_ids(chroma, [i for i in vectors.all_ids(chroma) if i not in wanted])
    vectors.drop_other_collections(
        client, keep=collection, prefix=vectors.owned_prefix(settings.index_dir, settings.chroma_url)
    )
    snapshot.prune(settings.index_dir)
    return report


def _fresh_client(settings: Settings) -> ClientAPI:
    """For ``--rebuild``: the existing store if it opens, else a new empty one (a server is never wiped)."""
    index_dir = settings.index_dir
    if settings.chroma_url:
        return vectors.open_client(index_dir, settings.chroma_url)
    try:
        return vectors.open_client(index_dir)
    except StoreError:
        shutil.rmtree(vectors.chroma_dir(index_dir), ignore_errors=True)
        (index_dir / "CURRENT").unlink(missing_ok=True)
        return vectors.open_client(index_dir)
