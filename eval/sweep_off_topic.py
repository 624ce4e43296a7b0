"""Sweep ``OFF_TOPIC``: when is a key word the corpus never uses reported missing? How its value was chosen.

Usage: ``.venv/bin/python eval/sweep_off_topic.py [--split fit|test] [--per-kind N] [VALUE ...]``

Asks PIAF questions of the calibration workspace (``assistant calibrate``'s mixed corpus, and the ONPE
pages alone for out-of-domain questions), on the split given: ``fit`` to choose, ``test`` (the held-out
articles, the realistic suite's) to report the value chosen. Each question is searched once; for each
value, a key word the corpus never uses is missing when the best sentence comes nearer the question
without it by more than the value (:func:`assistant.answering.answerability.topic_margin`). Prints, per
value, the share of unanswerable questions abstained or warned ("the documents do not mention …"), and
of answerable ones warned wrongly or refused by the unrelated-passages rule (a missing word, none present).
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass

from tqdm import tqdm

from assistant.answering.answerability import answerable, assess, min_confidence
from assistant.answering.conversation import Question
from assistant.answering.search import SearchEngine
from assistant.config import DEFAULT_BENCH_DATASET, Settings
from assistant.evaluation.calibration import Design, workspace
from assistant.models.embeddings import load_embeddings

VALUES = (-0.02, -0.01, -0.005, 0.0, 0.0025, 0.005, 0.01, 0.02, 1.0)


@dataclass(frozen=True)
class Seen:
    """One question's outcome that does not depend on the value: kind, whether it passed, its margins."""

    kind: str
    passed: bool  # the confidence reaches the threshold
    present: bool  # a key word of the question is in the best passages
    margins: tuple[float, ...]


def observe(engine: SearchEngine, questions: list[str], kind: str, threshold: float) -> list[Seen]:
    seen = []
    for text in tqdm(questions, desc=kind, unit="q", disable=not sys.stderr.isatty()):
        question = Question.parse(text)
        judged = assess(engine, question.text, question.language, engine.search(question.text))
        passed = answerable(judged.confidence, threshold)
        seen.append(Seen(kind, passed, bool(judged.present), tuple(judged.margins.values())))
    return seen


def outcome(seen: Seen, value: float) -> tuple[bool, bool]:
    """(abstained, warned) at ``value``."""
    missing = any(m < -value for m in seen.margins)
    abstained = not seen.passed or (missing and not seen.present)
    return abstained, missing and not abstained


def share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("fit", "test"), default="fit")
    parser.add_argument("--per-kind", type=int, default=400)
    parser.add_argument("values", nargs="*", type=float)
    args = parser.parse_args()
    settings = Settings.from_env()
    _, corpora, items = workspace(settings, DEFAULT_BENCH_DATASET, names=("mixed",))
    design = Design.of(items)
    rng = random.Random(0)
    pool = [i for i in items if design.split(i) == args.split]
    embeddings = load_embeddings(settings.embedder, settings.batch_size)
    threshold = min_confidence(settings)
    seen: list[Seen] = []
    for corpus, kinds in {"mixed": ("answerable", "near-fact", "near-domain"), "onpe": ("out-of-domain",)}.items():
        engine = SearchEngine.open(corpora[corpus], embeddings)
        for kind in kinds:
            group = [i.question for i in pool if design.kind(i, corpus) == kind]
            seen += observe(engine, rng.sample(group, min(args.per_kind, len(group))), kind, threshold)
    order = list(dict.fromkeys(s.kind for s in seen))
    print(f"split {args.split}: " + ", ".join(f"{k} {sum(s.kind == k for s in seen)}" for k in order))
    print(f"{'value':>7} {'near-fact':>10} {'near-dom':>9} {'out-dom':>8} {'false warn':>10} {'false abst':>10}")
    for value in args.values or VALUES:
        rows = {k: [outcome(s, value) for s in seen if s.kind == k] for k in order}
        caught = {k: share([a or w for a, w in rows[k]]) for k in ("near-fact", "near-domain", "out-of-domain")}
        wrong = rows["answerable"]
        print(f"{value:>7} {caught['near-fact']:>10.3f} {caught['near-domain']:>9.3f} {caught['out-of-domain']:>8.3f} "
              f"{share([w for _, w in wrong]):>10.3f} {share([a for a, _ in wrong]):>10.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
