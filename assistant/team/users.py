"""Accounts of the web chat: names, roles, Argon2id password hashes in SQLite under the data directory; login
attempts limited per user and per address.

Roles: ``reader`` asks; ``editor`` also changes the document library and reindexes; ``admin`` also manages
accounts and reads the audit log. When any account exists the web chat asks for a login.

Example:
    >>> accounts = Accounts(tmp / "data")
    >>> accounts.add("marie", "editor", "correct horse battery")
    >>> accounts.check("marie", "correct horse battery"), accounts.check("marie", "wrong"), accounts.role("marie")
    (True, False, 'editor')
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from assistant.errors import UsageError
from assistant.team.store import transaction

ROLES = ("reader", "editor", "admin")
DATABASE = "accounts.sqlite3"
MIN_PASSWORD = 8
MAX_TRACKED = 10_000  # login failures remembered (users and addresses); the oldest tenth goes beyond
SCHEMA = """CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL,
    created REAL NOT NULL);"""
RESERVED = "anonymous"  # the owner of conversations saved without logins
_NAME = re.compile(r"^[\w.@-]{1,64}$")
_HASHER = PasswordHasher()  # Argon2id, 64 MiB, 3 passes: the library's defaults (RFC 9106's second choice)
# Checked against for an unknown name, so that it costs as much as a known one (no timing tells names apart).
_DUMMY = _HASHER.hash("not a password of anyone")


def _valid(name: str, role: str | None = None, password: str | None = None) -> None:
    if not _NAME.match(name) or name == RESERVED:
        raise UsageError(f"invalid user name {name[:40]!r}: 1-64 letters, digits, . _ @ - (not {RESERVED!r})")
    if role is not None and role not in ROLES:
        raise UsageError(f"unknown role {role!r} (reader, editor or admin)")
    if password is not None and len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must have at least {MIN_PASSWORD} characters")


class Accounts:
    """The accounts of one data directory (``ASSISTANT_DATA``); safe across threads and processes (SQLite, WAL)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DATABASE

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, SCHEMA)

    def exist(self) -> bool:
        """Whether any account exists (then the web chat requires a login)."""
        if not self.path.is_file():
            return False
        with self._db() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def add(self, name: str, role: str, password: str) -> None:
        """Create an account.

        Raises:
            UsageError: a bad name, role or password, or a name already taken.
        """
        _valid(name, role, password)
        try:
            with self._db() as db:
                db.execute("INSERT INTO users VALUES (?, ?, ?, ?)", (name, role, _HASHER.hash(password), time.time()))
        except sqlite3.IntegrityError as err:
            raise UsageError(f"user {name!r} already exists") from err

    def list(self) -> list[tuple[str, str]]:
        """Every (name, role), by name."""
        if not self.path.is_file():
            return []
        with self._db() as db:
            return [(str(n), str(r)) for n, r in db.execute("SELECT name, role FROM users ORDER BY name")]

    def _changed(self, statement: str, values: tuple[object, ...], name: str) -> None:
        with self._db() as db:
            if db.execute(statement, values).rowcount == 0:
                raise UsageError(f"no user named {name!r}")

    def remove(self, name: str) -> None:
        """Delete an account (raises UsageError when there is none of that name)."""
        self._changed("DELETE FROM users WHERE name = ?", (name,), name)

    def set_password(self, name: str, password: str) -> None:
        """Replace an account's password (raises UsageError: no such user, or a password too short)."""
        _valid(name, password=password)
        self._changed("UPDATE users SET hash = ? WHERE name = ?", (_HASHER.hash(password), name), name)

    def role(self, name: str) -> str | None:
        """The account's role, or None when there is no such account."""
        with self._db() as db:
            row = db.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
        return str(row[0]) if row else None

    def check(self, name: str, password: str) -> bool:
        """Whether the password is the account's (an unknown name costs the same time as a wrong password)."""
        with self._db() as db:
            row = db.execute("SELECT hash FROM users WHERE name = ?", (name,)).fetchone()
        try:
            return bool(_HASHER.verify(row[0] if row else _DUMMY, password)) and row is not None
        except (VerificationError, InvalidHashError):
            return False


@dataclass
class Limiter:
    """Failed logins per key (a user name, an address): after ``free`` failures, each further attempt waits
    ``base`` seconds, doubling up to ``cap``. A success clears the key."""

    free: int = 5
    base: float = 2.0
    cap: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now)."""
        with self._lock:
            count, last = self._failures.get(key, (0, 0.0))
        if count < self.free:
            return 0.0
        delay = min(self.cap, self.base * 2.0 ** (count - self.free))
        return max(0.0, last + delay - float(self.clock()))

    def failed(self, key: str) -> None:
        with self._lock:
            count, _ = self._failures.get(key, (0, 0.0))
            self._failures[key] = (count + 1, self.clock())
            if len(self._failures) > MAX_TRACKED:  # made-up names must not grow memory without end
                oldest = sorted(self._failures, key=lambda k: self._failures[k][1])[: MAX_TRACKED // 10]
                for stale in oldest:
                    del self._failures[stale]

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
