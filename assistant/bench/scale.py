"""A large store for query-cost measurements, built from a real index without re-embedding.

Embedding 100 k chunks takes hours on 2 cores, so the scaled store repeats the real index's
chunks (real text, each copy under its own ``copyNNN/`` source) with the real vectors plus small
Gaussian noise (``NOISE`` per dimension, renormalised: ~0.995 cosine to the original). Copy 0 is
unperturbed. BM25 and the snapshot are built over all copies, as ``assistant index`` would.

Example (``settings`` name the indexed ONPE corpus: 27 chunks; ``tmp`` a scratch directory):
    >>> build_scaled(settings.index_dir, tmp / "scaled", 100, embeddings)
    108
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.errors import DatasetError
from assistant.indexing import snapshot, vectors
from assistant.indexing.lexical import LexicalIndex
from assistant.ingest.chunks import Chunk
from assistant.ingest.cleaning import Document
from assistant.models.embeddings import SentenceTransformerEmbeddings

NOISE = 0.005
ADD_BATCH = 4096


def _vectors(index_dir: Path, current: snapshot.Snapshot) -> np.ndarray:
    client = vectors.open_client(index_dir)
    collection = client.get_collection(current.meta.collection)
    found = collection.get(ids=[c.id for c in current.chunks], include=["embeddings"])
    stored = found["embeddings"]
    if stored is None:
        raise DatasetError(f"the index at {index_dir} returned no vectors")
    by_id = dict(zip(found["ids"], list(stored), strict=True))
    return np.asarray([by_id[c.id] for c in current.chunks], dtype=np.float32)


def _copy(current: snapshot.Snapshot, r: int) -> tuple[list[Chunk], list[Document]]:
    prefix = f"copy{r:03d}/"
    chunks = [replace(c, id=f"{c.id}-{r}", source=prefix + c.source) for c in current.chunks]
    documents = [replace(d, source=prefix + d.source) for d in current.documents.values()]
    return chunks, documents


def build_scaled(source: Path, target: Path, size: int, embeddings: SentenceTransformerEmbeddings) -> int:
    """Write at ``target`` an index of at least ``size`` chunks made from ``source``'s; returns its size."""
    current = snapshot.load(source)
    if not current.chunks:
        raise DatasetError(f"the index at {source} is empty: nothing to scale")
    base = _vectors(source, current)
    copies = math.ceil(size / len(current.chunks))
    rng = np.random.default_rng(0)
    collection = f"{vectors.COLLECTION_PREFIX}{vectors.namespace(target)}-scaled"
    client = vectors.open_client(target)
    vectors.vector_store(client, collection, embeddings)  # creates it, with cosine distance
    chroma = client.get_collection(collection)
    chunks: list[Chunk] = []
    documents: list[Document] = []
    for r in tqdm(range(copies), desc="Scaled store", unit="copy"):
        copy_chunks, copy_documents = _copy(current, r)
        noisy = base if r == 0 else base + rng.normal(0.0, NOISE, base.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        for i in range(0, len(copy_chunks), ADD_BATCH):
            batch = copy_chunks[i : i + ADD_BATCH]
            chroma.add(
                ids=[c.id for c in batch],
                embeddings=noisy[i : i + ADD_BATCH],
                documents=[c.text for c in batch],
                metadatas=[c.metadata() for c in batch],  # type: ignore[misc]
            )
        chunks += copy_chunks
        documents += copy_documents
    meta = replace(current.meta, collection=collection, documents={d.source: {"hash": ""} for d in documents})
    lexical = LexicalIndex.build([c.embedding_text() for c in chunks])
    # Copies repeat the same sentences: the source index's sentence vectors serve them all.
    snapshot.commit(target, meta, chunks, lexical, documents, sentences=current.sentences)
    return len(chunks)
