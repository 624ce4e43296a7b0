"""Answers on the real ONPE corpus: citations, cross-lingual retrieval, abstention, follow-ups."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.answerability import CLEAR_CONFIDENCE
from assistant.answering.conversation import is_follow_up
from assistant.answering.extractive import INTRO, ExtractiveAnswerer
from assistant.answering.search import HybridRetriever, SearchEngine
from assistant.answering.types import UNSURE, Answer, markers
from assistant.config import Settings
from assistant.errors import QuestionError
from assistant.indexing.sync import sync
from assistant.models.embeddings import SentenceTransformerEmbeddings

NETWORKS = ("ESN", "EuroCAN", "EUSARF", "ISPCAN")


def _check_citations(answer: Answer, answerer: ExtractiveAnswerer) -> None:
    """Every [n] has its citation, and each citation points at the exact passage and quote."""
    written = markers(answer.answer, answer.mode)
    assert written == {c.n for c in answer.citations}
    documents = answerer.engine.snapshot.documents
    for c in answer.citations:
        text = documents[c.source].text
        assert text[c.start : c.end] == c.text
        assert c.start <= c.quote_start < c.quote_end <= c.end
        # "… " / " …" mark a quote that a passage's edge cut inside a sentence.
        quote = re.escape(text[c.quote_start : c.quote_end])
        assert re.search(rf"« (… )?{quote}( …)? » \[{c.n}\]", answer.answer)


@pytest.mark.parametrize(
    "question",
    [
        "Which networks is ONPE a member of?",
        "À quels réseaux internationaux l'ONPE participe-t-il ?",
    ],
)
def test_networks_question_cites_the_four_networks(answerer: ExtractiveAnswerer, question: str) -> None:
    answer = answerer.ask(question)
    assert not answer.abstained
    _check_citations(answer, answerer)
    for network in NETWORKS:
        assert network in answer.answer, network
        assert any(network in c.text for c in answer.citations)


def test_answer_is_framed_in_the_question_language(answerer: ExtractiveAnswerer) -> None:
    assert answerer.ask("Who organises the Assises?").answer.startswith("According to the documents")
    assert answerer.ask("Qui organise les Assises ?").answer.startswith("D’après les documents")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Depuis quand les Assises existent-elles ?", "2006"),
        ("Combien de professionnels participent chaque année aux Assises ?", "2000"),
        ("Qui est chargé d'organiser les Assises ?", "Journal de l’Action Sociale"),
        # The answer is in the next passage's sentence, which starts inside the first passage's quote.
        ("What journal does ISPCAN publish?", "Child abuse and neglect"),
        ("Who funds the EuroCAN network?", "Cost Action"),
    ],
)
def test_paraphrased_questions_find_the_fact(answerer: ExtractiveAnswerer, question: str, expected: str) -> None:
    answer = answerer.ask(question)
    assert not answer.abstained
    assert expected in answer.answer
    _check_citations(answer, answerer)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("What is the capital of Australia?", "not in the documents"),
        ("Comment faire une tarte aux pommes ?", "pas trouvé la réponse dans les documents"),
        ("Quelle est la météo à Brest demain ?", "pas trouvé la réponse dans les documents"),
    ],
)
def test_unanswerable_questions_abstain_without_citations(
    answerer: ExtractiveAnswerer, question: str, message: str
) -> None:
    answer = answerer.ask(question)
    assert answer.abstained
    assert message in answer.answer
    assert answer.citations == []


@pytest.mark.parametrize(
    ("question", "warning"),
    [
        (
            "Quel est le budget annuel de l'ONPE ?",
            "Les documents parlent de « ONPE » mais ne mentionnent pas « budget »",
        ),
        ("What is ONPE's annual budget?", "The documents speak of “ONPE” but do not mention “budget”"),
    ],
)
def test_a_subject_in_the_documents_without_the_fact_asked_is_said_so_first(
    answerer: ExtractiveAnswerer, question: str, warning: str
) -> None:
    """ONPE is described, its budget never is: abstain, or say first that the documents never mention it."""
    answer = answerer.ask(question)
    assert answer.missing == ["budget"]
    assert answer.abstained or answer.answer.startswith(warning), answer.answer


@pytest.mark.parametrize(
    ("question", "language"),
    [("Qui vient aux Assises ?", "fr"), ("What makes the atmosphere of the Assises friendly?", "en")],
)
def test_an_answer_the_documents_more_likely_than_not_do_not_give_says_first_it_is_uncertain(
    answerer: ExtractiveAnswerer, question: str, language: str
) -> None:
    """Below a calibrated one half the quotes may be near the question without answering it: said first."""
    unsure, sure = answerer.ask(question), answerer.ask("Qui organise les Assises ?")
    assert not unsure.abstained and not unsure.missing
    assert unsure.confidence < CLEAR_CONFIDENCE <= sure.confidence
    assert unsure.answer.startswith(UNSURE[language] + "\n" + INTRO[language]), unsure.answer
    assert not sure.answer.startswith(UNSURE["fr"])
    assert unsure.as_json()["uncertain"] is True and sure.as_json()["uncertain"] is False
    _check_citations(unsure, answerer)


def test_follow_up_uses_the_history(answerer: ExtractiveAnswerer) -> None:
    alone = answerer.ask("Since when?")
    followed = answerer.ask("Since when?", ["How many professionals attend the Assises each year?"])
    assert "2006" in followed.answer
    assert "2006" not in alone.answer


@pytest.mark.parametrize(
    ("history", "question", "expected", "earlier"),
    [
        (["Qui organise les Assises ?"], "Et où ont-elles lieu ?", "grande ville de France", "Journal de l’Action"),
        (["What is the EuroCAN network?"], "And who funds it?", "Cost Action", None),
        (["Que sont les Assises ?"], "Combien de professionnels y participent ?", "2000", None),
        (["What kind of organisation is EUSARF?"], "And when was its conference?", "2023", None),
    ],
)
def test_a_follow_up_keeps_its_own_question(
    answerer: ExtractiveAnswerer, history: list[str], question: str, expected: str, earlier: str | None
) -> None:
    """The follow-up borrows the conversation's subject, not the earlier question's predicate."""
    answer = answerer.ask(question, history)
    assert answer.query is not None and answer.query.endswith(question)
    assert not answer.abstained and expected in answer.answer, answer.answer
    if earlier is not None:  # the earlier question's answer is not given again
        assert earlier not in answer.answer


@pytest.mark.parametrize(
    ("question", "follow_up"),
    [("Since when?", True), ("And when was its conference?", True), ("Et depuis quand existent-elles ?", True),
     ("Quel est le budget annuel de l'ONPE ?", False), ("What is the capital of Australia?", False)],
)  # fmt: skip
def test_only_follow_ups_borrow_the_conversation(answerer: ExtractiveAnswerer, question: str, follow_up: bool) -> None:
    assert is_follow_up(question) is follow_up
    answer = answerer.ask(question, ["Which networks is ONPE a member of?"])
    assert (answer.query != question) is follow_up
    if not follow_up:  # not about the networks: refused, or the missing word named first
        assert answer.abstained or answer.missing == ["budget"]


@pytest.mark.parametrize(
    ("question", "error"),
    [("", "empty"), ("   \n\t ", "empty"), ("\x00\x01", "empty"), ("x" * 100_000, "too long")],
)
def test_unusable_questions_are_refused_clearly(answerer: ExtractiveAnswerer, question: str, error: str) -> None:
    with pytest.raises(QuestionError, match=error):
        answerer.ask(question)


def test_control_characters_and_markup_in_questions_are_harmless(answerer: ExtractiveAnswerer) -> None:
    answer = answerer.ask("Quels réseaux\x00 <script>alert(1)</script> l'ONPE rejoint-il ?\x07")
    assert "\x00" not in answer.question and "\x07" not in answer.question
    assert "<script>" not in answer.answer


def test_langchain_retriever_returns_scored_documents(answerer: ExtractiveAnswerer) -> None:
    retriever = HybridRetriever(engine=answerer.engine, k=3)
    docs = retriever.invoke("EUSARF conférence 2023")
    assert len(docs) == 3
    assert "EUSARF" in docs[0].page_content
    assert {"source", "start", "end", "dense", "lexical", "score"} <= set(docs[0].metadata)


def test_every_candidate_is_scored_on_both_sides(
    answerer: ExtractiveAnswerer, embeddings: SentenceTransformerEmbeddings
) -> None:
    # Each side fetches its 3 best; more than 3 hits means some came from BM25 alone. They must carry
    # their real cosine (read back from Chroma), not 0, and every hit its real BM25 score.
    engine, query = answerer.engine, "Quels réseaux européens ONPE EUSARF Rennes 2023"
    hits = engine.search(query, k=6, fetch_k=3)
    assert len(hits) > 3
    vector, bm25 = engine.query_vector(query), engine.snapshot.lexical.scores(query)
    stored = np.asarray(embeddings.embed_documents([h.chunk.embedding_text() for h in hits]))
    for hit, chunk_vector in zip(hits, stored, strict=True):
        assert hit.dense == pytest.approx(float(chunk_vector @ vector), abs=2e-3)
        assert hit.lexical == pytest.approx(float(bm25[engine.snapshot.position[hit.chunk.id]]))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_sentence_cut_by_a_passage_edge_is_quoted_with_an_ellipsis(answerer: ExtractiveAnswerer) -> None:
    # The Assises' committee is one sentence of thirty members, longer than a passage: its pieces are quoted.
    answer = answerer.ask("Who organises the national child protection conference (Assises)?")
    _check_citations(answer, answerer)
    documents = answerer.engine.snapshot.documents
    before = {c.n: documents[c.source].text[: c.quote_start].rstrip()[-1:] for c in answer.citations}
    cut = [c for c in answer.citations if before[c.n].isalnum() or before[c.n] == ","]  # mid-sentence
    assert cut, answer.answer  # a quote that starts inside the list sentence
    for c in cut:
        assert f"« … {documents[c.source].text[c.quote_start : c.quote_start + 20]}" in answer.answer
    for c in answer.citations:  # whole sentences keep plain quotes
        if documents[c.source].text[c.quote_start : c.quote_start + 10].startswith("Les Assises"):
            assert f"« {documents[c.source].text[c.quote_start : c.quote_start + 20]}" in answer.answer


def test_a_quoted_sentence_carries_the_question_subject(answerer: ExtractiveAnswerer) -> None:
    # Before: the organisers' sentence, then a sentence of another passage listing institutions, which never
    # says "Assises" and answers nothing about who organises them.
    answer = answerer.ask("Qui est à l'origine de l'organisation des Assises ?")
    assert not answer.abstained and "Journal de l’Action Sociale" in answer.answer
    _check_citations(answer, answerer)
    assert [c.n for c in answer.citations] == [1]


def test_a_question_in_two_parts_gets_the_part_answered_and_names_the_other(answerer: ExtractiveAnswerer) -> None:
    answer = answerer.ask("Qui organise les Assises et quel est leur budget ?")
    assert not answer.abstained and answer.missing == ["budget"]
    assert answer.answer.startswith("Les documents parlent de « Assises » mais ne mentionnent pas « budget »")
    assert "Journal de l’Action Sociale" in answer.answer
    _check_citations(answer, answerer)


def test_an_acronym_and_its_expansion_name_the_same_subject(
    corpus_copy: Path, make_settings: Callable[..., Settings], embeddings: SentenceTransformerEmbeddings
) -> None:
    """A sentence that writes the expansion the corpus gives an acronym carries the question's subject."""
    (corpus_copy / "snated.txt").write_text(
        "---\ntitle: Le 119\n---\n"
        "Le Service national d’accueil téléphonique de l’enfance (SNATED) répond aux enfants en danger et à "
        "leurs proches.\n\nHoraires\n\n"
        "Le Service national d’accueil téléphonique de l’enfance répond gratuitement jour et nuit, "
        "sept jours sur sept, toute l’année.\n",
        encoding="utf-8",
    )
    settings = make_settings(corpus_copy)
    sync(settings, embeddings=embeddings, progress=False)
    answer = ExtractiveAnswerer(SearchEngine.open(settings, embeddings)).ask("Quels sont les horaires du SNATED ?")
    assert not answer.abstained and "jour et nuit" in answer.answer, answer.answer


