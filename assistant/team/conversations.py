"""Saved conversations: each user's questions and answers in SQLite (WAL) under the data directory, reopened
exactly as they were answered, with the citations whose document changed since flagged.

Each turn keeps the whole answer (text, citations with their offsets, mode, confidence…), the index snapshot and
model it was given with, and the content hash of every cited document. One user never reads, renames or deletes
another's conversation: every query names its owner. A damaged database file is set aside (never deleted) and a
new one begun; the chat goes on answering.

Example:
    >>> from assistant.answering.types import Answer
    >>> store = Conversations(tmp / "data")
    >>> answer = Answer("Qui organise les Assises ?", "L’ONPE.", False, "extractive", "fr")
    >>> conversation = store.save("marie", None, answer, Saved("Qui organise les Assises ?"))
    >>> [s.title for s in store.recent("marie")], store.recent("paul")
    (['Qui organise les Assises ?'], [])
    >>> store.turns("marie", conversation)[0].answer.answer
    'L’ONPE.'
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.answering.types import Answer
from assistant.errors import UsageError
from assistant.team.store import transaction

log = logging.getLogger(__name__)
DATABASE = "conversations.sqlite3"
TITLE_CHARS = 80
LISTED = 200  # conversations shown in the sidebar, most recent first
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, user TEXT NOT NULL, title TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS conversations_by_user ON conversations (user, updated);
CREATE TABLE IF NOT EXISTS turns (conversation TEXT NOT NULL, position INTEGER NOT NULL, created REAL NOT NULL,
    question TEXT NOT NULL, answer TEXT NOT NULL, history TEXT NOT NULL, snapshot TEXT NOT NULL,
    model TEXT NOT NULL, hashes TEXT NOT NULL, PRIMARY KEY (conversation, position));
"""
# SQLite's primary result codes for a damaged file: SQLITE_CORRUPT, SQLITE_NOTADB.
DAMAGED = (11, 26)
# What reopening says of a citation whose document is no longer as it was when the answer was given.
CHANGED = "ce passage a changé depuis la réponse"
MOVED = "le document a été modifié depuis la réponse ; ce passage y figure toujours"
REMOVED = "ce document n’est plus dans l’index"


@dataclass
class Saved:
    """What is kept with an answer besides the answer itself."""

    question: str  # as the user typed it (the answer's own may be the rewritten follow-up)
    history: list[str] = field(default_factory=list)  # the earlier questions it was answered with
    snapshot: str = ""  # index snapshot name
    model: str = ""
    hashes: dict[str, str] = field(default_factory=dict)  # content hash of each cited document, by source


@dataclass(frozen=True)
class Summary:
    id: str
    title: str
    created: float
    updated: float


@dataclass
class Turn:
    answer: Answer
    saved: Saved
    created: float


def title_of(question: str) -> str:
    """A conversation's title: its first question on one line, cut at a word near :data:`TITLE_CHARS`.

    >>> title_of("Qui   organise\\nles Assises ?")
    'Qui organise les Assises ?'
    """
    text = " ".join(question.split())
    if len(text) <= TITLE_CHARS:
        return text or "(sans titre)"
    return text[:TITLE_CHARS].rsplit(" ", 1)[0] + "…"


