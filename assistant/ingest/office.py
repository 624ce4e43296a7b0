"""Office and e-book formats: DOCX, ODT, EPUB and RTF through pandoc (shipped by ``pypandoc-binary``), PPTX through
``python-pptx``.

Pandoc turns each into HTML, which :func:`assistant.ingest.formats.parse_html` reads like any web page: headings
become sections, list items items, table rows one line each (« a | b | c »). Pandoc runs sandboxed (no file or
network access) with a memory cap; zip containers are checked before anything unpacks them.

Example:
    >>> parsed = parse_office(open("rapport.docx", "rb").read(), ".docx")  # doctest: +SKIP
    >>> parsed.title, parsed.blocks[0]  # doctest: +SKIP
    ('Rapport annuel', RawBlock(kind='heading', text='Introduction', page=0, ocr=False))
"""

from __future__ import annotations

import html
import io
import re
import subprocess
import zipfile

from assistant.errors import FormatError
from assistant.ingest.formats import BlockKind, Parsed, RawBlock, parse_html

PANDOC_FORMATS = {".docx": "docx", ".odt": "odt", ".epub": "epub", ".rtf": "rtf"}
ZIPPED = {".docx", ".odt", ".epub", ".pptx"}
OFFICE = frozenset(PANDOC_FORMATS) | {".pptx"}
# A container may unpack to at most this much, and this many times its own size (zip bombs).
MAX_UNPACKED = 300_000_000
MAX_RATIO = 200
PANDOC_TIMEOUT = 120
# Pandoc's own advice for untrusted input: a heap limit (its runtime's -M), and --sandbox.
PANDOC_MEMORY = "-M1g"
# Where a container keeps its document properties (pandoc's readers do not take the title from there).
PROPERTIES = {".docx": "docProps/core.xml", ".odt": "meta.xml"}
_DC_TITLE = re.compile(r"<dc:title>([^<]{1,500})</dc:title>")


def check_container(data: bytes, suffix: str) -> None:
    """Refuse what is not a zip container, or one that would unpack to far more than it weighs.

    Raises:
        FormatError: not a zip archive, damaged, or a likely zip bomb.
    """
    name = suffix.lstrip(".").upper()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise FormatError(f"not a valid {name} file (not a zip container)") from err
    if unpacked > MAX_UNPACKED or unpacked > MAX_RATIO * max(len(data), 1):
        raise FormatError(f"refused: this {name} would unpack to {unpacked / 1e6:.0f} MB (a zip bomb?)")


def container_title(data: bytes, suffix: str) -> str | None:
    """The title in a DOCX's or ODT's document properties (File › Properties), if any."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            properties = archive.read(PROPERTIES[suffix])[:100_000].decode("utf-8", errors="replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return None
    found = _DC_TITLE.search(properties)
    return html.unescape(found.group(1)).strip() or None if found else None


def _pandoc(data: bytes, source_format: str) -> str:
    import pypandoc

    command = [pypandoc.get_pandoc_path(), "+RTS", PANDOC_MEMORY, "-RTS", "--sandbox", "-f", source_format]
    command += ["-t", "html", "--standalone"]  # standalone: the <title> holds the document's own title, else "-"
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=PANDOC_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as err:
        raise FormatError(f"conversion took more than {PANDOC_TIMEOUT} s") from err
    except OSError as err:
        raise FormatError(f"pandoc could not run ({err.strerror or err})") from err
    if done.returncode:
        detail = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise FormatError(f"unreadable {source_format.upper()} ({detail[-1] if detail else 'pandoc failed'})")
    return done.stdout.decode("utf-8", errors="replace")


def _slide_blocks(slide: object, number: int) -> list[RawBlock]:
    title = slide.shapes.title  # type: ignore[attr-defined]
    heading = title.text_frame.text.strip() if title is not None and title.has_text_frame else ""
    blocks = [RawBlock("heading", heading or f"Diapositive {number}")]
    for shape in slide.shapes:  # type: ignore[attr-defined]
        if shape is title:
            continue
        if shape.has_table:
            for row in shape.table.rows:
                cells = [cell.text.strip() for cell in row.cells]
                blocks.append(RawBlock("paragraph", " | ".join(c for c in cells if c)))
        elif shape.has_text_frame:
            paragraphs = [p for p in shape.text_frame.paragraphs if "".join(r.text for r in p.runs).strip()]
            kind: BlockKind = "item" if len(paragraphs) > 1 else "paragraph"
            blocks += [RawBlock(kind, "".join(r.text for r in p.runs)) for p in paragraphs]
    if slide.has_notes_slide:  # type: ignore[attr-defined]
        notes = slide.notes_slide.notes_text_frame  # type: ignore[attr-defined]
        if notes is not None and notes.text.strip():
            blocks.append(RawBlock("paragraph", notes.text))
    return blocks


def parse_pptx(data: bytes) -> Parsed:
    """PPTX: one section per slide (its title, else « Diapositive N »), its text, tables and speaker notes."""
    from pptx import Presentation
    from pptx.exc import PackageNotFoundError

    check_container(data, ".pptx")
    try:
        deck = Presentation(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise FormatError(f"unreadable PPTX ({err.__class__.__name__})") from err
    blocks = [b for number, slide in enumerate(deck.slides, start=1) for b in _slide_blocks(slide, number)]
    title = (deck.core_properties.title or "").strip() or None
    return Parsed(blocks, title)


def parse_office(data: bytes, suffix: str) -> Parsed:
    """A DOCX, ODT, EPUB, RTF or PPTX file's blocks and title.

    Raises:
        FormatError: damaged, disguised (an HTML page renamed .docx), a zip bomb, or pandoc failed.
        ValueError: ``suffix`` is not an office format.
    """
    if suffix == ".pptx":
        return parse_pptx(data)
    if suffix not in PANDOC_FORMATS:
        raise ValueError(f"not an office format: {suffix}")
    if suffix in ZIPPED:
        check_container(data, suffix)
    parsed = parse_html(_pandoc(data, PANDOC_FORMATS[suffix]))
    own = container_title(data, suffix) if suffix in PROPERTIES else None
    title = own or (parsed.title if parsed.title and parsed.title != "-" else None)
    return Parsed(parsed.blocks, title or next((b.text for b in parsed.blocks if b.kind == "heading"), None))
