"""Folders readable by group: an admin creates groups, puts accounts in them, and grants a group a folder of the
corpus. A folder granted to any group is restricted: only the members of a group granted it (and admins) read
what it holds, subfolders included. Folders granted to no group stay readable by every account, as before
groups existed. Stored beside the accounts (``accounts.sqlite3``).

The check is :meth:`Groups.readable`: the set of documents a user may read, which the search applies on the
server to both its dense and its BM25 side (``SearchEngine.search(readable=…)``); the library, the picker,
the index status line and the API list only those.

Example:
    >>> from assistant.team.users import Accounts
    >>> Accounts(tmp / "data").add("marie", "reader", "un mot de passe solide")
    >>> groups = Groups(tmp / "data")
    >>> groups.add("juristes"); groups.grant("juristes", "confidentiel"); groups.join("marie", "juristes")
    >>> documents = ["onpe.txt", "confidentiel/avis.pdf", "confidentiel/2024/note.docx"]
    >>> sorted(groups.readable("paul", documents)), len(groups.readable("marie", documents))
    (['onpe.txt'], 3)
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path

from assistant.errors import UsageError
from assistant.team.store import transaction
from assistant.team.users import DATABASE

_GROUP = re.compile(r"^[\w.@-]{1,64}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS grants (grp TEXT NOT NULL, folder TEXT NOT NULL, PRIMARY KEY (grp, folder));
CREATE TABLE IF NOT EXISTS members (grp TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (grp, user));
"""


def clean_folder(folder: str) -> str:
    """A corpus folder as grants store it: POSIX, no leading or trailing slash, no ``..``.

    >>> clean_folder("/rapports\\\\2024/")
    'rapports/2024'
    """
    parts = [p for p in folder.replace("\\", "/").split("/") if p and p != "."]
    if not parts or ".." in parts:
        raise UsageError(f"not a folder of the corpus: {folder[:80]!r}")
    return "/".join(parts)


def inside(source: str, folder: str) -> bool:
    """Whether ``source`` lies under ``folder`` (or is it: a single file granted is restricted too)."""
    return source == folder or source.startswith(folder + "/")


class Groups:
    """Groups, their members and their folders, in one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DATABASE

    def _db(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path, SCHEMA)

    def _known(self, db: sqlite3.Connection, group: str) -> None:
        if db.execute("SELECT 1 FROM groups WHERE name = ?", (group,)).fetchone() is None:
            raise UsageError(f"no group named {group[:64]!r}")

    def add(self, group: str) -> None:
        """Create a group (raises UsageError: a bad name, or one already taken)."""
        if not _GROUP.match(group):
            raise UsageError(f"invalid group name {group[:40]!r}: 1-64 letters, digits, . _ @ -")
        try:
            with self._db() as db:
                db.execute("INSERT INTO groups VALUES (?)", (group,))
        except sqlite3.IntegrityError as err:
            raise UsageError(f"group {group!r} already exists") from err

    def remove(self, group: str) -> None:
        """Delete a group, its grants and its memberships (a folder granted to no group any more is open)."""
        with self._db() as db:
            self._known(db, group)
            db.execute("DELETE FROM grants WHERE grp = ?", (group,))
            db.execute("DELETE FROM members WHERE grp = ?", (group,))
            db.execute("DELETE FROM groups WHERE name = ?", (group,))

    def _pair(self, statement: str, group: str, value: str) -> None:
        with self._db() as db:
            self._known(db, group)
            db.execute(statement, (group, value))

    def grant(self, group: str, folder: str) -> None:
        """Let ``group`` read ``folder`` (which becomes restricted to the groups granted it)."""
        self._pair("INSERT OR IGNORE INTO grants VALUES (?, ?)", group, clean_folder(folder))

    def revoke(self, group: str, folder: str) -> None:
        self._pair("DELETE FROM grants WHERE grp = ? AND folder = ?", group, clean_folder(folder))

    def join(self, user: str, group: str) -> None:
        """Put the account ``user`` in ``group`` (raises UsageError: no such account or group)."""
        with self._db() as db:
            self._known(db, group)
            has_users = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'").fetchone()
            if not user or not has_users or not db.execute("SELECT 1 FROM users WHERE name = ?", (user,)).fetchone():
                raise UsageError(f"no user named {user[:64]!r}")
            db.execute("INSERT OR IGNORE INTO members VALUES (?, ?)", (group, user))

    def leave(self, user: str, group: str) -> None:
        self._pair("DELETE FROM members WHERE grp = ? AND user = ?", group, user)

    def forget(self, user: str) -> None:
        """Take a removed account out of every group."""
        if self.path.is_file():
            with self._db() as db:
                db.execute("DELETE FROM members WHERE user = ?", (user,))

    def describe(self) -> list[tuple[str, list[str], list[str]]]:
        """Every group with its folders and its members, by name."""
        if not self.path.is_file():
            return []
        with self._db() as db:
            names = [str(n) for (n,) in db.execute("SELECT name FROM groups ORDER BY name")]
            folders = db.execute("SELECT grp, folder FROM grants ORDER BY folder").fetchall()
            members = db.execute("SELECT grp, user FROM members ORDER BY user").fetchall()
        return [(n, [f for g, f in folders if g == n], [u for g, u in members if g == n]) for n in names]

    def readable(self, user: str | None, documents: Iterable[str]) -> set[str]:
        """The ``documents`` (corpus paths) that ``user`` may read: those under no restricted folder, and those
        whose every restricted folder is granted to a group of theirs (``None``: a caller with no account, who
        reads only what is open)."""
        documents = list(documents)
        if not self.path.is_file():
            return set(documents)
        with self._db() as db:
            grants = db.execute("SELECT grp, folder FROM grants").fetchall()
            mine = {g for (g,) in db.execute("SELECT grp FROM members WHERE user = ?", (user,))} if user else set()
        restricted: dict[str, set[str]] = {}
        for group, folder in grants:
            restricted.setdefault(folder, set()).add(group)
        return {d for d in documents if all(restricted[f] & mine for f in restricted if inside(d, f))}

    def restricted(self) -> bool:
        """Whether any folder is granted to a group (else every account reads everything)."""
        if not self.path.is_file():
            return False
        with self._db() as db:
            return db.execute("SELECT 1 FROM grants LIMIT 1").fetchone() is not None
