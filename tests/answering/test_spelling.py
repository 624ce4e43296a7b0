"""A mistyped word the question hinges on: its spelling is looked for in the whole corpus (real BM25 index), only
in the documents the asker may read, and never for a word typed as a name."""

from __future__ import annotations

import numpy as np

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.spelling import corpus_spelling
from assistant.indexing.lexical import LexicalIndex

TEXTS = [
    "Le journal coûte deux noises et paraît chaque matin.",
    "Les journaux du soir sont livrés par hibou.",
    "Le marché se tient le samedi sur la place.",
    "Le village est menacé par la crue.",
]


def _spelling(word: str, allowed: np.ndarray | None = None) -> str | None:
    return corpus_spelling(word, LexicalIndex.build(TEXTS), lambda p: TEXTS[p], allowed)


def test_a_mistyped_word_is_spelt_as_the_corpus_writes_it() -> None:
    assert _spelling("joural") == "journal"
    assert _spelling("zzzzzz") is None  # nothing one slip away
    assert _spelling("lenac") is None  # « menacé » is two slips away, though its stem is one


def test_only_readable_documents_and_no_names() -> None:
    """A word held only by a document the asker may not read is not revealed; « Joural » may be a name."""
    assert _spelling("joural", np.array([False, False, True, True])) is None
    assert _spelling("joural", np.array([True, False, False, False])) == "journal"
    assert _spelling("Joural") is None


def test_a_spelling_comes_only_from_documents_the_asker_may_read(answerer: ExtractiveAnswerer) -> None:
    """« chercheurs » is written only on the partners page: a reader of the Assises page alone is not told it
    exists, neither by a respelled search nor by which words count as unknown."""
    from dataclasses import replace

    from assistant.answering.conversation import Question

    assises = frozenset({"onpe-assises-nationales-protection-enfance.txt"})
    engine = answerer.engine
    assert engine.spelling("cherchuers") == "chercheurs"
    assert engine.spelling("cherchuers", assises) is None
    question = "Avec quels cherchuers étrangers l'ONPE est-il en lien ?"
    everyone = answerer.ask(question)
    assert everyone.answer.startswith("Recherche faite avec « chercheurs » pour « cherchuers »."), everyone.answer
    limited = answerer.ask(replace(Question.parse(question), readable=assises))
    assert "chercheurs" not in limited.answer and "Recherche faite" not in limited.answer, limited.answer
