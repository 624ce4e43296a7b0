"""Can the documents answer? The relevance score both modes abstain on, and when it overrules the model.

Relevance is the best cosine, corrected for vocabulary and language:
``cosine + COVERAGE_WEIGHT × share of question terms known to the corpus + CROSS_LINGUAL_BONUS``
when the question's language differs from the passage's (e5 scores such pairs lower). Below
``Settings.threshold`` both modes abstain. Measured on ``eval/questions.jsonl`` (README, "How the
settings were chosen").

Example:
    >>> from assistant.ingest.chunks import Chunk
    >>> hit = Hit(Chunk("c", "a.txt", "T", "", 0, 10, "texte", "fr"), dense=0.84, lexical=0.0, score=1.0)
    >>> round(relevance([hit], {"onpe", "budget"}, {"onpe"}, "en"), 3)
    0.915
    >>> answerable(0.915, 0.868), clearly_answerable(0.885, 0.868)
    (True, False)
"""

from __future__ import annotations

from assistant.answering.types import Hit

COVERAGE_WEIGHT = 0.05
CROSS_LINGUAL_BONUS = 0.05
# Above the abstention threshold by this much, retrieval overrules the model's "not found": every
# unanswerable ONPE question scores below threshold + margin (README, "Evaluation").
FALLBACK_MARGIN = 0.025


def relevance(hits: list[Hit], terms: set[str], known: set[str], language: str) -> float:
    """How likely the documents answer: best cosine, corrected for vocabulary and language.

    ``known`` are the question ``terms`` that occur somewhere in the corpus: a question about a
    budget in a corpus that never says "budget" is probably not answerable.
    """
    if not hits:
        return 0.0
    best = max(hits, key=lambda h: h.dense)
    coverage = len(known) / len(terms) if terms else 0.0
    cross = CROSS_LINGUAL_BONUS if best.chunk.language != language else 0.0
    return best.dense + COVERAGE_WEIGHT * coverage + cross


def answerable(score: float, threshold: float) -> bool:
    """Whether a question scoring ``score`` is answered at all (else both modes abstain)."""
    return score >= threshold


def clearly_answerable(score: float, threshold: float) -> bool:
    """Whether retrieval is confident enough to show quotes when the model says "not found"."""
    return score >= threshold + FALLBACK_MARGIN
