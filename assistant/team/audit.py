"""The audit log: every answer given (web chat, API, CLI), appended to a hash-chained JSON-lines file.

Each entry carries its sequence number and the hash of the entry before it, and its own hash covers both: an
edited, removed, reordered or truncated entry breaks the chain, and :func:`verify` names the first one.
Retention (``ASSISTANT_AUDIT_DAYS``) drops old entries and writes a « pruned » entry in their place that carries
the last dropped hash, so the chain of what is kept still verifies. ``ASSISTANT_AUDIT=off`` turns it off.

Example:
    >>> log = AuditLog(tmp / "audit.jsonl")
    >>> log.append({"user": "marie", "question": "Qui organise les Assises ?", "abstained": False})["seq"]
    1
    >>> log.verify()
    (1, None)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from assistant.answering.types import Answer
from assistant.config import Settings

log = logging.getLogger(__name__)
GENESIS = "0" * 64
AUDIT_FILE = "audit.jsonl"
# A cell a spreadsheet would run as a formula (=, +, -, @) is written as text.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_PRUNED = {"at": 0.0}  # when this process last applied retention
CSV_FIELDS = ["seq", "time", "user", "channel", "question", "mode", "model", "snapshot", "confidence", "abstained",
              "citations", "hash"]  # fmt: skip


def _digest(entry: dict[str, Any]) -> str:
    """The hash of an entry: its canonical JSON without its own ``hash`` (``prev`` included: the chain)."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _last_line(path: Path) -> str:
    """The file's last non-empty line, read from its end (the log may be large)."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        chunk, data = 4096, b""
        while end > 0 and data.count(b"\n") < 2:
            start = max(0, end - chunk)
            handle.seek(start)
            data = handle.read(end - start) + data
            end = start
    lines = [line for line in data.split(b"\n") if line.strip()]
    return lines[-1].decode("utf-8", errors="replace") if lines else ""


class AuditLog:
    """One log file; safe for several threads and processes (a lock file beside it)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path) + ".lock")

    @property
    def head_path(self) -> Path:
        """Beside the log: the number and hash of its last entry (entries removed from the end are found with it)."""
        return self.path.with_suffix(".head")

    def _tail(self) -> tuple[int, str]:
        """The last entry's number and hash: from the head file (a torn last line does not stop the log), else
        from the last line."""
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            return int(head["seq"]), str(head["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if not self.path.is_file() or not (line := _last_line(self.path)):
            return 0, GENESIS
        last = json.loads(line)
        return int(last["seq"]), str(last["hash"])

    def _write_head(self, seq: int, digest: str) -> None:
        partial = self.head_path.with_suffix(".head.tmp")
        partial.write_text(json.dumps({"seq": seq, "hash": digest}) + "\n", encoding="utf-8")
        partial.replace(self.head_path)

    def append(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Add one entry (``seq``, ``time``, ``prev`` and ``hash`` are set here) and return it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            seq, prev = self._tail()
            entry = {"seq": seq + 1, "time": round(time.time(), 3), **fields, "prev": prev}
            entry["hash"] = _digest(entry)
            with self.path.open("a", encoding="utf-8") as handle:
                # After a crash mid-write the torn line stays on its own line (verify names it): never glued to this.
                handle.write(
                    ("" if _ends_with_newline(self.path) else "\n") + json.dumps(entry, ensure_ascii=False) + "\n"
                )
                handle.flush()
                os.fsync(handle.fileno())
            self._write_head(entry["seq"], entry["hash"])
        return entry

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry, in order (a line that is not JSON raises ``ValueError``; :meth:`verify` reports it)."""
        if not self.path.is_file():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)

    def verify(self) -> tuple[int, str | None]:
        """Check the whole chain: (entries checked, None) or (entries checked before it broke, what broke)."""
        if not self.path.is_file():
            return 0, None
        prev, seq, checked = GENESIS, None, 0
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    return checked, f"line {number}: not a complete entry (truncated or edited)"
                problem = _broken(entry, prev, seq, first=checked == 0)
                if problem:
                    return checked, f"entry {entry.get('seq', '?')} (line {number}): {problem}"
                prev, seq, checked = entry["hash"], entry["seq"], checked + 1
        return checked, self._against_head(seq, prev)

    def _against_head(self, seq: int | None, digest: str) -> str | None:
        """Whether the log ends where its head file says (entries removed from the end are found here)."""
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
        except OSError:
            return None  # a log written before head files: nothing to compare
        except ValueError:
            return f"the head file {self.head_path.name} is damaged"
        if head.get("seq") != seq or head.get("hash") != digest:
            return (
                f"the log ends at entry {seq}, its head file at entry {head.get('seq')}: entries removed from the end"
            )
        return None

    def prune(self, days: float, now: float | None = None) -> int:
        """Drop entries older than ``days``; a « pruned » entry keeps the chain verifiable. Returns how many."""
        cutoff = (now or time.time()) - days * 86_400
        checked, problem = self.verify()
        if problem:  # pruning would erase the evidence
            raise ValueError(f"the audit log does not verify ({checked} entries, then {problem}): not pruned")
        with self._lock:
            entries = list(self.entries())
            old = [e for e in entries if e.get("kind") != "pruned" and e["time"] < cutoff]
            if not old:
                return 0
            kept = [e for e in entries if e["seq"] > old[-1]["seq"]]
            # The kept chain goes on from the last dropped entry: the marker stands in for it (number and hash).
            marker = {"seq": old[-1]["seq"], "time": round(time.time(), 3), "kind": "pruned", "dropped": len(old),
                      "before": round(cutoff, 3), "hash": old[-1]["hash"]}  # fmt: skip
            temporary = self.path.with_suffix(".tmp")
            with temporary.open("w", encoding="utf-8") as handle:
                handle.write("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in [marker, *kept]))
                handle.flush()
                os.fsync(handle.fileno())
            temporary.replace(self.path)
        return len(old)


def _broken(entry: dict[str, Any], prev: str, seq: int | None, first: bool) -> str | None:
    """What is wrong with ``entry`` after an entry of hash ``prev`` and number ``seq`` (None: nothing)."""
    if first and entry.get("kind") == "pruned":  # what retention dropped: the chain starts again from here
        return None if isinstance(entry.get("seq"), int) and isinstance(entry.get("hash"), str) else "bad marker"
    if not isinstance(entry.get("seq"), int) or (seq is not None and entry["seq"] != seq + 1):
        return f"out of sequence (after entry {seq}): an entry was removed or moved"
    if entry.get("prev") != prev:
        return "does not follow the entry before it (removed, moved or edited)"
    if entry.get("hash") != _digest(entry):
        return "edited (its hash does not match its content)"
    return None


def answer_fields(answer: Answer, user: str, channel: str, snapshot: str, model: str) -> dict[str, Any]:
    """What the log keeps of one answer."""
    citations = [
        {"source": c.source, "start": c.quote_start, "end": c.quote_end, "page": c.pages[0] if c.pages else None}
        for c in answer.citations
    ]
    return {"user": user, "channel": channel, "question": answer.question, "mode": answer.mode, "model": model,
            "snapshot": snapshot, "citations": citations, "confidence": round(answer.confidence, 4),
            "abstained": answer.abstained}  # fmt: skip


def export(entries: Iterator[dict[str, Any]], fmt: str, since: float | None = None, user: str | None = None) -> str:
    """Entries (from ``since``, of ``user``) as JSON lines or CSV.

    Raises:
        ValueError: an unknown format.
    """
    chosen = [e for e in entries if e.get("kind") != "pruned" and (since is None or e["time"] >= since)
              and (user is None or e.get("user") == user)]  # fmt: skip
    if fmt == "jsonl":
        return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in chosen)
    if fmt != "csv":
        raise ValueError(f"unknown format {fmt!r} (jsonl or csv)")
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for e in chosen:
        when = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(e["time"]))
        cited = "; ".join(f"{c['source']}@{c['start']}" for c in e.get("citations", []))
        row = {**e, "time": when, "citations": cited}
        writer.writerow({k: f"'{v}" if isinstance(v, str) and v.startswith(_FORMULA) else v for k, v in row.items()})
    return out.getvalue()


def audit_log(settings: Settings) -> AuditLog:
    """The log of this data directory (``ASSISTANT_DATA``)."""
    return AuditLog(settings.data_dir / AUDIT_FILE)


def record(settings: Settings, answer: Answer, *, user: str, channel: str, snapshot: str, model: str) -> None:
    """Log one answer (unless ``ASSISTANT_AUDIT=off``); retention is applied at most once an hour per process.

    A log that cannot be written never stops an answer: the failure is logged (``verify`` will show the gap).
    """
    if not settings.audit:
        return
    target = audit_log(settings)
    try:
        target.append(answer_fields(answer, user, channel, snapshot, model))
        if settings.audit_days and time.time() - _PRUNED["at"] > 3600:
            _PRUNED["at"] = time.time()
            target.prune(settings.audit_days)
    except (OSError, ValueError, KeyError) as err:
        log.warning("audit log %s not written: %s", target.path, err)