@pytest.mark.parametrize("message", ["???", "😀🔥👶", "Merci beaucoup !", "ok"])
def test_a_message_without_a_question_does_not_answer_the_earlier_one(
    answerer: ExtractiveAnswerer, message: str
) -> None:
    """It did: "???" after « Qui organise les Assises ? » quoted the organisers again at « confiance moyenne »."""
    answer = answerer.ask(message, ["Qui organise les Assises ?"])
    assert answer.query == message
    assert answer.abstained and not answer.citations


def test_a_follow_up_with_its_own_subject_is_not_told_what_the_earlier_question_lacked(
    answerer: ExtractiveAnswerer,
) -> None:
    """« Et l'ISPCAN ? » after a question about Brest's weather was told the documents never mention Brest."""
    answer = answerer.ask("Et l'ISPCAN ?", ["What is the weather in Brest?"])
    assert not answer.abstained and "ISPCAN" in answer.answer
    assert answer.missing == [] and "Brest" not in answer.answer and "brest" not in answer.answer
    borrowed = answerer.ask("Et son budget ?", ["Qu'est-ce que l'ISPCAN ?"])  # no subject of its own
    assert borrowed.missing == ["budget"]


def test_a_sentence_two_documents_share_is_quoted_once(
    tmp_path: Path, make_settings: Callable[..., Settings], embeddings: SentenceTransformerEmbeddings
) -> None:
    """A file uploaded twice (« agenda (2).txt ») gave the same quote as [1] and [2]."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "Réunions\n\nLa réunion d’équipe a lieu chaque mardi à 9 h 30 dans la salle Colibri.\n"
    for name in ("agenda.txt", "agenda (2).txt"):
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "autre.txt").write_text("Le budget annuel est voté en décembre par le conseil.", encoding="utf-8")
    settings = make_settings(corpus)
    sync(settings, embeddings=embeddings, progress=False)
    answer = ExtractiveAnswerer(SearchEngine.open(settings, embeddings)).ask("Quand a lieu la réunion d’équipe ?")
    assert not answer.abstained and answer.answer.count("salle Colibri") == 1, answer.answer
    assert len(answer.citations) == 1
