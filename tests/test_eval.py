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
