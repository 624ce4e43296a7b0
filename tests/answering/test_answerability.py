"""Answerability: a calibrated confidence from signals read against the corpus and the language.

The real embedder, the real ONPE index and the shipped model; the fitting is checked on synthetic
data where the right answer is known.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from assistant.answering.answerability import (
    FEATURES,
    Model,
    assess,
    information,
    min_confidence,
    question_terms,
    shipped_model,
)
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import SearchEngine
from assistant.config import Settings
from assistant.evaluation.calibration import Example, expected_calibration_error, fit
from assistant.models.embeddings import SentenceTransformerEmbeddings
from tests.helpers import run

ANSWERABLE = [
    "Depuis quand les Assises nationales de la protection de l'enfance existent-elles ?",
    "Which networks is ONPE a member of?",
    "Qu'est-ce que le réseau EuroCAN ?",
]
UNANSWERABLE = [
    "Quelle est la météo à Brest demain ?",
    "How many volcanoes are there in Iceland?",
    "Quelle est la recette de la tarte Tatin ?",
]


def test_rare_words_weigh_more_than_common_ones() -> None:
    terms = {t.word: t.weight for t in question_terms("Quel est le budget annuel de l'ISPCAN ?", "fr")}
    assert set(terms) == {"budget", "annuel", "ispcan"}
    assert terms["ispcan"] > terms["annuel"] > information("faire", "fr")


def test_confidence_separates_answerable_from_unanswerable(answerer: ExtractiveAnswerer) -> None:
    threshold = min_confidence(answerer.engine.settings)
    for question in ANSWERABLE:
        answer = answerer.ask(question)
        assert not answer.abstained and answer.confidence >= threshold, (question, answer.confidence)
    for question in UNANSWERABLE:
        answer = answerer.ask(question)
        assert answer.abstained and answer.confidence < threshold and answer.citations == [], (question, answer)


def test_signals_are_read_against_the_corpus_background(answerer: ExtractiveAnswerer) -> None:
    engine = answerer.engine
    background = engine.snapshot.meta.background
    assert background["n"] > 30 and 0 < background["std"] < 0.1
    query = "Qu'est-ce que le réseau EuroCAN ?"
    judged = assess(engine, query, "fr", engine.search(query))
    assert set(judged.features) == set(FEATURES)
    assert judged.features["dense_z"] > 2  # far above what unrelated questions reach here
    assert judged.features["cover_top1"] > 0.9 and judged.features["missing_info"] == 0.0


def test_missing_key_words_are_named(answerer: ExtractiveAnswerer) -> None:
    answer = answerer.ask("Quel est le budget de l'ISPCAN ?")
    assert "budget" in answer.missing and "ispcan" not in answer.missing


def test_across_languages_only_words_of_both_languages_can_be_missing(answerer: ExtractiveAnswerer) -> None:
    """ "sit" shows up in French text now and then, but a French page would never write it for « siéger »."""
    assert "sit" not in answerer.ask("Which ministries sit on the steering committee?").missing
    assert "budget" in answerer.ask("What is the budget of ISPCAN?").missing


def test_the_threshold_is_a_setting(onpe_settings: Settings, embeddings: SentenceTransformerEmbeddings) -> None:
    engine = SearchEngine.open(onpe_settings.with_(min_confidence=0.0), embeddings)
    answered = ExtractiveAnswerer(engine).ask(UNANSWERABLE[1])
    assert not answered.abstained and answered.confidence < min_confidence(onpe_settings)
    # Whatever the threshold, key words the documents never use with none found in the passages ("météo",
    # "Brest"): nothing quoted would be about the question.
    unrelated = ExtractiveAnswerer(engine).ask(UNANSWERABLE[0])
    assert unrelated.abstained and unrelated.missing == ["météo", "Brest"]


def test_the_shipped_model_reads_the_current_signals_and_says_how_it_was_measured() -> None:
    model = shipped_model()
    assert tuple(model.data["features"]) == FEATURES
    held = model.data["held_out"]
    assert held["n"] >= 1000 and held["ece"] <= 0.05
    assert 0.0 < model.data["min_confidence"] < 1.0
    with pytest.raises(ValueError, match="refit"):
        Model(model.data | {"features": ["dense_best"]})


def test_fitting_recovers_a_known_probability() -> None:
    """Synthetic signals whose true probability of being answerable is known: the fit must match it."""
    rng = random.Random(0)
    rows, truth = [], []
    for i in range(4000):
        signal = rng.uniform(-3, 3)
        p = 1 / (1 + np.exp(-2 * signal))
        features = dict.fromkeys(FEATURES, 0.0) | {"dense_z": signal, "cover_top1": rng.random()}
        answerable = rng.random() < p
        rows.append(Example(str(i), "q", "fr", "answerable" if answerable else "near-domain", "fit", "mixed",
                            answerable, features))  # fmt: skip
        truth.append(p)
    model = Model(json.loads(json.dumps(fit(rows))))
    predicted = np.asarray([model.probability(r.features) for r in rows])
    assert np.abs(predicted - np.asarray(truth)).mean() < 0.05
    assert expected_calibration_error(predicted, np.asarray([r.answerable for r in rows], dtype=float)) < 0.03


def test_old_threshold_setting_gets_a_migration_message(onpe_settings: Settings) -> None:
    result = run(["ask", "--json", "Qu'est-ce qu'EuroCAN ?"], onpe_settings, env={"ASSISTANT_THRESHOLD": "0.868"})
    assert result.returncode == 1
    assert "ASSISTANT_THRESHOLD" in result.stderr and "ASSISTANT_MIN_CONFIDENCE" in result.stderr


def test_bad_questions_get_a_clear_answer_or_abstention(onpe_settings: Settings) -> None:
    relevant = "Depuis quand les Assises nationales de la protection de l'enfance existent-elles ?"
    buried = "Bonjour, merci de votre aide. " * 62 + relevant  # 1,946 characters, one sentence that matters
    questions = [
        "le la les de du des ?",  # only stop words
        "a",  # a single character
        "XQZT ?",  # a bare acronym the corpus does not know
        "XYZQ",  # another, read as English: no passage holds a word of it, so none is quoted
        "FOO",  # a word e5 finds close to a passage: a question that is only that word is not about the passage
        "¿Cuál es el presupuesto anual del observatorio?",  # a third language
        "Wie viele Kinder leben in Heimen?",
        buried,
        buried + " " + "x" * 3000,  # 5,000 characters: over the limit
    ]
    stdin = "\n".join(json.dumps({"question": q}) for q in questions) + "\n"
    result = run(["ask", "--mode", "extractive", "-"], onpe_settings, stdin=stdin)
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(replies) == len(questions)
    for reply in replies[:7]:
        assert reply["abstained"] is True and reply["citations"] == [], reply
        assert reply["answer"].startswith(("Je n’ai pas trouvé la réponse dans les documents", "The answer is not in"))
    assert "XQZT" in replies[2]["missing"]  # named as written: "they do not mention « XQZT »"
    assert "XYZQ" in replies[3]["missing"] and "XYZQ" in replies[3]["answer"]
    assert replies[4]["missing"] == ["FOO"]
    assert "error" not in replies[7] and 0.0 <= replies[7]["confidence"] <= 1.0
    assert replies[8]["error"].startswith("the question is too long")


def test_one_passage_found_is_not_a_standout(
    tmp_path: Path, make_settings: Callable[..., Settings], embeddings: SentenceTransformerEmbeddings
) -> None:
    """With one passage there is no second one to stand out from: the gaps must not read as certainty (they
    did: an unrelated sentence got confidence 1.0 in a one-passage corpus or a search limited to one note)."""
    from assistant.indexing.sync import sync

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text("Le protocole Zéphyr prévoit une réunion mensuelle des équipes.", encoding="utf-8")
    settings = make_settings(corpus)
    sync(settings, embeddings=embeddings, progress=False)
    answerer = ExtractiveAnswerer(SearchEngine.open(settings, embeddings))
    unrelated = answerer.ask("Which networks is ONPE a member of?")
    assert unrelated.abstained and unrelated.confidence < 0.2
    related = answerer.ask("Que prévoit le protocole Zéphyr ?")
    assert not related.abstained and "réunion mensuelle" in related.answer


def _indexed(settings: Settings, embeddings: SentenceTransformerEmbeddings, **texts: str) -> SearchEngine:
    """A real index of ``settings.corpus`` holding one ``NAME.txt`` per text, and its engine."""
    from assistant.indexing.sync import sync

    settings.corpus.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (settings.corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    sync(settings, embeddings=embeddings, progress=False)
    return SearchEngine.open(settings, embeddings)


def test_another_form_of_a_word_the_passages_use_is_not_missing(
    tmp_path: Path, make_settings: Callable[..., Settings], embeddings: SentenceTransformerEmbeddings
) -> None:
    """« travaillent » and « entretiennent » stem apart from « travaille » and « entretient »: the passages use those
    words, so they are not named as missing; a word no passage uses in any form still is."""
    engine = _indexed(
        make_settings(tmp_path / "corpus"), embeddings,
        note="L'observatoire entretient des liens avec les départements. Chaque chargé d'études travaille à Paris.",
        autre="Le conseil se réunit chaque mois pour voter le budget annuel.",
    )  # fmt: skip
    asked = "Avec qui l'observatoire entretiennent-ils des liens, et où travaillent les salariés ?"
    judged = assess(engine, asked, "fr", engine.search(asked))
    assert "entretiennent" not in judged.margins and "travaillent" not in judged.margins
    assert "salariés" in judged.margins  # no form of it in the passages


def test_across_languages_a_word_spelt_the_passages_way_is_not_missing(
    tmp_path: Path, make_settings: Callable[..., Settings], embeddings: SentenceTransformerEmbeddings
) -> None:
    """ "zodiac" is a French word too (a brand), so it was looked for as written and named missing over a page
    writing « zodiaque » (sample 13, 2026-12-07); a word of both languages no passage spells, or spells only
    alike at its start (« intervenants » for "interview"), still is."""
    engine = _indexed(
        make_settings(tmp_path / "corpus"), embeddings,
        astro="Le zodiaque est une bande de la sphère céleste divisée en douze signes. Les astrologues lisent les "
        "signes du zodiaque. Les intervenants du colloque ont parlé du zodiaque.",
        autre="Le conseil se réunit chaque mois pour voter les comptes.",
    )  # fmt: skip
    asked = "What is the zodiac, what is its budget, and who gave the interview?"
    judged = assess(engine, asked, "en", engine.search(asked))
    assert "zodiac" not in judged.margins
    assert "budget" in judged.margins and "interview" in judged.margins


def test_a_mistyped_word_is_searched_as_the_passages_write_it(answerer: ExtractiveAnswerer) -> None:
    """« pilotgae » is « pilotage » mistyped, « profesionnels » « professionnels »: searched as written, BM25 knows
    neither and the typo was named as missing. A word no dictionary knows, one slip from a passage's word, is
    searched again as the passage writes it, and the answer says so first; a real word no passage uses (« budget »)
    is still named."""
    typo = answerer.ask("Qui participe au comité de pilotgae des Assises ?")
    assert typo.missing == [] and "comité de pilotage" in typo.query and not typo.abstained, typo
    assert typo.answer.startswith("Recherche faite avec « pilotage » pour « pilotgae ».\n"), typo.answer
    counted = answerer.ask("Combien de profesionnels viennent aux Assises ?")
    assert "professionnels" in counted.query and "2000" in counted.answer, counted
    assert "budget" in answerer.ask("Quel est le budget du résaeu EuroCAN ?").missing


def test_a_word_asking_what_a_name_stands_for_is_not_missing(answerer: ExtractiveAnswerer) -> None:
    """Documents write ISPCAN and its expansion, never « sigle »: the question is answered, no word named missing."""
    expansion = answerer.ask("Que signifie le sigle ISPCAN ?")
    assert expansion.missing == [] and not expansion.abstained and "Société Internationale" in expansion.answer, (
        expansion
    )
