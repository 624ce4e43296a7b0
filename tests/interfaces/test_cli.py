"""The CLI contract, through real subprocesses: JSON shapes, exit codes, batch mode, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from tests.helpers import CORPUS, run


def test_index_json_contract(tmp_path: Path) -> None:
    settings = Settings.from_env(corpus=CORPUS, index_dir=tmp_path / "index")
    result = run(["index", "--json"], settings)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"added", "updated", "deleted", "unchanged", "skipped", "chunks", "seconds"} <= set(report)
    assert (report["added"], report["chunks"] > 0) == (2, True)
    again = json.loads(run(["index", "--json"], settings).stdout)
    assert (again["unchanged"], again["added"]) == (2, 0)


def test_ask_json_contract_names_the_networks(onpe_settings: Settings) -> None:
    result = run(["ask", "--mode", "extractive", "--json", "Which networks is ONPE a member of?"], onpe_settings)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert {"question", "answer", "abstained", "mode", "citations"} <= set(answer)
    assert answer["mode"] == "extractive" and answer["abstained"] is False
    for network in ("ESN", "EuroCAN", "EUSARF", "ISPCAN"):
        assert network in answer["answer"]
    for citation in answer["citations"]:
        assert {"n", "source", "title", "text", "start", "end", "score"} <= set(citation)
        assert f"[{citation['n']}]" in answer["answer"]


def test_human_output_lists_sources(onpe_settings: Settings) -> None:
    result = run(["ask", "--mode", "extractive", "Depuis quand les Assises existent-elles ?"], onpe_settings)
    assert result.returncode == 0
    assert "2006" in result.stdout and "Sources:" in result.stdout and "[1]" in result.stdout


@pytest.mark.parametrize("question", ["", "   ", "\x01\x02\x7f", "x" * 100_000])
def test_unusable_questions_exit_2_with_a_message(onpe_settings: Settings, question: str) -> None:
    result = run(["ask", "--mode", "extractive", question], onpe_settings)
    assert result.returncode == 2
    assert result.stderr.startswith("error: the question is")


def test_a_question_with_bytes_that_are_not_utf8_is_answered(onpe_settings: Settings) -> None:
    # A terminal in another encoding: Python hands the bytes \xff\xfe over as lone surrogates.
    result = run(["ask", "--mode", "extractive", "--json", "Depuis quand les Assises \udcff\udcfe existent-elles ?"],
                 onpe_settings)  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert "2006" in answer["answer"] and "\ufffd" in answer["question"]


def test_batch_mode_answers_each_line(onpe_settings: Settings) -> None:
    lines = [
        {"question": "Depuis quand les Assises existent-elles ?"},
        {"question": ""},
        {"question": "Since when?", "history": ["How many professionals attend the Assises each year?"]},
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\nnot json\n"
    result = run(["ask", "--mode", "extractive", "-"], onpe_settings, stdin=stdin)
    assert result.returncode == 0, result.stderr
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == 4
    assert "2006" in out[0]["answer"] and "2006" in out[2]["answer"]
    assert "empty" in out[1]["error"] and "invalid input" in out[3]["error"]


def test_errors_are_one_line_with_exit_1(tmp_path: Path) -> None:
    missing = Settings.from_env(corpus=CORPUS, index_dir=tmp_path / "nothing")
    result = run(["ask", "Quels réseaux ?"], missing)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: no index in {tmp_path / 'nothing'}: run `assistant index` first"
    nocorpus = Settings.from_env(corpus=tmp_path / "absent", index_dir=tmp_path / "i")
    result = run(["index"], nocorpus)
    assert result.returncode == 1 and "corpus directory not found" in result.stderr


def test_usage_errors_exit_2(onpe_settings: Settings) -> None:
    assert run(["ask"], onpe_settings).returncode == 2
    assert run(["ask", "--mode", "psychic", "x"], onpe_settings).returncode == 2


def test_ask_source_limits_the_search(onpe_settings: Settings) -> None:
    question = "Qui organise les Assises ?"
    chosen = run(["ask", "--json", "--mode", "extractive", "--source", "*assises*", question], onpe_settings)
    answer = json.loads(chosen.stdout)
    assert not answer["abstained"] and answer["sources"] == ["*assises*"]
    assert {c["source"] for c in answer["citations"]} == {"onpe-assises-nationales-protection-enfance.txt"}
    other = run(["ask", "--json", "--mode", "extractive", "--source", "onpe-partenariats-*", question], onpe_settings)
    cited = {c["source"] for c in json.loads(other.stdout)["citations"]}
    assert cited <= {"onpe-partenariats-et-reseaux-internationaux.txt"}
    missing = run(["ask", "--mode", "extractive", "--source", "rapports", question], onpe_settings)
    assert missing.returncode == 2 and "no indexed document matches rapports" in missing.stderr
