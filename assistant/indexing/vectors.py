"""The vectors: Chroma, reached through LangChain's ``langchain_chroma.Chroma``.

One collection per (embedder, chunking) fingerprint, created with cosine distance. The embedded
store lives in ``<index>/chroma``; with a URL, a Chroma server (``chroma run``) holds the vectors,
and the index directory keeps the committed snapshot (chunks, BM25). Collection names carry the
index's namespace, so several indexes can share one server without touching each other.

Example (``tmp`` an index directory, ``embeddings`` the embedder):
    >>> store = vector_store(open_client(tmp), f"{COLLECTION_PREFIX}{namespace(tmp)}-demo", embeddings)
    >>> store.add_texts(["L’ONPE est membre d’ESN."], ids=["a"])
    ['a']
    >>> present_ids(store, ["a", "b"]), all_ids(store)
    ({'a'}, ['a'])
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from assistant.errors import StoreError, short_message

COLLECTION_PREFIX = "chunks-"
# Chroma limits one call's batch; staying well below it keeps memory flat too.
ID_BATCH = 2000


def chroma_dir(index_dir: Path) -> Path:
    return index_dir / "chroma"


def namespace(index_dir: Path) -> str:
    """This index's collection-name prefix (made once, kept in ``<index>/NAMESPACE``)."""
    path = index_dir / "NAMESPACE"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        index_dir.mkdir(parents=True, exist_ok=True)
        made = secrets.token_hex(4)
        path.write_text(made + "\n", encoding="utf-8")
        return made


def owned_prefix(index_dir: Path, url: str | None) -> str:
    """Collections this index may delete: all ours in its own store, its namespace's on a server."""
    return f"{COLLECTION_PREFIX}{namespace(index_dir)}-" if url else COLLECTION_PREFIX


def open_client(index_dir: Path, url: str | None = None) -> ClientAPI:
    """The Chroma client: embedded in ``index_dir``, or the server at ``url`` (telemetry off either way).

    Raises:
        StoreError: the store cannot be opened, or the server cannot be reached.
    """
    if url:
        return _http_client(url)
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True, is_persistent=True)
    try:
        return chromadb.PersistentClient(path=str(chroma_dir(index_dir)), settings=settings)
    except Exception as err:  # Chroma raises many types for a damaged store
        # Chroma caches a store per path before starting it: a failed start would stay cached, and
        # every later open in this process (the rebuild's) would get the broken one.
        SharedSystemClient.clear_system_cache()
        reason = short_message(err)
        raise StoreError(
            f"cannot open the Chroma store in {chroma_dir(index_dir)} ({err.__class__.__name__}: {reason}): "
            "if it is damaged, run `assistant index --rebuild`"
        ) from err


def _http_client(url: str) -> ClientAPI:
    parts = urlsplit(url)
    ssl = parts.scheme == "https"
    try:
        client = chromadb.HttpClient(
            host=parts.hostname or "127.0.0.1", port=parts.port or (443 if ssl else 8000), ssl=ssl,
            settings=ChromaSettings(anonymized_telemetry=False),
        )  # fmt: skip
        client.heartbeat()
    except Exception as err:  # connection refused, TLS, HTTP errors: one message for the user
        raise StoreError(
            f"cannot reach the Chroma server at {url} ({err.__class__.__name__}): is `chroma run` up?"
        ) from err
    return client


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


def drop_other_collections(client: ClientAPI, keep: str, prefix: str = COLLECTION_PREFIX) -> list[str]:
    """Delete collections named ``prefix…`` other than ``keep`` (left by another embedder or a rebuild)."""
    dropped = []
    for collection in client.list_collections():
        name = collection if isinstance(collection, str) else collection.name
        if name.startswith(prefix) and name != keep:
            client.delete_collection(name)
            dropped.append(name)
    return dropped
