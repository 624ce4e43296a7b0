"""Sentence vectors embedded at index time: answers embed no passage sentence, a reindex only new ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import SearchEngine
from assistant.config import Settings
from assistant.errors import IndexBroken
from assistant.indexing import sentence_vectors, snapshot
from assistant.indexing.sync import sync
from assistant.models.embeddings import SentenceTransformerEmbeddings

MakeSettings = Callable[..., Settings]


def _counting(engine: SearchEngine) -> list[str]:
    """The passage sentences the engine embeds from now on (its cache's embed function, spied on)."""
    seen: list[str] = []
    embed = engine.sentence_vectors._embed

    def spy(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return embed(texts)

    engine.sentence_vectors._embed = spy
    return seen


def _current(settings: Settings) -> Path:
    return snapshot.snapshots_dir(settings.index_dir) / str(snapshot.current_name(settings.index_dir))


def test_answers_embed_no_passage_sentence_and_reindex_embeds_only_new_ones(
    corpus_copy: Path, make_settings: MakeSettings, embeddings: SentenceTransformerEmbeddings
) -> None:
    settings = make_settings(corpus_copy)
    first = sync(settings, embeddings=embeddings, progress=False)
    engine = SearchEngine.open(settings, embeddings)
    texts = {t for c in engine.snapshot.chunks for t in c.sentence_texts()}
    assert set(engine.snapshot.sentences) == texts and first.sentences == len(texts)
    # The stored vectors are the embedder's own.
    sample = sorted(texts)[:3]
    stored = np.stack([engine.snapshot.sentences[t] for t in sample])
    assert np.allclose(stored, embeddings.embed_array(sample), atol=1e-5)

    engine.forget()  # as for a new question: only the index's vectors are left
    seen = _counting(engine)
    answer = ExtractiveAnswerer(engine).ask("Depuis quand les Assises existent-elles ?")
    assert "2006" in answer.answer and seen == []

    text = "# Colloque\n\nLe colloque de Dijon a lieu en mars. Il dure un jour."
    (corpus_copy / "nouveau.md").write_text(text, encoding="utf-8")
    events: list[tuple[int, int, str]] = []
    added = sync(settings, embeddings=embeddings, progress=False, on_progress=lambda *e: events.append(e))
    # Two sentences, and the second read with the first (it opens with a pronoun).
    assert added.sentences == 3
    # The web chat's progress bar follows both phases to their end.
    assert events[-1] == (3, 3, "sentences") and (added.embedded, added.embedded, "chunks") in events


def test_old_or_damaged_sentence_vectors(
    corpus_copy: Path, make_settings: MakeSettings, embeddings: SentenceTransformerEmbeddings
) -> None:
    settings = make_settings(corpus_copy)
    sync(settings, embeddings=embeddings, progress=False)
    # An index written before sentence vectors were stored still answers (embedding on demand)…
    for name in (sentence_vectors.TEXTS, sentence_vectors.MATRIX):
        (_current(settings) / name).unlink()
    engine = SearchEngine.open(settings, embeddings)
    assert engine.snapshot.sentences == {}
    assert "2006" in ExtractiveAnswerer(engine).ask("Depuis quand les Assises existent-elles ?").answer
    # … and the next `assistant index` adds them, re-embedding no chunk.
    report = sync(settings, embeddings=embeddings, progress=False)
    assert report.embedded == 0 and report.sentences > 0
    assert SearchEngine.open(settings, embeddings).snapshot.sentences

    # A truncated matrix: a clear message, and a plain `assistant index` writes the vectors again.
    (_current(settings) / sentence_vectors.MATRIX).write_bytes(b"")
    with pytest.raises(IndexBroken, match="--rebuild"):
        SearchEngine.open(settings, embeddings)
    repaired = sync(settings, embeddings=embeddings, progress=False)
    assert repaired.embedded == 0 and repaired.sentences > 0
    assert SearchEngine.open(settings, embeddings).snapshot.sentences
    # Texts that disagree with the matrix: a clear message too.
    (_current(settings) / sentence_vectors.TEXTS).write_text('["une seule phrase"]', encoding="utf-8")
    with pytest.raises(IndexBroken, match="--rebuild"):
        SearchEngine.open(settings, embeddings)
