"""The evaluation run: each item asked and scored, ours against the tutorial baseline, then the report.

Relevance is defined by the items' evidence spans, not by chunk ids, so any chunking (ours, the
baseline's) is judged on the same ground. :func:`run_evaluation` is ``assistant eval``.

Example (``settings`` name the indexed ONPE corpus):
    >>> items = [Item("q1", "Depuis quand les Assises existent-elles ?", facts=[["2006"]],
    ...               evidence=["Depuis 2006"], tags={"lang": "fr", "kind": "fact"})]
    >>> result = Runner(settings, baseline=False).run_item(items[0])
    >>> result.abstained, result.fact_recall, result.rank is not None
    (False, 1.0, True)
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from assistant.answering.answerability import min_confidence
from assistant.answering.conversation import retrieval_query
from assistant.answering.modes import check_mode, make_answerer
from assistant.answering.search import SearchEngine
from assistant.answering.types import Answer, markers
from assistant.config import Settings
from assistant.evaluation.items import EvidenceSpan, Item, ItemResult, load_items, locate, relevant
from assistant.evaluation.metrics import (
    CORRECT_FACT_SHARE,
    KS,
    as_records,
    crag_score,
    fact_recall,
    summarize,
    sweep_thresholds,
    token_f1,
)
from assistant.evaluation.report import table, write_report


def first_document_rank(sources: list[str], spans: list[EvidenceSpan]) -> int | None:
    """Rank of the first relevant document once repeats are removed (``sources`` best first).

    >>> first_document_rank(["a", "a", "b"], [EvidenceSpan("b", 0, 1)])
    2
    """
    relevant = {s.source for s in spans}
    distinct = list(dict.fromkeys(sources))
    return next((r for r, source in enumerate(distinct, 1) if source in relevant), None)


def citation_scores(answer: Answer, spans: list[EvidenceSpan]) -> tuple[bool, float | None, float | None]:
    """Validity (markers and citations match), precision and recall against the evidence spans."""
    valid = markers(answer.answer, answer.mode) == {c.n for c in answer.citations}
    if not answer.citations or not spans:
        return valid, None, None
    precision = sum(any(s.overlaps(c.source, c.start, c.end) for s in spans) for c in answer.citations) / len(
        answer.citations
    )
    recall = sum(any(s.overlaps(c.source, c.start, c.end) for c in answer.citations) for s in spans) / len(spans)
    return valid, precision, recall


class Runner:
    """Evaluates items against one index (and, optionally, the tutorial baseline on the same documents)."""

    def __init__(self, settings: Settings, mode: str = "extractive", baseline: bool = True) -> None:
        self.engine = SearchEngine.open(settings)
        answerer, notice = make_answerer(self.engine, mode)
        if notice:
            print(f"note: {notice}", file=sys.stderr)
        self.answer: Callable[[str, list[str]], Answer] = answerer.ask
        self.documents = list(self.engine.snapshot.documents.values())
        self.baseline = None
        if baseline:
            from assistant.evaluation.baseline import TutorialBaseline

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
            answer.relevance, answer.confidence, fact_recall=recall,
            f1=token_f1(answer.answer, item.reference_answer) if item.answerable else 0.0,
            crag=crag_score(item.answerable, answer.abstained, recall >= CORRECT_FACT_SHARE),
            citations_valid=valid, citation_precision=precision, citation_recall=cite_recall,
            retrieve_ms=retrieve_ms, answer_ms=answer_ms, mode=answer.mode, answer=answer.answer,
            corpus=item.tags.get("corpus", ""), missing=answer.missing, question=item.question,
            claims=answer.claims, quotes=[c.text[c.quote_start - c.start : c.quote_end - c.start]
                                          for c in answer.citations],
        )  # fmt: skip
        if spans:
            result.ranking = [(h.chunk.id, h.score) for h in hits]
            result.relevant_ids = [c.id for c in self.engine.snapshot.chunks if relevant(c, spans)]
            result.rank = next((r for r, (cid, _) in enumerate(result.ranking, 1) if cid in result.relevant_ids), None)
            result.doc_rank = first_document_rank([h.chunk.source for h in hits], spans)
        if self.baseline is not None:
            self._baseline(result, query, spans)
        return result

    def _baseline(self, result: ItemResult, query: str, spans: list[EvidenceSpan]) -> None:
        assert self.baseline is not None
        found = self.baseline.search(query, k=max(KS))
        result.baseline_score = found[0].score if found else 0.0
        if spans:
            hits = [any(s.overlaps(h.source, h.start, h.end) for s in spans) for h in found]
            result.baseline_rank = next((r for r, hit in enumerate(hits, 1) if hit), None)
            result.baseline_doc_rank = first_document_rank([h.source for h in found], spans)


SWEEP = [round(0.05 * i, 2) for i in range(20)]


def sample(items: list[Item], limit: int, seed: int) -> list[Item]:
    """``limit`` items drawn with ``seed``, stratified by kind (each kind keeps its share)."""
    if not limit or limit >= len(items):
        return items
    rng = random.Random(seed)
    kinds: dict[str, list[Item]] = {}
    for item in items:
        kinds.setdefault(item.tags.get("kind", "?"), []).append(item)
    chosen: list[Item] = []
    for group in kinds.values():
        chosen += rng.sample(group, max(1, round(limit * len(group) / len(items))))
    return sorted(chosen[:limit], key=lambda i: i.id)


def _dataset(settings: Settings, dataset: Path, progress: bool) -> tuple[Settings, list[Item]]:
    """The dataset's own corpus and index (built once; later runs re-embed nothing)."""
    from assistant.evaluation.squad import dataset_dir, import_squad
    from assistant.indexing.sync import sync

    corpus, items = import_squad(dataset, settings.index_dir)
    own = settings.with_(corpus=corpus, index_dir=dataset_dir(dataset, settings.index_dir) / "index")
    report = sync(own, progress=progress)
    if progress:
        print(report.summary(), file=sys.stderr)
    return own, items


