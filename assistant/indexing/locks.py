"""Who may use the index: one writer at a time, and one process at a time on the embedded store.

Both are file locks taken with ``timeout=0``: a second comer is told at once, with a message that
says what holds the index and what to do, instead of waiting.

Example:
    >>> with held(writer_lock(tmp), IndexBusy("busy")):
    ...     with held(writer_lock(tmp), IndexBusy("another indexing run is writing")):
    ...         pass
    Traceback (most recent call last):
    ...
    assistant.errors.IndexBusy: another indexing run is writing
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.errors import IndexBusy, StoreError, StoreInUse


def writer_lock(index_dir: Path) -> FileLock:
    """One indexing run at a time, even within one process (the web chat's reindex and its watcher)."""
    return FileLock(str(index_dir / ".lock"), timeout=0)


def writer_busy(index_dir: Path) -> IndexBusy:
    """What a second indexing run is told."""
    return IndexBusy(
        f"another indexing run is writing {index_dir} (lock {index_dir / '.lock'}); wait for it to finish and try again"
    )


@contextlib.contextmanager
def held(lock: FileLock, busy: StoreInUse) -> Iterator[None]:
    """Hold ``lock`` (``timeout=0``) for the block, or raise ``busy`` at once when another process has it.

    Raises:
        StoreInUse: ``busy``, when the lock is taken.
        StoreError: the lock's directory cannot be written (with the system's reason).
    """
    directory = Path(lock.lock_file).parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout as err:
        raise busy from err
    except OSError as err:
        raise StoreError(
            f"cannot write in {directory} ({err.strerror or err.__class__.__name__}): "
            "the index needs a writable directory"
        ) from err
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def exclusive_use(index_dir: Path, url: str | None) -> Iterator[None]:
    """Keep other processes off the embedded store while this one writes or serves it.

    Chroma's embedded ``PersistentClient`` is not safe across processes: the web chat and an
    indexing run must not both have it open. A Chroma server (``url``) needs no such lock.

    Raises:
        StoreInUse: another process (the web chat, an indexing run) holds it.
        StoreError: the index directory cannot be written.
    """
    if url:
        yield
        return
    busy = StoreInUse(
        f"another process is using the index in {index_dir} (a running web chat, or an indexing run): "
        "reindex from the web chat (its « Réindexer » button, or `serve --watch`), or wait for the run / stop "
        "the chat and retry; processes that must share an index use a Chroma server (ASSISTANT_CHROMA_URL)"
    )
    with held(FileLock(str(index_dir / ".store.lock"), timeout=0), busy):
        yield
