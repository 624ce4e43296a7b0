"""Sweep chunk sizes on the evaluation set: how the default chunk size was chosen.

Usage: ``.venv/bin/python eval/sweep_chunking.py [SIZE ...]`` (builds throwaway indexes in a temp dir).
Prints, per chunk size, Hit@1/3/5 and MRR@10 of the hybrid retriever on the answerable questions,
and the fact recall of the extractive answers (with the abstention threshold off).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from assistant.answering.conversation import retrieval_query
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import SearchEngine
from assistant.config import Settings
from assistant.evaluation.items import load_items, locate, relevant
from assistant.indexing.lexical import fold
from assistant.indexing.sync import sync
from assistant.ingest.corpus import load_corpus
from assistant.models.embeddings import load_embeddings


def measure(size: int, overlap: int = 1) -> dict[str, float]:
    base = Settings.from_env()
    items = [i for i in load_items(Path("eval/questions.jsonl")) if i.answerable]
    documents, _ = load_corpus(base.corpus)
    embeddings = load_embeddings(base.embedder)
    with tempfile.TemporaryDirectory() as tmp:
        settings = base.with_(index_dir=Path(tmp), chunk_size=size, chunk_overlap=overlap, threshold=0.0)
        sync(settings, embeddings=embeddings, progress=False)
        engine = SearchEngine.open(settings, embeddings)
        ranks, recalls = [], []
        answerer = ExtractiveAnswerer(engine)
        for item in items:
            answer = fold(answerer.ask(item.question, item.history).answer)
            found = [any(fold(alt) in answer for alt in fact) for fact in item.facts]
            recalls.append(sum(found) / len(found) if found else 1.0)
            spans = locate(item.evidence, documents)
            hits = engine.search(retrieval_query(item.question, item.history), k=10)
            rank = next((r for r, h in enumerate(hits, 1) if relevant(h.chunk, spans)), None)
            ranks.append(rank)
        chunks = len(engine.snapshot.chunks)
    n = len(ranks)
    return {
        "chunks": chunks,
        **{f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in (1, 3, 5)},
        "mrr@10": sum(1 / r for r in ranks if r) / n,
        "fact_recall": sum(recalls) / n,
    }


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [200, 300, 450, 650, 900]
    print(f"{'size':>6} {'chunks':>6} {'hit@1':>6} {'hit@3':>6} {'hit@5':>6} {'mrr@10':>6} {'facts':>6}")
    for size in sizes:
        m = measure(size)
        cells = [m[key] for key in ("hit@1", "hit@3", "hit@5", "mrr@10", "fact_recall")]
        print(f"{size:>6} {m['chunks']:>6} " + " ".join(f"{v:>6.3f}" for v in cells))


if __name__ == "__main__":
    main()
