"""The vector store: Chroma, reached through LangChain's ``langchain_chroma.Chroma``.

One collection per (embedder, chunking) fingerprint, created with cosine distance. The embedded
store lives in ``<index>/chroma``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

COLLECTION_PREFIX = "chunks-"
# Chroma limits one call's batch; staying well below it keeps memory flat too.
ID_BATCH = 2000


class StoreError(RuntimeError):
    """The Chroma store cannot be opened or read."""


def chroma_dir(index_dir: Path) -> Path:
    return index_dir / "chroma"


def open_client(index_dir: Path) -> ClientAPI:
    """The embedded Chroma client for ``index_dir`` (telemetry off)."""
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True, is_persistent=True)
    try:
        return chromadb.PersistentClient(path=str(chroma_dir(index_dir)), settings=settings)
    except Exception as err:  # Chroma raises many types for a damaged store
        raise StoreError(f"cannot open the Chroma store in {chroma_dir(index_dir)} ({err.__class__.__name__})") from err


def vector_store(client: ClientAPI, name: str, embeddings: Embeddings) -> Chroma:
    """The LangChain vector store for collection ``name`` (created with cosine distance if new)."""
    if not name.startswith(COLLECTION_PREFIX):
        raise ValueError(f"collection names must start with {COLLECTION_PREFIX!r}, got {name!r}")
    return Chroma(
        collection_name=name,
        embedding_function=embeddings,
        client=client,
        collection_configuration={"hnsw": {"space": "cosine"}},
    )


def _batches(items: list[str], size: int = ID_BATCH) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def present_ids(store: Chroma, ids: list[str]) -> set[str]:
    """Which of ``ids`` the collection already holds."""
    found: set[str] = set()
    for batch in _batches(ids):
        found.update(store.get(ids=batch, include=[])["ids"])
    return found


def all_ids(store: Chroma) -> list[str]:
    ids: list[str] = []
    offset = 0
    while True:
        page = store.get(include=[], limit=ID_BATCH, offset=offset)["ids"]
        ids.extend(page)
        if len(page) < ID_BATCH:
            return ids
        offset += ID_BATCH


def delete_ids(store: Chroma, ids: list[str]) -> None:
    for batch in _batches(ids):
        store.delete(ids=batch)


def drop_other_collections(client: ClientAPI, keep: str) -> list[str]:
    """Delete our collections other than ``keep`` (left by another embedder or a rebuild)."""
    dropped = []
    for collection in client.list_collections():
        name = collection if isinstance(collection, str) else collection.name
        if name.startswith(COLLECTION_PREFIX) and name != keep:
            client.delete_collection(name)
            dropped.append(name)
    return dropped
