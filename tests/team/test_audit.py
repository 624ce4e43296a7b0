"""The audit log: hash chain, every kind of tampering named, retention that keeps the chain verifiable,
concurrent writers, exports; and the CLI recording real answers."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.team.audit import AuditLog, export
from tests.helpers import run


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(n):
        log.append({"user": f"u{i % 2}", "question": f"Question {i} ?", "abstained": False})
        time.sleep(0.005)  # distinct times (retention compares them)
    return log


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_an_intact_log_verifies(tmp_path: Path) -> None:
    log = _log(tmp_path)
    assert log.verify() == (5, None)
    assert [e["seq"] for e in log.entries()] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (
            lambda lines: [*lines[:2], lines[2].replace("Question 2", "Question 9"), *lines[3:]],
            "entry 3 (line 3): edited",
        ),
        (lambda lines: [lines[0], *lines[2:]], "entry 3 (line 2): out of sequence"),
        (lambda lines: [lines[0], lines[2], lines[1], *lines[3:]], "entry 3 (line 2): out of sequence"),
        (lambda lines: [*lines[:4], lines[4][: len(lines[4]) // 2]], "line 5: not a complete entry"),
    ],
    ids=["edited", "removed", "reordered", "truncated"],
)
def test_tampering_is_found_and_named(tmp_path: Path, tamper: object, named: str) -> None:
    log = _log(tmp_path)
    log.path.write_text("".join(tamper(_lines(log))), encoding="utf-8")  # type: ignore[operator]
    _, problem = log.verify()
    assert problem is not None and problem.startswith(named), problem


def test_entries_removed_from_the_end_are_found_and_a_torn_line_does_not_stop_the_log(tmp_path: Path) -> None:
    log = _log(tmp_path)
    whole = log.path.read_text(encoding="utf-8")
    log.path.write_text("".join(_lines(log)[:3]), encoding="utf-8")
    assert log.verify() == (3, "the log ends at entry 3, its head file at entry 5: entries removed from the end")
    log.path.write_text(whole + '{"seq": 6, "time": 1', encoding="utf-8")  # a crash in the middle of a write
    log.append({"user": "u", "question": "after the crash"})  # still logged, chained to entry 5
    last = json.loads(_lines(log)[-1])
    assert last["question"] == "after the crash" and last["seq"] == 6
    assert log.verify()[1] == "line 6: not a complete entry (truncated or edited)"
    with pytest.raises(ValueError, match="does not verify"):
        log.prune(days=0)  # pruning a broken log would erase the evidence


def test_an_entry_rewritten_with_a_fresh_hash_still_breaks_the_chain(tmp_path: Path) -> None:
    from assistant.team.audit import _digest

    log = _log(tmp_path)
    lines = _lines(log)
    entry = json.loads(lines[1])
    entry["question"] = "Rewritten ?"
    entry["hash"] = _digest(entry)  # a forger recomputes this entry's hash, but the next one chains the old one
    lines[1] = json.dumps(entry) + "\n"
    log.path.write_text("".join(lines), encoding="utf-8")
    assert log.verify()[1].startswith("entry 3 (line 3): does not follow")  # type: ignore[union-attr]


def test_retention_drops_old_entries_and_the_rest_still_verifies(tmp_path: Path) -> None:
    log = _log(tmp_path, 4)
    times = [e["time"] for e in log.entries()]
    cutoff = (times[1] + times[2]) / 2  # entries 1 and 2 are older
    dropped = log.prune(days=(times[3] - cutoff) / 86_400, now=times[3])
    assert dropped == 2
    kept = list(log.entries())
    assert kept[0]["kind"] == "pruned" and [e["seq"] for e in kept[1:]] == [3, 4]
    log.append({"user": "u", "question": "after pruning"})
    assert log.verify() == (4, None)


def test_twenty_writers_at_once_keep_one_chain(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")

    def write(worker: int) -> None:
        for i in range(10):
            AuditLog(log.path).append({"user": f"w{worker}", "question": f"q{i}"})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert log.verify() == (200, None)


def test_exports_filter_and_never_write_a_formula(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append({"user": "marie", "question": '=HYPERLINK("http://x")', "citations": []})
    log.append({"user": "paul", "question": "Qui organise ?", "citations": [{"source": "a.txt", "start": 3}]})
    as_csv = export(log.entries(), "csv", user="marie")
    assert "'=HYPERLINK" in as_csv and "paul" not in as_csv
    lines = export(log.entries(), "jsonl", since=time.time() + 60)
    assert lines == ""
    with pytest.raises(ValueError, match="unknown format"):
        export(log.entries(), "xml")


def test_cli_answers_are_logged_and_verified(onpe_settings: Settings, tmp_path: Path) -> None:
    env = {"ASSISTANT_DATA": str(tmp_path / "data")}
    run(["ask", "--mode", "extractive", "Qui organise les Assises ?"], onpe_settings, env=env)
    batch = '{"question": "Quels réseaux ?"}\n{"question": "Comment faire une tarte ?"}\n'
    run(["ask", "--mode", "extractive", "-"], onpe_settings, stdin=batch, env=env)
    entries = list(AuditLog(tmp_path / "data" / "audit.jsonl").entries())
    assert [e["question"] for e in entries] == ["Qui organise les Assises ?", "Quels réseaux ?",
                                                 "Comment faire une tarte ?"]  # fmt: skip
    assert entries[0]["channel"] == "cli" and entries[0]["citations"] and not entries[0]["abstained"]
    assert entries[2]["abstained"] and entries[0]["snapshot"] and entries[0]["model"] == "extractive"
    ok = run(["audit", "verify"], env=env)
    assert ok.returncode == 0 and "3 entries verified, chain intact" in ok.stdout
    exported = run(["audit", "export", "--format", "csv"], env=env)
    assert exported.stdout.count("\n") == 4 and "Qui organise les Assises ?" in exported.stdout
    path = tmp_path / "data" / "audit.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("Quels réseaux", "Quels budgets"), encoding="utf-8")
    broken = run(["audit", "verify"], env=env)
    assert broken.returncode == 1 and "entry 2 (line 2): edited" in broken.stderr
    off = run(["ask", "--mode", "extractive", "Qui organise ?"], onpe_settings, env=env | {"ASSISTANT_AUDIT": "off"})
    assert off.returncode == 0 and len(list(AuditLog(path).entries())) == 3
