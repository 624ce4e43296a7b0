"""Hybrid fusion: how dense and BM25 scores are scaled before they are mixed; search limited to chosen documents."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.answering.conversation import Question
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import DENSE_FLOOR, SearchEngine, retrieve, scale_dense, scale_lexical
from assistant.config import Settings
from assistant.errors import QuestionError
from assistant.indexing.lexical import LexicalIndex
from assistant.indexing.sync import sync
from assistant.models.embeddings import SentenceTransformerEmbeddings


def test_dense_scaling_keeps_small_cosine_gaps_small() -> None:
    # e5 cosines are squeezed: 0.86 vs 0.84 must not become 1.0 vs 0.0 as plain min-max would make it.
    scaled = scale_dense({0: 0.86, 1: 0.84})
    assert scaled[0] == 1.0 and 0.8 < scaled[1] < 1.0
    # Below the floor (another embedder), the weakest candidate is the zero point.
    low = scale_dense({0: 0.5, 1: 0.3, 2: DENSE_FLOOR - 0.5})
    assert low[0] == 1.0 and low[2] == 0.0 and 0.0 < low[1] < 1.0


def test_a_weak_lexical_match_does_not_weigh_like_a_strong_one() -> None:
    lexical = LexicalIndex.build(
        ["Le réseau EUSARF réunit des chercheurs.", "Les Assises de Rennes.", "Le colloque a lieu en mars."]
    )
    strong, weak = "réseau EUSARF chercheurs", "réseau colloque Dijon Lille Marseille"
    strong_top, weak_top = lexical.top(strong, 3), lexical.top(weak, 3)
    assert strong_top[0][0] == 0
    assert scale_lexical(dict(strong_top), lexical.ideal(strong))[0] > 0.95  # (nearly) an ideal match
    # Only two of five words are in the corpus: the best match is scaled against an ideal one.
    assert max(scale_lexical(dict(weak_top), lexical.ideal(weak)).values()) < 0.8


def test_ideal_score_is_zero_for_unknown_words() -> None:
    lexical = LexicalIndex.build(["Le réseau EUSARF."])
    assert lexical.ideal("budget Dijon") == 0.0
    assert scale_lexical({}, 0.0) == {}


def test_search_limited_to_a_folder_takes_nothing_from_elsewhere(
    corpus_copy: Path, make_settings: Callable[..., Settings], embeddings: SentenceTransformerEmbeddings
) -> None:
    (corpus_copy / "rapports").mkdir()
    (corpus_copy / "rapports" / "eusarf.md").write_text(
        "# EUSARF\n\nLe réseau EUSARF publie une lettre trimestrielle sur l’accueil familial.", encoding="utf-8"
    )
    settings = make_settings(corpus_copy)
    sync(settings, embeddings=embeddings, progress=False)
    engine = SearchEngine.open(settings, embeddings)
    everywhere = engine.search("réseau EUSARF", k=5)
    assert len({h.chunk.source for h in everywhere}) > 1  # the ONPE page speaks of EUSARF too
    in_folder = engine.search("réseau EUSARF", k=5, sources=("rapports",))
    assert [h.chunk.source for h in in_folder] == ["rapports/eusarf.md"]  # dense and BM25 sides both filtered
    answer = ExtractiveAnswerer(engine).ask(Question.parse("Que publie EUSARF ?", sources=["rapports/*.md"]))
    assert "lettre trimestrielle" in answer.answer and answer.sources == ["rapports/*.md"]
    with pytest.raises(QuestionError, match="no indexed document matches"):
        engine.search("réseau EUSARF", sources=("archives",))
    # « Assises » is a word of the corpus, not of the chosen folder: it is missing there as written, not paraphrased.
    assises = Question.parse("Qui organise les Assises nationales de la protection de l'enfance ?")
    assert retrieve(engine, assises).missing == []
    narrowed = retrieve(engine, replace(assises, sources=("rapports",)))
    assert "Assises" in narrowed.missing
    shown = ExtractiveAnswerer(engine).answer(narrowed)
    assert shown.abstained and "documents choisis" in shown.answer
