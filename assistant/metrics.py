"""Answer and citation metrics for the evaluation (ranking metrics come from ``ranx``).

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

from assistant.lexical import fold

_ELISION = re.compile(r"\b(l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu)['’]", re.IGNORECASE)
_PUNCT = re.compile(r"[^\w\s]")
_ARTICLES = frozenset({"le", "la", "les", "un", "une", "des", "du", "de", "au", "aux", "a", "an", "the"})
_CITATION = re.compile(r"\[\d+\]")


def normalize_answer(text: str) -> list[str]:
    """Tokens for answer comparison: lowercase, accents folded, no markers, articles or punctuation."""
    text = _CITATION.sub(" ", text)
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