def run_evaluation(
    settings: Settings, question_set: Path, *, limit: int = 0, seed: int = 0, mode: str = "extractive",
    baseline: bool = True, sweep: bool = False, out: Path | None = None, progress: bool = True,
    dataset: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run the set; with ``sweep``, answers are made with the threshold off and abstention swept after.

    Raises:
        UsageError: unknown mode.
        DatasetError: a question set that does not match the corpus, or an unreadable dataset.
    """
    check_mode(mode)
    if dataset is not None:
        settings, all_items = _dataset(settings, dataset, progress)
        question_set = dataset
    else:
        all_items = load_items(question_set)
    items = sample(all_items, limit, seed)
    run_settings = settings.with_(min_confidence=0.0) if sweep else settings
    runner = Runner(run_settings, mode, baseline)
    results = [runner.run_item(item) for item in tqdm(items, desc="Evaluating", unit="q", disable=not progress)]
    sweep_rows = sweep_thresholds(results, SWEEP) if sweep else None
    if sweep:  # headline figures at the configured threshold, as users get them
        for r in results:
            r.abstained = r.confidence < min_confidence(settings)
            r.fact_recall = 0.0 if r.abstained else r.fact_recall
            r.crag = crag_score(r.answerable, r.abstained, r.fact_recall >= CORRECT_FACT_SHARE)
    summary = summarize(results, baseline)
    if sweep_rows:
        best = max(sweep_rows, key=lambda row: (row["crag"], -row["false_abstention"]))
        summary["calibration"] = {"chosen": min_confidence(settings), "best_crag": best}
    if out is not None:
        directory = out / time.strftime("%Y-%m-%dT%H-%M-%S")
        write_report(directory, summary, as_records(results), sweep_rows, f"Evaluation of {question_set} ({mode})")
        summary["report"] = str(directory)
    if progress:
        print(table(summary))
        if out is not None:
            print(f"\nreport: {summary['report']}/report.md")
    return summary
