"""The evaluation's figures: per answer (facts, F1, CRAG), then over a run (retrieval, answers, citations,
latency, slices, the abstention sweep). Ranking metrics come from ``ranx``.

Normalisation is French-aware: accents folded, elided articles (l', d', qu') split off, articles and
punctuation removed, as SQuAD's and FQuAD's evaluation scripts do.

Example:
    >>> round(token_f1("L'ONPE participe à EUSARF", "ONPE participe au réseau EUSARF"), 2)
    0.86
"""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from assistant.answering.types import MARKER
from assistant.evaluation.items import ItemResult
from assistant.indexing.lexical import fold

KS = (1, 3, 5, 10)
# An answer counts as correct (CRAG score) when it states at least this share of the facts.
CORRECT_FACT_SHARE = 0.5

_ELISION = re.compile(r"\b(l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_PUNCT = re.compile(r"[^\w\s]")
_ARTICLES = frozenset({"le", "la", "les", "un", "une", "des", "du", "de", "au", "aux", "a", "an", "the"})


def normalize_answer(text: str) -> list[str]:
    """Tokens for answer comparison: lowercase, accents folded, no markers, articles or punctuation."""
    text = MARKER.sub(" ", text)
    text = _ELISION.sub(" ", text.replace("’", "'"))
    text = _PUNCT.sub(" ", fold(text.lower()))
    return [t for t in text.split() if t not in _ARTICLES]


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 between a prediction and a reference answer."""
    pred, ref = normalize_answer(prediction), normalize_answer(reference)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or not common:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def fact_recall(answer: str, facts: list[list[str]]) -> float:
    """Share of facts (each with alternative wordings) that the answer states."""
    if not facts:
        return 1.0
    text = " ".join(normalize_answer(answer))
    found = [any(" ".join(normalize_answer(alt)) in text for alt in alternatives) for alternatives in facts]
    return sum(found) / len(found)


def crag_score(answerable: bool, abstained: bool, correct: bool) -> int:
    """CRAG-style: +1 correct, 0 abstained, -1 wrong (answering the unanswerable is wrong)."""
    if abstained:
        return 0
    return 1 if answerable and correct else -1


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bootstrap_ci(
    values: Sequence[float], statistic: Callable[[Sequence[float]], float] = statistics.fmean, rounds: int = 1000
) -> tuple[float, float]:
    """95 % percentile bootstrap interval of ``statistic`` (fixed seed: reports are reproducible)."""
    if len(values) < 2:
        return (float("nan"), float("nan"))
    rng = random.Random(0)
    samples = sorted(statistic(rng.choices(values, k=len(values))) for _ in range(rounds))
    return samples[int(0.025 * rounds)], samples[int(0.975 * rounds) - 1]


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
    """Abstention trade-off per confidence threshold, from answers given with abstention off."""
    rows = []
    for t in thresholds:
        crag = [crag_score(r.answerable, r.confidence < t, r.fact_recall >= CORRECT_FACT_SHARE) for r in results]
        rows.append({
            "threshold": round(t, 4),
            "abstention_recall": _mean([float(r.confidence < t) for r in results if not r.answerable]),
            "false_abstention": _mean([float(r.confidence < t) for r in results if r.answerable]),
            "crag": _mean([float(c) for c in crag]),
        })  # fmt: skip
    return rows


def as_records(results: list[ItemResult]) -> list[dict[str, Any]]:
    return [{k: v for k, v in asdict(r).items() if k not in ("ranking", "relevant_ids")} for r in results]
