"""The evaluation runner on the ONPE set (extractive), gated by eval/gate.json; metrics on known cases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.config import Settings
from assistant.evalset import load_items
from assistant.evaluation_cli import run_evaluation, sample
from assistant.metrics import crag_score, fact_recall, token_f1

from .conftest import ROOT

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
    assert summary["calibration"]["chosen"] == Settings().threshold
    assert {"lang=fr", "lang=en", "kind=list"} <= set(summary["slices"])


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
    settings = onpe_settings.with_(index=tmp_path / "index")
    first = run_evaluation(settings, SET, dataset=dataset, baseline=False, progress=False)
    assert first["n"] == 3 and first["retrieval"]["hit@1"] == 1.0 and first["answer"]["fact_recall"] > 0.6
    current = next((tmp_path / "index" / "datasets").iterdir()) / "index" / "CURRENT"
    committed = current.read_text(encoding="utf-8")
    again = run_evaluation(settings, SET, dataset=dataset, baseline=False, progress=False)
    assert again["retrieval"] == first["retrieval"]
    assert current.read_text(encoding="utf-8") == committed  # reused: no new snapshot
