"""Sentence vectors, embedded at index time and stored with the snapshot.

Answering reads the best passages sentence by sentence (answerability, quote choice, the claim check) and
compares each sentence with the question. Embedding them when a question comes was most of an extractive
answer's time (retrieval with answerability 182 ms at 400 paragraphs, against 19 ms for the search alone):
they are embedded once, when their passage is indexed, and a reindex embeds only sentences it has not seen.

Stored in the snapshot as ``sentences.json`` (the texts, in order) and ``sentences.npy`` (one float32 row
per text, read without pickle).

Example (``embeddings`` the index's embedder):
    >>> from assistant.ingest.chunks import Chunk
    >>> chunk = Chunk("a", "d.txt", "T", "", 0, 35, "L’ONPE est membre d’ESN. Il publie.")
    >>> vectors, embedded = embed_sentences([chunk], embeddings.embed_array, {}, progress=False)
    >>> sorted(vectors), embedded
    (['Il publie.', 'L’ONPE est membre d’ESN.', 'L’ONPE est membre d’ESN. Il publie.'], 3)
    >>> embed_sentences([chunk], embeddings.embed_array, vectors, progress=False)[1]
    0
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from tqdm import tqdm

from assistant.ingest.chunks import Chunk

TEXTS, MATRIX = "sentences.json", "sentences.npy"
EMBED_BATCH = 128


def embed_sentences(
    chunks: list[Chunk],
    embed: Callable[[list[str]], np.ndarray],
    known: Mapping[str, np.ndarray],
    progress: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, np.ndarray], int]:
    """The vector of every sentence (and sentence unit) of ``chunks``, reusing ``known`` ones; and how many
    were embedded. ``on_progress(done, total)`` follows the embedding (the web chat's progress bar)."""
    texts = dict.fromkeys(t for chunk in chunks for t in chunk.sentence_texts())
    vectors = {t: known[t] for t in texts if t in known}
    # By length: each batch pads to its longest text.
    missing = sorted((t for t in texts if t not in vectors), key=len)
    shown = progress and bool(missing)
    with tqdm(total=len(missing), desc="Embedding sentences", unit="sentence", disable=not shown) as bar:
        for i in range(0, len(missing), EMBED_BATCH):
            batch = missing[i : i + EMBED_BATCH]
            vectors.update(zip(batch, embed(batch), strict=True))
            bar.update(len(batch))
            if on_progress:
                on_progress(i + len(batch), len(missing))
    return vectors, len(missing)


def save(directory: Path, vectors: Mapping[str, np.ndarray]) -> None:
    """Write ``vectors`` into a snapshot ``directory`` (flushed to disk: the snapshot's commit follows)."""
    texts = list(vectors)
    matrix = np.stack([vectors[t] for t in texts]).astype(np.float32) if texts else np.zeros((0, 0), np.float32)
    with (directory / MATRIX).open("wb") as handle:
        np.save(handle, matrix, allow_pickle=False)
        handle.flush()
        os.fsync(handle.fileno())
    with (directory / TEXTS).open("w", encoding="utf-8") as handle:
        json.dump(texts, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())


def saved(directory: Path) -> bool:
    """Whether ``directory`` holds both files."""
    return (directory / TEXTS).is_file() and (directory / MATRIX).is_file()


def rows(directory: Path) -> int | None:
    """How many vectors the saved matrix holds, read from its header only (None when it is unreadable)."""
    try:
        with (directory / MATRIX).open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(handle)
    except (OSError, ValueError, EOFError):
        return None
    return int(shape[0]) if len(shape) == 2 and dtype == np.float32 else None


def load(directory: Path) -> dict[str, np.ndarray]:
    """The vectors saved in a snapshot ``directory``; empty for a snapshot written before they were stored.

    Raises:
        ValueError: the files are damaged (texts and rows disagree, not a float matrix).
        OSError: they cannot be read.
    """
    if not saved(directory):
        return {}
    texts = json.loads((directory / TEXTS).read_text(encoding="utf-8"))
    try:
        matrix = np.load(directory / MATRIX, allow_pickle=False)
    except EOFError as err:  # an empty or truncated file
        raise ValueError("sentence vectors: the matrix is truncated") from err
    if matrix.ndim != 2 or matrix.dtype != np.float32:
        raise ValueError("sentence vectors: not a float32 matrix")
    if not isinstance(texts, list) or len(texts) != len(matrix):
        raise ValueError("sentence vectors: texts and rows disagree")
    return dict(zip(texts, matrix, strict=True))
