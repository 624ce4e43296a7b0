"""The document library of the web chat: what the corpus holds (indexed or not, and why), uploads, deletions,
downloads. No Gradio here: :mod:`assistant.web.app` shows it.

Only files of the corpus are ever read, written or removed. An upload's name is reduced to a plain file name,
its type and size are checked, and it is written atomically (a hidden temporary file, then a hard link that
never replaces another file: two uploads of one name get « name (2).pdf »). A deletion removes the file; the
reindex that follows removes it from the index, crash-safe like any reindex.

Example (``settings`` name the indexed ONPE corpus):
    >>> safe_name("../../etc/passwd.docx"), safe_name("C:\\\\Users\\\\moi\\\\Rapport <2024>.PDF")
    ('passwd.docx', 'Rapport _2024_.PDF')
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Set
from pathlib import Path
from typing import Any

from assistant.errors import UsageError
from assistant.indexing.snapshot import Meta
from assistant.ingest.corpus import SUPPORTED
from assistant.web.render import reason_in_french

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w .,()'&+-]")
COLUMNS = ["Titre", "Fichier", "Type", "Pages", "Passages", "Indexé le", "État"]


def safe_name(name: str) -> str:
    """A plain file name from whatever a browser sent: no folder, no control or markup characters, no leading
    dot (hidden files are not indexed).

    Raises:
        UsageError: nothing usable is left of the name.
    """
    base = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    base = _UNSAFE.sub("_", "".join(ch for ch in base if ch.isprintable())).strip().lstrip(".").strip()
    stem, dot, suffix = base.rpartition(".")
    if dot and len(base) > MAX_NAME_CHARS:
        base = f"{stem[: MAX_NAME_CHARS - len(suffix) - 1]}.{suffix}"
    if not (stem if dot else base).strip(" ._"):
        raise UsageError(f"nom de fichier inutilisable : {name[:80]!r}")
    return base[:MAX_NAME_CHARS]


def check_upload(name: str, size: int, max_bytes: int) -> str:
    """The name an upload will have in the corpus, once its type and size are allowed.

    Raises:
        UsageError: a type the library cannot index, a file too large, or a name with nothing usable left.
    """
    clean = safe_name(name)
    suffix = Path(clean).suffix.lower()
    if suffix not in SUPPORTED:
        allowed = ", ".join(sorted(SUPPORTED))
        raise UsageError(f"{clean} : type {suffix or '(aucun)'} non accepté (acceptés : {allowed})")
    if size > max_bytes:
        raise UsageError(f"{clean} : {size / 1e6:.1f} Mo, plus que les {max_bytes / 1e6:g} Mo permis")
    return clean


def _numbered(name: str, n: int) -> str:
    path = Path(name)
    return name if n == 1 else f"{path.stem} ({n}){path.suffix}"


def store_upload(corpus: Path, uploaded: Path, name: str, max_bytes: int) -> str:
    """Copy the uploaded file into the corpus under ``name`` (made safe), never over an existing file.

    Returns:
        The document's path in the corpus (its ``source``).

    Raises:
        UsageError: see :func:`check_upload`.
    """
    clean = check_upload(name, uploaded.stat().st_size, max_bytes)
    corpus.mkdir(parents=True, exist_ok=True)
    partial = corpus / f".upload-{uuid.uuid4().hex}.part"  # hidden: never indexed half-written
    try:
        shutil.copyfile(uploaded, partial)
        with partial.open("rb") as handle:
            os.fsync(handle.fileno())
        for n in range(1, 1000):
            target = corpus / _numbered(clean, n)
            try:
                os.link(partial, target)  # atomic, and fails rather than replace a file
                return target.name
            except FileExistsError:
                continue
        raise UsageError(f"{clean}: too many files of that name")
    finally:
        partial.unlink(missing_ok=True)


def corpus_file(
    corpus: Path, meta: Meta, source: str, skipped_too: bool = False, readable: Set[str] | None = None
) -> Path:
    """The corpus file of an indexed document (or, with ``skipped_too``, of a file the index left out, which only
    an editor may delete), never a path outside the corpus; with ``readable``, only one of those (a folder the
    user may not read gets the same answer as a file that does not exist).

    Raises:
        UsageError: not a document of this corpus.
    """
    known = set(meta.documents) | ({s["source"] for s in meta.skipped} if skipped_too else set())
    known &= set(known if readable is None else readable)
    root = corpus.resolve()
    path = (root / source).resolve()
    if source not in known or not path.is_relative_to(root) or not path.is_file():
        raise UsageError(f"not a document of the corpus: {source[:200]}")
    return root / source  # the name in the corpus: a symbolic link stays a link (its target is not touched)


def remove(corpus: Path, meta: Meta, source: str, readable: Set[str] | None = None) -> None:
    """Delete a document (or a left-out file) from the corpus; the next reindex removes it from the index. A
    symbolic link is removed, never the file it points to.

    Raises:
        UsageError: not a document of this corpus.
    """
    corpus_file(corpus, meta, source, skipped_too=True, readable=readable).unlink()


DOWNLOADS = Path(tempfile.gettempdir()) / "assistant-downloads"
KEEP_DOWNLOADS_S = 600


def download_copy(corpus: Path, meta: Meta, source: str, readable: Set[str] | None = None) -> Path:
    """A copy of an indexed document's original, for the browser (the corpus itself is never served; files the
    index left out are never offered). Copies older than ten minutes are removed."""
    original = corpus_file(corpus, meta, source, readable=readable)
    DOWNLOADS.mkdir(exist_ok=True)
    for old in DOWNLOADS.glob("*/*"):
        if time.time() - old.stat().st_mtime > KEEP_DOWNLOADS_S:
            shutil.rmtree(old.parent, ignore_errors=True)
    copy = Path(tempfile.mkdtemp(dir=DOWNLOADS)) / Path(source).name
    shutil.copyfile(original, copy)
    return copy


def _status(entry: dict[str, Any]) -> str:
    notes = entry.get("notes") or []
    if notes:
        return "lu en partie : " + " ; ".join(map(reason_in_french, notes))
    return "indexé (OCR)" if entry.get("ocr") else "indexé"


def rows(
    meta: Meta, passages: dict[str, int], skipped: bool = True, readable: Set[str] | None = None
) -> list[list[Any]]:
    """The library's table: every indexed document, then (``skipped``) every file that was not, with why; with
    ``readable``, only those."""
    table: list[list[Any]] = []
    shown = (lambda source: True) if readable is None else readable.__contains__
    for source in sorted(filter(shown, meta.documents)):
        entry = meta.documents[source]
        when = time.strftime("%d/%m/%Y %H:%M", time.localtime(entry.get("indexed") or meta.created))
        kind = Path(source).suffix.lstrip(".").upper()
        table.append([entry.get("title", ""), source, kind, entry.get("pages") or "", passages.get(source, 0),
                      when, _status(entry)])  # fmt: skip
    for left_out in [s for s in meta.skipped if shown(s["source"])] if skipped else []:
        kind = Path(left_out["source"]).suffix.lstrip(".").upper()
        table.append(["", left_out["source"], kind, "", 0, "", f"ignoré : {reason_in_french(left_out['reason'])}"])
    return table
