"""The benchmark's workload: a sample of a SQuAD-format dataset as a corpus, with its questions.

Example (``tmp`` a scratch directory; PIAF lies beside the repository):
    >>> from assistant.config import DEFAULT_BENCH_DATASET
    >>> work = prepare(DEFAULT_BENCH_DATASET, tmp, paragraphs=30, questions=20)
    >>> work.paragraphs, len(work.questions), len(list(work.corpus.iterdir()))
    (30, 20, 30)
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import DatasetError
from assistant.evaluation.squad import import_squad

EDIT = "\nCette phrase a été ajoutée pour mesurer la réindexation d’un seul document.\n"


@dataclass(frozen=True)
class Workload:
    corpus: Path
    questions: list[str]
    paragraphs: int


def prepare(dataset: Path, root: Path, paragraphs: int, questions: int, seed: int = 0) -> Workload:
    """Copy ``paragraphs`` documents (0: all) of ``dataset`` into ``root/corpus``; sample their questions.

    Raises:
        DatasetError: the dataset is missing or not SQuAD-shaped.
    """
    if not dataset.is_file():
        raise DatasetError(f"benchmark dataset not found: {dataset} (give --dataset PATH)")
    source, items = import_squad(dataset, root / "import")
    files = sorted(source.glob("*.txt"))
    rng = random.Random(seed)
    if 0 < paragraphs < len(files):
        files = sorted(rng.sample(files, paragraphs))
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    for path in files:
        shutil.copyfile(path, corpus / path.name)
    chosen = {path.name for path in files}
    pool = [i.question for i in items if i.evidence and i.evidence[0]["source"] in chosen]
    return Workload(corpus, rng.sample(pool, min(questions, len(pool))), len(files))


def edit_one_file(corpus: Path) -> Path:
    """Append a sentence to the first document, as a user editing one file would."""
    path = sorted(corpus.glob("*.txt"))[0]
    with path.open("a", encoding="utf-8") as handle:
        handle.write(EDIT)
    return path


def seconds(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


WARM_UP = ("Quelle est la capitale de la région ?", "Qui a fondé la ville et en quelle année ?")


def latencies(action: Callable[[str], Any], questions: Iterable[str]) -> dict[str, float]:
    """p50 / p95 / mean in milliseconds of ``action`` over ``questions``, after warm-up calls.

    The warm-up questions are not among those timed: no timed answer comes from a cache.
    """
    for question in WARM_UP:
        action(question)
    times = []
    for question in questions:
        started = time.perf_counter()
        action(question)
        times.append((time.perf_counter() - started) * 1000)
    if not times:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0, "n": 0}
    return {
        "p50": round(float(np.percentile(times, 50)), 1),
        "p95": round(float(np.percentile(times, 95)), 1),
        "mean": round(float(np.mean(times)), 1),
        "n": len(times),
    }
