"""The benchmark's measurements, one function per side; each runs in its own process.

A process per side gives each its own peak memory (``ru_maxrss``) and keeps one side's caches
and threads from helping or hurting the other.
"""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any

from assistant.answering.conversation import Question
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import SearchEngine, retrieve
from assistant.bench.workload import edit_one_file, latencies, seconds
from assistant.config import Settings
from assistant.evaluation.baseline import TutorialBaseline
from assistant.indexing.sync import sync
from assistant.ingest.chunks import chunk_document
from assistant.ingest.corpus import load_corpus
from assistant.models.embeddings import load_embeddings


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def ours(settings: Settings, questions: list[str]) -> dict[str, Any]:
    """Embedding alone, then our indexing of the same texts, one-file reindex, and warm asks."""
    load_s, embeddings = seconds(lambda: load_embeddings(settings.embedder, settings.batch_size))
    documents, _ = load_corpus(settings.corpus, settings.max_file_mb)
    size, overlap = settings.chunk_size, settings.chunk_overlap
    chunks = [c for d in documents for c in chunk_document(d, size, overlap)]
    texts = [c.embedding_text() for c in chunks]
    # The index also stores a vector per sentence (answering reads them): embedding those is part of the work.
    sentences = list(dict.fromkeys(t for c in chunks for t in c.sentence_texts()))
    embeddings.embed_array(texts[:8])  # warm-up, so that neither timing pays it

    def embed_all() -> tuple[float, float]:
        return seconds(lambda: embeddings.embed_array(texts))[0], seconds(lambda: embeddings.embed_array(sentences))[0]

    # Embedding alone before and after our run: their mean is the reference (the CPU's speed drifts).
    before = embed_all()
    index_s, report = seconds(lambda: sync(settings, embeddings=embeddings, progress=True))
    after = embed_all()
    chunks_s, sentences_s = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    embed_s, before_s, after_s = chunks_s + sentences_s, sum(before), sum(after)
    unchanged_s, _ = seconds(lambda: sync(settings, embeddings=embeddings, progress=False))
    edit_one_file(settings.corpus)
    reindex_s, again = seconds(lambda: sync(settings, embeddings=embeddings, progress=False))
    asks, retrievals = _timed_asks(SearchEngine.open(settings, embeddings), questions)
    return {
        "model_load_seconds": round(load_s, 2),
        "documents": len(documents),
        "chunks": report.chunks,
        "sentences": len(sentences),
        "embed_seconds": round(embed_s, 2),
        "embed_chunks_seconds": round(chunks_s, 2),
        "embed_sentences_seconds": round(sentences_s, 2),
        "embed_seconds_before_after": [round(before_s, 2), round(after_s, 2)],
        "embed_chunks_per_s": round(len(texts) / chunks_s, 2),
        "index_seconds": round(index_s, 2),
        "index_over_embed": round(index_s / embed_s, 3),
        "reindex_unchanged_seconds": round(unchanged_s, 3),
        "reindex_one_file_seconds": round(reindex_s, 3),
        "reindex_one_file_embedded": again.embedded,
        "retrieve_ms": retrievals,
        "ask_ms": asks,
        "peak_rss_mb": peak_rss_mb(),
    }


def _timed_asks(engine: SearchEngine, questions: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Latencies of whole extractive answers, then of retrieval alone, with nothing cached for either."""
    answerer = ExtractiveAnswerer(engine)

    def retrieval(question: str) -> Any:
        return retrieve(engine, Question.parse(question))

    timed = []
    for action in (answerer.ask, retrieval):
        engine.forget()
        timed.append(latencies(action, questions))
    return timed[0], timed[1]


def baseline(settings: Settings, questions: list[str]) -> dict[str, Any]:
    """The LangChain tutorial pipeline on the same documents (it has no update: a change rebuilds all)."""
    embeddings = load_embeddings(settings.embedder, settings.batch_size)
    documents, _ = load_corpus(settings.corpus, settings.max_file_mb)
    index_s, pipeline = seconds(lambda: TutorialBaseline(documents, embeddings))
    return {
        "chunks": pipeline.size,
        "index_seconds": round(index_s, 2),
        "reindex_one_file_seconds": round(index_s, 2),
        "ask_ms": latencies(pipeline.search, questions),
        "peak_rss_mb": peak_rss_mb(),
    }


def scaled(settings: Settings, source_index: Path, target_chunks: int, questions: list[str]) -> dict[str, Any]:
    """Warm asks against a store of ``target_chunks`` built from ``source_index`` (see :mod:`scale`)."""
    from assistant.bench.scale import build_scaled

    embeddings = load_embeddings(settings.embedder, settings.batch_size)
    build_s, chunks = seconds(lambda: build_scaled(source_index, settings.index_dir, target_chunks, embeddings))
    open_s, engine = seconds(lambda: SearchEngine.open(settings, embeddings))
    asks, retrievals = _timed_asks(engine, questions)
    return {
        "chunks": chunks,
        "build_seconds": round(build_s, 1),
        "open_seconds": round(open_s, 2),
        "retrieve_ms": retrievals,
        "ask_ms": asks,
        "peak_rss_mb": peak_rss_mb(),
    }
