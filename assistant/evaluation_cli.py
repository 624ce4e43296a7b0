"""``assistant eval``: sample the set, run it with a progress bar, print the table, write the report.

Example:
    >>> run_evaluation(Settings.from_env(), Path("eval/questions.jsonl"))  # doctest: +SKIP
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from assistant.config import Settings
from assistant.evalset import Item, load_items
from assistant.evaluate import CORRECT_FACT_SHARE, Runner, as_records, summarize, sweep_thresholds
from assistant.metrics import crag_score
from assistant.report import table, write_report

SWEEP = [round(0.80 + 0.005 * i, 3) for i in range(31)]


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
    from assistant.index import sync
    from assistant.squad import dataset_dir, import_squad

    corpus, items = import_squad(dataset, settings.index)
    own = settings.with_(corpus=corpus, index=dataset_dir(dataset, settings.index) / "index")
    report = sync(own, progress=progress)
    if progress:
        print(report.summary(), file=sys.stderr)
    return own, items


def _answer_function(settings: Settings, runner: Runner, mode: str) -> Any:
    if mode == "extractive":
        return runner.extractive.ask
    from assistant.generation import make_answerer

    answerer, notice = make_answerer(runner.extractive, mode)
    if notice:
        print(f"note: {notice}", file=sys.stderr)
    return answerer.ask


def run_evaluation(
    settings: Settings, question_set: Path, *, limit: int = 0, seed: int = 0, mode: str = "extractive",
    baseline: bool = True, sweep: bool = False, out: Path | None = None, progress: bool = True,
    dataset: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Run the set; with ``sweep``, answers are made with the threshold off and abstention swept after."""
    if mode not in ("extractive", "llm", "auto"):
        raise ValueError(f"unknown mode {mode!r} (available: auto, llm, extractive)")
    if dataset is not None:
        settings, all_items = _dataset(settings, dataset, progress)
        question_set = dataset
    else:
        all_items = load_items(question_set)
    items = sample(all_items, limit, seed)
    run_settings = settings.with_(threshold=0.0) if sweep else settings
    runner = Runner(run_settings, baseline=baseline)
    runner.answer = _answer_function(run_settings, runner, mode)
    results = [runner.run_item(item) for item in tqdm(items, desc="Evaluating", unit="q", disable=not progress)]
    sweep_rows = sweep_thresholds(results, SWEEP) if sweep else None
    if sweep:  # headline figures at the configured threshold, as users get them
        for r in results:
            r.abstained = r.relevance < settings.threshold
            r.fact_recall = 0.0 if r.abstained else r.fact_recall
            r.crag = crag_score(r.answerable, r.abstained, r.fact_recall >= CORRECT_FACT_SHARE)
    summary = summarize(results, baseline)
    if sweep_rows:
        best = max(sweep_rows, key=lambda row: (row["crag"], -row["false_abstention"]))
        summary["calibration"] = {"chosen": settings.threshold, "best_crag": best}
    if out is not None:
        directory = out / time.strftime("%Y-%m-%dT%H-%M-%S")
        write_report(directory, summary, as_records(results), sweep_rows, f"Evaluation of {question_set} ({mode})")
        summary["report"] = str(directory)
    if progress:
        print(table(summary))
        if out is not None:
            print(f"\nreport: {summary['report']}/report.md")
    return summary