class Conversations:
    """The saved conversations of one data directory; safe across threads and processes (SQLite, WAL)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DATABASE
        self.notice: str | None = None  # set when a damaged file was set aside (told once in the chat)
        self._repair = threading.Lock()

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, SCHEMA, durable=False)

    def _run(self, work: Any) -> Any:
        """``work(db)`` in one transaction; on a damaged file, set it aside and run it on a new one."""
        try:
            with self._connect() as db:
                return work(db)
        except sqlite3.DatabaseError as err:
            if getattr(err, "sqlite_errorcode", 0) & 0xFF not in DAMAGED:  # locked, full, a constraint…: not damage
                raise
            self._set_aside(err)
            with self._connect() as db:
                return work(db)

    def _set_aside(self, err: Exception) -> None:
        with self._repair:
            if not self.path.exists():
                return
            aside = self.path.with_name(f"{DATABASE}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
            for suffix in ("", "-wal", "-shm"):
                part = Path(f"{self.path}{suffix}")
                if part.exists():
                    part.replace(f"{aside}{suffix}")
            self.notice = (
                f"Le fichier des conversations enregistrées était endommagé : il a été mis de côté ({aside.name}) "
                "et un nouveau a été commencé."
            )
            log.warning("%s (%s)", self.notice, err)

    def save(self, user: str, conversation: str | None, answer: Answer, saved: Saved) -> str:
        """Append a turn to ``user``'s conversation (a new one when ``conversation`` is None or not theirs);
        its id."""

        def work(db: sqlite3.Connection) -> str:
            now = time.time()
            mine = "SELECT 1 FROM conversations WHERE id = ? AND user = ?"
            known = conversation is not None and db.execute(mine, (conversation, user)).fetchone() is not None
            key = conversation if known and conversation else uuid.uuid4().hex[:16]
            if known:
                db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, key))
            else:
                db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?)",
                           (key, user, title_of(saved.question), now, now))  # fmt: skip
            last = "SELECT COALESCE(MAX(position) + 1, 0) FROM turns WHERE conversation = ?"  # the index: O(log n)
            position = db.execute(last, (key,)).fetchone()[0]
            db.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, position, now, saved.question, json.dumps(answer.as_json(), ensure_ascii=False),
                 json.dumps(saved.history, ensure_ascii=False), saved.snapshot, saved.model,
                 json.dumps(saved.hashes)),
            )  # fmt: skip
            return key

        return str(self._run(work))

    def recent(self, user: str, limit: int = LISTED) -> list[Summary]:
        """``user``'s conversations, the most recently used first."""
        rows = self._run(lambda db: db.execute(
            "SELECT id, title, created, updated FROM conversations WHERE user = ? ORDER BY updated DESC LIMIT ?",
            (user, limit)).fetchall())  # fmt: skip
        return [Summary(*row) for row in rows]

    def owner(self, conversation: str) -> str | None:
        """Whose conversation this is (None: there is none of that id)."""
        row = self._run(lambda db: db.execute(
            "SELECT user FROM conversations WHERE id = ?", (conversation,)).fetchone())  # fmt: skip
        return str(row[0]) if row else None

    def turns(self, user: str, conversation: str) -> list[Turn]:
        """The turns of ``user``'s conversation, in order.

        Raises:
            UsageError: no conversation of that id belongs to ``user`` (the same message whether it exists or not).
        """
        self._mine(user, conversation)
        rows = self._run(lambda db: db.execute(
            "SELECT question, answer, history, snapshot, model, hashes, created FROM turns WHERE conversation = ?"
            " ORDER BY position", (conversation,)).fetchall())  # fmt: skip
        return [
            Turn(Answer.from_json(json.loads(answer)), Saved(question, json.loads(history), snapshot, model,
                                                             json.loads(hashes)), created)
            for question, answer, history, snapshot, model, hashes, created in rows
        ]  # fmt: skip

    def title(self, user: str, conversation: str) -> str:
        self._mine(user, conversation)
        row = self._run(lambda db: db.execute("SELECT title FROM conversations WHERE id = ?", (conversation,))
                        .fetchone())  # fmt: skip
        return str(row[0])

    def rename(self, user: str, conversation: str, title: str) -> None:
        """Give ``user``'s conversation a new title (one line, cut like a first question)."""
        self._mine(user, conversation)
        self._run(lambda db: db.execute("UPDATE conversations SET title = ? WHERE id = ? AND user = ?",
                                        (title_of(title), conversation, user)))  # fmt: skip

    def delete(self, user: str, conversation: str) -> None:
        """Remove ``user``'s conversation and its turns."""
        self._mine(user, conversation)

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM turns WHERE conversation = ?", (conversation,))
            db.execute("DELETE FROM conversations WHERE id = ? AND user = ?", (conversation, user))

        self._run(work)

    def forget(self, user: str) -> None:
        """Delete every conversation of ``user`` (an account removed: a new one of that name starts empty)."""
        if not self.path.is_file():
            return

        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM turns WHERE conversation IN (SELECT id FROM conversations WHERE user = ?)",
                       (user,))  # fmt: skip
            db.execute("DELETE FROM conversations WHERE user = ?", (user,))

        self._run(work)

    def _mine(self, user: str, conversation: str) -> None:
        if self.owner(conversation) != user:
            raise UsageError(f"no saved conversation {conversation[:40]!r} of yours")


def changes(turn: Turn, documents: dict[str, dict[str, Any]], texts: dict[str, str]) -> dict[int, str]:
    """What changed, since the answer was given, under each of its citations (by number; unchanged ones absent).

    Args:
        turn: a saved turn.
        documents: the current index's documents (snapshot meta: their ``hash``), by source.
        texts: the current text of each document, by source.
    """
    flags = {}
    for citation in turn.answer.citations:
        now = documents.get(citation.source)
        if now is None:
            flags[citation.n] = REMOVED
        elif now.get("hash") != turn.saved.hashes.get(citation.source):
            quoted = citation.text[citation.quote_start - citation.start : citation.quote_end - citation.start]
            flags[citation.n] = MOVED if quoted and quoted in texts.get(citation.source, "") else CHANGED
    return flags
