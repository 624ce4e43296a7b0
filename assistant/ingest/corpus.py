"""The corpus: find its files, read them safely, hand cleaned documents on, tell when it changed.

Nothing outside the corpus directory is ever read: symlinks that leave it are not followed.
Every file that cannot be used is reported with a reason instead of stopping the run.

Example (``settings.corpus`` the ONPE pages):
    >>> docs, skipped = load_corpus(settings.corpus)
    >>> sorted(d.title for d in docs), skipped
    (["Les Assises nationales de la protection de l'enfance", 'Les partenariats et réseaux internationaux'], [])
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

from assistant.errors import CorpusError, FormatError
from assistant.ingest.cleaning import Document, clean
from assistant.ingest.formats import TEXT_PARSERS, Parsed
from assistant.ingest.office import OFFICE, parse_office
from assistant.ingest.pdf import parse_pdf

log = logging.getLogger(__name__)
SUPPORTED = frozenset(TEXT_PARSERS) | OFFICE | {".pdf"}
# Old binary formats no well-kept offline converter reads: the user is told what to do.
# Byte-order marks, UTF-32's before UTF-16's (which it starts with).
_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xef\xbb\xbf", "utf-8-sig"),
         (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))  # fmt: skip
# charset-normalizer's "mess" of a text read as Windows-1252 below which it is taken as such (Cyrillic read
# so scores 1.0, French text 0.0).
WESTERN_MESS = 0.2
CONVERT_FIRST = {".doc": ".docx", ".ppt": ".pptx", ".xls": ".xlsx", ".odp": ".pptx"}


@dataclass(frozen=True)
class Skipped:
    """A corpus file that was not indexed, and why (shown to the user)."""

    source: str
    reason: str


def _relative(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve(strict=True).relative_to(root)
    except (OSError, ValueError, RuntimeError):
        return False
    return True


def scan(root: Path) -> tuple[list[Path], list[Skipped]]:
    """List candidate files under ``root`` (sorted), reporting those refused up front.

    Hidden files and directories (``.git``, ``.DS_Store``…) are ignored silently.
    """
    if not root.is_dir():
        raise CorpusError(f"corpus directory not found: {root}")
    root = root.resolve()
    files: list[Path] = []
    skipped: list[Skipped] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        kept_dirs = []
        for name in sorted(dirnames):
            if name.startswith("."):
                continue
            if (here / name).is_symlink():
                skipped.append(Skipped(_relative(root, here / name), "symbolic link to a directory: not followed"))
            else:
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            if path.is_symlink() and not _inside(root, path):
                skipped.append(Skipped(_relative(root, path), "symbolic link leading outside the corpus: not followed"))
            else:
                files.append(path)
    return sorted(files), skipped


def decode(data: bytes) -> str:
    """Decode text: a byte-order mark first (UTF-8, UTF-16 or UTF-32, as Notepad's "Unicode" writes), else UTF-8,
    else Windows-1252 when it reads as plausible text, else the most plausible legacy encoding.

    Windows-1252 is tried before guessing: on a short French text the guess may as well be Mac Roman
    (« s’appelle » read as « síappelle »), and the code page of most legacy French files is Windows' own.

    >>> decode("Jean « Dupont » s’appelle".encode("cp1252"))
    'Jean « Dupont » s’appelle'

    Raises:
        FormatError: binary content (NUL bytes) or no plausible encoding.
    """
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as err:
                raise FormatError(f"undecodable text (invalid {encoding.upper()})") from err
    if b"\0" in data[:8192]:
        raise FormatError("binary content, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    with contextlib.suppress(UnicodeDecodeError):
        text = data.decode("cp1252")
        if mess_ratio(text[:200_000], maximum_threshold=WESTERN_MESS) < WESTERN_MESS:
            return text
    best = from_bytes(data[:200_000]).best()
    if best is None or best.encoding is None:
        raise FormatError("undecodable text (unknown encoding)")
    try:
        return data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as err:
        raise FormatError("undecodable text (unknown encoding)") from err


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise FormatError("not a regular file")
    if info.st_size > max_bytes:
        limit = max_bytes / 1_000_000
        raise FormatError(
            f"too large ({info.st_size / 1_000_000:.1f} MB > {limit:g} MB; raise ASSISTANT_MAX_FILE_MB to index it)"
        )
    with path.open("rb") as handle:
        return handle.read(max_bytes + 1)


def parse_bytes(data: bytes, suffix: str, ocr_cache: Path | None = None) -> Parsed:
    """Parse a file's bytes by its (lower-case) suffix.

    Raises:
        FormatError: the content cannot be read as that format.
    """
    if suffix == ".pdf":
        return parse_pdf(data, ocr_cache)
    if suffix in OFFICE:
        return parse_office(data, suffix)
    return TEXT_PARSERS[suffix](decode(data))


def _parse(path: Path, suffix: str, max_bytes: int, ocr_cache: Path | None) -> Parsed | str:
    """The parsed file, or why it cannot be read."""
    try:
        data = _read_bytes(path, max_bytes)
        return parse_bytes(data, suffix, ocr_cache) if data.strip() else "empty file"
    except FormatError as err:
        return str(err)
    except PermissionError:
        return "permission denied"
    except OSError as err:
        return f"unreadable ({err.strerror or err.__class__.__name__})"
    except Exception as err:  # a converter's own failure (damaged XML in a slide…): this file only, never the run
        log.warning("%s could not be read", path, exc_info=True)
        return f"unreadable {suffix.lstrip('.').upper()} ({err.__class__.__name__})"


def _unsupported(suffix: str) -> str:
    if suffix in CONVERT_FIRST:
        return f"unsupported file type ({suffix}): save it as {CONVERT_FIRST[suffix]} to index it"
    return f"unsupported file type ({suffix or 'no extension'})"


def load_document(root: Path, path: Path, max_bytes: int, ocr_cache: Path | None = None) -> Document | Skipped:
    """Read, parse and clean one file, or say why it cannot be used."""
    source = _relative(root, path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        return Skipped(source, _unsupported(suffix))
    parsed = _parse(path, suffix, max_bytes, ocr_cache)
    if isinstance(parsed, str):
        return Skipped(source, parsed)
    document = clean(parsed, source, fallback_title=path.stem.replace("_", " ").replace("-", " "))
    if not document.text.strip():
        return Skipped(source, "; ".join(parsed.notes) or "no text after cleaning")
    return document


def load_corpus(
    root: Path, max_file_mb: float = 10.0, ocr_cache: Path | None = None
) -> tuple[list[Document], list[Skipped]]:
    """Load every usable document under ``root``; the rest is reported in the second list.

    A document read only in part (scanned pages without OCR) is loaded, and says so in its ``notes``.
    """
    root = Path(root)
    paths, skipped = scan(root)
    resolved = root.resolve()
    documents: list[Document] = []
    for path in paths:
        result = load_document(resolved, path, int(max_file_mb * 1_000_000), ocr_cache)
        if isinstance(result, Skipped):
            skipped.append(result)
        else:
            documents.append(result)
    return documents, sorted(skipped, key=lambda s: s.source)


def changed_since(root: Path, when: float) -> bool:
    """Whether any file under ``root`` was modified after ``when`` (modification times only: cheap)."""
    for dirpath, _, files in os.walk(root):
        for name in files:
            try:
                if os.stat(os.path.join(dirpath, name)).st_mtime > when:
                    return True
            except OSError:
                continue
    return False
