"""One way to open the team's SQLite files (accounts, groups, conversations): WAL, a busy timeout, the schema
created if missing, one transaction per use.

Example:
    >>> with transaction(tmp / "t.sqlite3", "CREATE TABLE IF NOT EXISTS t (x);") as db:
    ...     _ = db.execute("INSERT INTO t VALUES (1)")
    >>> with transaction(tmp / "t.sqlite3", "") as db:
    ...     db.execute("SELECT COUNT(*) FROM t").fetchone()
    (1,)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_S = 30  # writers from other threads and processes wait their turn


@contextmanager
def transaction(path: Path, schema: str, durable: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection to ``path`` (created with ``schema`` if needed) inside one transaction, closed afterwards.

    ``durable=False`` syncs at WAL checkpoints only (``synchronous=NORMAL``): a crash may lose the last writes,
    never corrupt the file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        if not durable:
            connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(schema)
        with connection:
            yield connection
    finally:
        connection.close()
