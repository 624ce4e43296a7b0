"""The evaluation runner on the ONPE set (extractive), gated by eval/gate.json; metrics on known cases."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from assistant.answering.answerability import min_confidence
from assistant.config import Settings
from assistant.evaluation.items import load_items
from assistant.evaluation.metrics import crag_score, fact_recall, token_f1
from assistant.evaluation.runner import run_evaluation, sample
from tests.helpers import ROOT

GATE = json.loads((ROOT / "eval" / "gate.json").read_text(encoding="utf-8"))
SET = ROOT / "eval" / "questions.jsonl"


def _get(summary: dict[str, Any], dotted: str) -> float:
    group, key = dotted.split(".", 1)
    return float(summary[group][key])


@pytest.fixture(scope="module")
def summary(onpe_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("eval-results")
    return run_evaluation(onpe_settings, SET, mode="extractive", sweep=True, out=out, progress=False)


def test_onpe_set_passes_the_ci_gate(summary: dict[str, Any]) -> None:
    failures = [f"{k} = {_get(summary, k):.3f} < {v}" for k, v in GATE["min"].items() if _get(summary, k) < v]
    failures += [f"{k} = {_get(summary, k):.3f} > {v}" for k, v in GATE["max"].items() if _get(summary, k) > v]
    assert not failures, failures


def test_report_files_and_baseline(summary: dict[str, Any]) -> None:
    report = Path(summary["report"])
    assert {"report.md", "metrics.json", "items.jsonl", "plot.png"} <= {p.name for p in report.iterdir()}
    assert "| hit@5 |" in (report / "report.md").read_text(encoding="utf-8")
    assert summary["n"] == len(load_items(SET))
    assert set(summary["baseline"]["retrieval"]) >= {"hit@1", "hit@5", "mrr@10"}
    assert summary["calibration"]["chosen"] == min_confidence(Settings())
    assert {"lang=fr", "lang=en", "kind=list"} <= set(summary["slices"])


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _longest_shared_run(question: list[str], corpus: set[tuple[str, ...]], longest: int) -> int:
    spans = [question[i : i + n] for n in range(1, longest + 1) for i in range(len(question) - n + 1)]
    return max((len(span) for span in spans if tuple(span) in corpus), default=0)


def test_question_set_reads_like_users_not_like_the_documents() -> None:
    """Review rules for eval/questions.jsonl (eval/README.md): size, mix, and paraphrase, not copy."""
    items = load_items(SET)
    kinds = Counter(i.tags["kind"] for i in items)
    assert len(items) >= 60 and {i.tags["lang"] for i in items} == {"fr", "en"}
    assert all(kinds[k] >= 3 for k in ("factoid", "list", "follow-up", "unanswerable-near", "unanswerable-off"))
    assert all(i.history for i in items if i.tags["kind"] == "follow-up")
    # No question copies the documents: at most 5 consecutive words in common (a proper name such as
    # "Journal de l'Action Sociale"), and at most a fifth of the set shares even 4.
    words = [w for path in sorted((ROOT / "corpus").glob("*.txt")) for w in _words(path.read_text(encoding="utf-8"))]
    grams = {tuple(words[i : i + n]) for n in range(1, 8) for i in range(len(words) - n + 1)}
    runs = {i.id: _longest_shared_run(_words(i.question), grams, 7) for i in items}
    assert max(runs.values()) <= 5, runs
    assert sum(r >= 4 for r in runs.values()) <= len(items) / 5, runs


def test_metrics_on_known_cases() -> None:
    assert token_f1("ESN [1]", "ESN") == 1.0 and token_f1("rien", "ESN") == 0.0
    assert fact_recall("L’ONPE participe à EuroCAN [2].", [["EuroCAN"], ["ISPCAN"]]) == 0.5
    assert fact_recall("Elle a été créée en 2006.", [["2006"]]) == 1.0
    assert [crag_score(True, False, True), crag_score(True, True, False), crag_score(False, False, True)] == [1, 0, -1]


def test_sampling_is_stratified_and_reproducible() -> None:
    items = load_items(SET)
    first, again = sample(items, 20, seed=3), sample(items, 20, seed=3)
    assert [i.id for i in first] == [i.id for i in again] and len(first) <= 20
    assert {i.tags["kind"] for i in first} == {i.tags["kind"] for i in items}


def test_squad_dataset_gets_its_own_index_built_once(onpe_settings: Settings, tmp_path: Path) -> None:
    paragraphs = [
        ("Lyon", "Lyon est une ville française située au confluent du Rhône et de la Saône.", "Quels fleuves à Lyon ?",
         "du Rhône et de la Saône"),
        ("Cuisine", "La tarte Tatin est une tarte aux pommes caramélisées cuite à l'envers.", "Comment cuit la Tatin ?",
         "à l'envers"),
        ("Sport", "Le Tour de France cycliste a été créé en 1903 par Henri Desgrange.", "Qui a créé le Tour ?",
         "Henri Desgrange"),
    ]  # fmt: skip
    data = {"data": [{"title": t, "categorie": t, "paragraphs": [{"context": c, "qas": [
        {"id": f"q{i}", "question": q, "answers": [{"text": a, "answer_start": c.index(a)}]}]}]}
        for i, (t, c, q, a) in enumerate(paragraphs)]}  # fmt: skip
    dataset = tmp_path / "mini-squad.json"
    dataset.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    settings = onpe_settings.with_(index_dir=tmp_path / "index")
    first = run_evaluation(settings, SET, dataset=dataset, baseline=False, progress=False)
    assert first["n"] == 3 and first["retrieval"]["hit@1"] == 1.0 and first["answer"]["fact_recall"] > 0.6
    current = next((tmp_path / "index" / "datasets").iterdir()) / "index" / "CURRENT"
    committed = current.read_text(encoding="utf-8")
    again = run_evaluation(settings, SET, dataset=dataset, baseline=False, progress=False)
    assert again["retrieval"] == first["retrieval"]
    assert current.read_text(encoding="utf-8") == committed  # reused: no new snapshot
