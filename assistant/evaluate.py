"""The evaluation runner: retrieval, answers, citations, abstention and latency, ours vs the baseline.

Relevance is defined by the items' evidence spans, not by chunk ids, so any chunking (ours, the
baseline's) is judged on the same ground. Ranking metrics are ``ranx``'s.

Example:
    >>> result = run_eval(Settings.from_env(), load_items(Path("eval/questions.jsonl")))  # doctest: +SKIP
    >>> result["retrieval"]["hit@5"]  # doctest: +SKIP
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.answer import Answer, ExtractiveAnswerer, retrieval_query
from assistant.config import Settings
from assistant.evalset import Item, Span, locate
from assistant.metrics import bootstrap_ci, crag_score, fact_recall, percentile, token_f1
from assistant.retrieval import SearchEngine

KS = (1, 3, 5, 10)
# An answer counts as correct (CRAG score) when it states at least this share of the facts.
CORRECT_FACT_SHARE = 0.5
_MARKER = re.compile(r"\[(\d+)\]")


@dataclass
class ItemResult:
    """What one question gave: ranks, answer quality, citations, timings."""

    id: str
    lang: str
    kind: str
    answerable: bool
    abstained: bool
    relevance: float
    rank: int | None = None  # first relevant passage, ours (None: not in the top 10)
    baseline_rank: int | None = None
    # Same, counting documents (a paragraph, for SQuAD data): each document at its best passage's rank.
    doc_rank: int | None = None
    baseline_doc_rank: int | None = None
    fact_recall: float = 0.0
    f1: float = 0.0
    crag: int = 0
    citations_valid: bool = True
    citation_precision: float | None = None
    citation_recall: float | None = None
    retrieve_ms: float = 0.0
    answer_ms: float = 0.0
    mode: str = "extractive"
    answer: str = ""
    ranking: list[tuple[str, float]] = field(default_factory=list)
    relevant_ids: list[str] = field(default_factory=list)


def _overlaps(source: str, start: int, end: int, spans: list[Span]) -> bool:
    return any(s.source == source and s.start < end and start < s.end for s in spans)


def first_document_rank(sources: list[str], spans: list[Span]) -> int | None:
    """Rank of the first relevant document once repeats are removed (``sources`` best first).

    >>> first_document_rank(["a", "a", "b"], [Span("b", 0, 1)])
    2
    """
    relevant = {s.source for s in spans}
    distinct = list(dict.fromkeys(sources))
    return next((r for r, source in enumerate(distinct, 1) if source in relevant), None)


def citation_scores(answer: Answer, spans: list[Span]) -> tuple[bool, float | None, float | None]:
    """Validity (markers and citations match), precision and recall against the evidence spans."""
    markers = {int(n) for n in _MARKER.findall(answer.answer)}
    valid = markers == {c.n for c in answer.citations}
    if not answer.citations or not spans:
        return valid, None, None
    precision = sum(_overlaps(c.source, c.start, c.end, spans) for c in answer.citations) / len(answer.citations)
    recall = sum(any(_overlaps(s.source, c.start, c.end, [s]) for c in answer.citations) for s in spans) / len(spans)
    return valid, precision, recall


class Runner:
    """Evaluates items against one index (and, optionally, the tutorial baseline on the same documents)."""

    def __init__(self, settings: Settings, answer: Callable[[str, list[str]], Answer] | None = None,
                 baseline: bool = True) -> None:  # fmt: skip
        self.engine = SearchEngine.open(settings)
        self.extractive = ExtractiveAnswerer(self.engine)
        self.answer = answer or self.extractive.ask
        self.documents = list(self.engine.snapshot.documents.values())
        self.baseline = None
        if baseline:
            from assistant.baseline import TutorialBaseline

            self.baseline = TutorialBaseline(self.documents, self.engine.embeddings)

    def run_item(self, item: Item) -> ItemResult:
        spans = locate(item.evidence, self.documents) if item.answerable else []
        query = retrieval_query(item.question, item.history)
        start = time.perf_counter()
        hits = self.engine.search(query, k=max(KS))
        retrieve_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        answer = self.answer(item.question, item.history)
        answer_ms = (time.perf_counter() - start) * 1000
        recall = fact_recall(answer.answer, item.facts) if item.answerable and not answer.abstained else 0.0
        valid, precision, cite_recall = citation_scores(answer, spans)
        result = ItemResult(
            item.id, item.tags.get("lang", "?"), item.tags.get("kind", "?"), item.answerable, answer.abstained,
            answer.relevance, fact_recall=recall, f1=token_f1(answer.answer, item.reference_answer) if item.answerable
            else 0.0, crag=crag_score(item.answerable, answer.abstained, recall >= CORRECT_FACT_SHARE),
            citations_valid=valid, citation_precision=precision, citation_recall=cite_recall,
            retrieve_ms=retrieve_ms, answer_ms=answer_ms, mode=answer.mode, answer=answer.answer,
        )  # fmt: skip
        if spans:
            result.ranking = [(h.chunk.id, h.score) for h in hits]
            result.relevant_ids = [
                c.id for c in self.engine.snapshot.chunks if _overlaps(c.source, c.start, c.end, spans)
            ]
            result.rank = next((r for r, (cid, _) in enumerate(result.ranking, 1) if cid in result.relevant_ids), None)
            result.doc_rank = first_document_rank([h.chunk.source for h in hits], spans)
            if self.baseline is not None:
                found = self.baseline.search(query, k=max(KS))
                result.baseline_rank = next(
                    (r for r, h in enumerate(found, 1) if _overlaps(h.source, h.start, h.end, spans)), None
                )
                result.baseline_doc_rank = first_document_rank([h.source for h in found], spans)
        return result


def retrieval_metrics(ranks: list[int | None]) -> dict[str, float]:
    """Hit@k and MRR@10 from first-relevant ranks (used for the baseline, whose ids are offsets)."""
    n = len(ranks) or 1
    metrics = {f"hit@{k}": sum(1 for r in ranks if r and r <= k) / n for k in KS}
    metrics["mrr@10"] = sum(1 / r for r in ranks if r and r <= 10) / n
    return metrics


def ranx_metrics(results: list[ItemResult]) -> dict[str, float]:
    """Hit@k, MRR@10 and nDCG@10 of our ranking, computed by ranx."""
    from ranx import Qrels, Run, evaluate

    scored = [r for r in results if r.relevant_ids]
    if not scored:
        return {}
    qrels = Qrels({r.id: dict.fromkeys(r.relevant_ids, 1) for r in scored})
    run = Run({r.id: {cid: float(len(r.ranking) - i) for i, (cid, _) in enumerate(r.ranking)} or {"-": 0.0}
               for r in scored})  # fmt: skip
    names = [f"hit_rate@{k}" for k in KS] + ["mrr@10", "ndcg@10"]
    values = evaluate(qrels, run, names, make_comparable=True)
    return {name.replace("hit_rate", "hit"): round(float(values[name]), 4) for name in names}


def _rounded(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in metrics.items()}


def _mean(values: list[float]) -> float:
    return round(statistics.fmean(values), 4) if values else 0.0


def answer_metrics(results: list[ItemResult]) -> dict[str, Any]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    metrics: dict[str, Any] = {
        "fact_recall": _mean([r.fact_recall for r in answerable]),
        "f1": _mean([r.f1 for r in answerable]),
        "abstention_recall": _mean([float(r.abstained) for r in unanswerable]),
        "false_abstention": _mean([float(r.abstained) for r in answerable]),
        "crag": _mean([float(r.crag) for r in results]),
    }
    if len(results) >= 30:
        metrics["fact_recall_ci95"] = [round(x, 4) for x in bootstrap_ci([r.fact_recall for r in answerable])]
        metrics["crag_ci95"] = [round(x, 4) for x in bootstrap_ci([float(r.crag) for r in results])]
    return metrics


def citation_metrics(results: list[ItemResult]) -> dict[str, float]:
    answered = [r for r in results if not r.abstained]
    return {
        "validity": _mean([float(r.citations_valid) for r in answered]),
        "precision": _mean([r.citation_precision for r in answered if r.citation_precision is not None]),
        "recall": _mean([r.citation_recall for r in answered if r.citation_recall is not None]),
    }


def summarize(results: list[ItemResult], baseline: bool = True) -> dict[str, Any]:
    """The ``--json`` object: retrieval, answer, citations, latency, slices, baseline."""
    summary: dict[str, Any] = {
        "n": len(results),
        "retrieval": ranx_metrics(results),
        # Documents rather than passages, among the first 10 passages (PIAF's orientation figures are at this level).
        "retrieval_documents": _rounded(retrieval_metrics([r.doc_rank for r in results if r.relevant_ids])),
        "answer": answer_metrics(results),
        "citations": citation_metrics(results),
        "latency_ms": {
            stage: {"p50": round(percentile(values, 0.5), 1), "p95": round(percentile(values, 0.95), 1)}
            for stage, values in (
                ("retrieve", [r.retrieve_ms for r in results]),
                ("answer", [r.answer_ms for r in results]),
            )
        },
        "slices": _slices(results),
    }
    if baseline:
        scored = [r for r in results if r.relevant_ids]
        summary["baseline"] = {
            "retrieval": _rounded(retrieval_metrics([r.baseline_rank for r in scored])),
            "retrieval_documents": _rounded(retrieval_metrics([r.baseline_doc_rank for r in scored])),
        }
    return summary


def _slices(results: list[ItemResult]) -> dict[str, dict[str, Any]]:
    slices: dict[str, dict[str, Any]] = {}
    for key in ("lang", "kind"):
        for value in sorted({getattr(r, key) for r in results}):
            group = [r for r in results if getattr(r, key) == value]
            ranks = [r.rank for r in group if r.relevant_ids]
            slices[f"{key}={value}"] = {
                "n": len(group),
                "hit@5": round(retrieval_metrics(ranks)["hit@5"], 4) if ranks else None,
                "fact_recall": _mean([r.fact_recall for r in group if r.answerable]),
                "crag": _mean([float(r.crag) for r in group]),
            }
    return slices


def sweep_thresholds(results: list[ItemResult], thresholds: list[float]) -> list[dict[str, float]]:
    """Abstention trade-off per threshold, from answers given with the threshold off."""
    rows = []
    for t in thresholds:
        crag = [crag_score(r.answerable, r.relevance < t, r.fact_recall >= CORRECT_FACT_SHARE) for r in results]
        rows.append({
            "threshold": round(t, 4),
            "abstention_recall": _mean([float(r.relevance < t) for r in results if not r.answerable]),
            "false_abstention": _mean([float(r.relevance < t) for r in results if r.answerable]),
            "crag": _mean([float(c) for c in crag]),
        })  # fmt: skip
    return rows


def as_records(results: list[ItemResult]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(r).items() if k not in ("ranking", "relevant_ids")} for r in results]
