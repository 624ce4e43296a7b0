r"""PDF, page by page: the text layer (pypdfium2), repeated headers and footers removed, words hyphenated at line
ends joined, and Tesseract OCR for pages without a text layer.

Every block carries its page, so that citations can say « p. 12 ». OCR text is marked as such.

Example (a PDF of two pages whose running header is « Rapport annuel »):
    >>> parsed = parse_pdf(data)  # doctest: +SKIP
    >>> [(b.page, b.text) for b in parsed.blocks]  # doctest: +SKIP
    [(1, 'La protection de l’enfance ...'), (2, '...')]
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import FormatError
from assistant.ingest.formats import Parsed, RawBlock, parse_text
from assistant.ingest.ocr import Ocr, missing_ocr_note

if TYPE_CHECKING:
    import pypdfium2

# PDFium is not thread-safe, even across documents (pypdfium2's README): every call goes under this lock
# (indexing, OCR rendering and the viewer's page images run in different threads of one server).
PDFIUM = threading.RLock()
OCR_SCALE = 300 / 72  # 300 dpi: Tesseract's recommended resolution
MAX_PIXELS = 25_000_000  # a page image is never larger (≈ A4 at 300 dpi is 8.7 million)
MAX_OCR_PAGES = 300  # per document: beyond, pages are reported, not read (each may take seconds)
UNREAD_NO_OCR = "no OCR"
UNREAD_OCR_FAILED = "page numérisée : la lecture OCR a échoué"
UNREAD_TOO_MANY = f"page numérisée non lue (plus de {MAX_OCR_PAGES} pages à lire par OCR dans ce document)"
# A page with fewer characters than this in its text layer is read as scanned (an image of text).
MIN_TEXT_CHARS = 20
# A line seen at the top or bottom of at least this share of the pages (digits aside) is a running header/footer.
REPEATED_SHARE = 0.5
EDGE_LINES = 2
_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(r"^\W*(?:page|p\.)?\s*\d{1,4}(?:\s*(?:/|sur|of)\s*\d{1,4})?\W*$", re.I)
_HYPHENATED = re.compile(r"(\w+)-$")
# PDFium joins a word it finds hyphenated at a line's end and marks the cut with U+FFFE (U+0002 in old builds).
_MARKED_CUT = re.compile(r"(\w+)[\ufffe\x02](\w*)")
_LEADING_WORD = re.compile(r"^(\w+)")
_SENTENCE_END = re.compile(r"[.!?:»…]$")
_BULLET = re.compile(r"^\s*(?:[•·▪◦‣∙*\-–]|\d{1,3}[.)])\s+")


@dataclass(frozen=True)
class Page:
    """One page's lines, where they came from, and whether they could be read at all."""

    number: int
    lines: list[str]
    ocr: bool = False
    unread: str | None = None  # why a scanned page could not be read


def _edge_key(line: str) -> str:
    return _DIGITS.sub("#", " ".join(line.lower().split()))


def strip_running_lines(pages: list[Page]) -> list[Page]:
    """Drop page numbers and lines repeated at the top or bottom of most pages (running headers and footers).

    >>> body = ["Les Assises ont lieu à Rennes.", "L’ONPE y participe.", "Le comité se réunit en 2015."]
    >>> pages = [Page(n, ["Rapport ONPE 2015", line, f"{n} / 3"]) for n, line in enumerate(body, start=1)]
    >>> [p.lines for p in strip_running_lines(pages)]
    [['Les Assises ont lieu à Rennes.'], ['L’ONPE y participe.'], ['Le comité se réunit en 2015.']]
    """
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_edge_key(line) for line in page.lines[:EDGE_LINES] + page.lines[-EDGE_LINES:]})
    repeated = {key for key, n in counts.items() if len(pages) >= 3 and n >= REPEATED_SHARE * len(pages)}

    def running(i: int, line: str, count: int) -> bool:
        edge = i < EDGE_LINES or i >= count - EDGE_LINES
        return edge and (_edge_key(line) in repeated or bool(_PAGE_NUMBER.match(line)))

    return [replace(p, lines=[s for i, s in enumerate(p.lines) if not running(i, s, len(p.lines))]) for p in pages]


def _frequency(word: str) -> float:
    from wordfreq import zipf_frequency

    return max(zipf_frequency(word.lower(), language) for language in ("fr", "en"))


def _rejoin(left: str, right: str) -> str:
    whole, hyphenated = left + right, f"{left}-{right}"
    return whole if not right or _frequency(whole) > _frequency(hyphenated) else hyphenated


def join_hyphens(lines: list[str]) -> list[str]:
    """Join a word cut by a hyphen at a line's end: « protec- / tion » → « protection », but « porte- / parole »
    keeps its hyphen: whichever form is the more frequent word in French or English (``wordfreq``) wins.

    >>> join_hyphens(["la protec-", "tion de l’enfance", "le porte-", "parole", "la protec\ufffetion"])
    ['la protection', 'de l’enfance', 'le porte-parole', 'la protection']
    """
    out = [_MARKED_CUT.sub(lambda m: _rejoin(m.group(1), m.group(2)), line) for line in lines]
    for i in range(len(out) - 1):
        cut, following = _HYPHENATED.search(out[i]), _LEADING_WORD.match(out[i + 1])
        if not cut or not following or not following.group(1)[0].islower():
            continue
        out[i] = out[i][: cut.start()] + _rejoin(cut.group(1), following.group(1))
        out[i + 1] = out[i + 1][following.end() :].lstrip()
    return [line for line in out if line.strip()]


def paragraphs(lines: list[str]) -> str:
    """Lines of one page as blank-line paragraphs: a break after a short line that ends a sentence or stands
    alone (a heading), and before a bullet; long lines run on.

    >>> paragraphs(["Titre", "Une ligne longue qui continue jusqu’au bord", "de la page et finit ici.", "Suite."])
    'Titre\\n\\nUne ligne longue qui continue jusqu’au bord\\nde la page et finit ici.\\n\\nSuite.'
    """
    if not lines:
        return ""
    # The column's width: most lines of running text fill it (a few long outliers aside, on a full page).
    lengths = sorted(len(line) for line in lines)
    typical = lengths[int(0.8 * (len(lengths) - 1))] if len(lengths) >= 8 else lengths[-1]
    parts = [lines[0]]
    for before, line in itertools.pairwise(lines):
        short = len(before) < 0.85 * typical
        ends = bool(_SENTENCE_END.search(before)) and short
        alone = short and len(before) < 0.6 * typical and not before.endswith(",")
        parts.append("\n\n" if ends or alone or _BULLET.match(line) else "\n")
        parts.append(line)
    return "".join(parts)


def _open(data: bytes) -> pypdfium2.PdfDocument:
    """The document (call under :data:`PDFIUM`)."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        if "password" in str(err).lower():
            raise FormatError("encrypted PDF (a password is needed to read it)") from err
        raise FormatError(f"unreadable PDF ({err})") from err


def _page_text(page: pypdfium2.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        return str(textpage.get_text_range()).replace("\r\n", "\n").replace("\r", "\n")
    finally:
        textpage.close()


def safe_scale(page: pypdfium2.PdfPage, wanted: float) -> float:
    """``wanted`` pixels per point, lowered so that the page's image stays under :data:`MAX_PIXELS` (a tiny PDF
    may declare a page of several square metres)."""
    width, height = page.get_size()
    return min(wanted, math.sqrt(MAX_PIXELS / max(width * height, 1.0)))


def _texts(document: pypdfium2.PdfDocument) -> list[str]:
    texts = []
    for index in range(len(document)):
        page = document[index]
        texts.append(_page_text(page))
        page.close()
    return texts


def _ocr_page(document: pypdfium2.PdfDocument, ocr: Ocr, key: str, number: int) -> str | None:
    """The text OCR reads on a page (cached, else rendered under the PDFium lock and read outside it)."""
    if (known := ocr.cached(key, number)) is not None:
        return known
    with PDFIUM:
        page = document[number - 1]
        scale = safe_scale(page, OCR_SCALE)
        image = page.render(scale=scale).to_pil().convert("L")
        page.close()
    return ocr.recognise(image, scale, key, number)


def _lines(text: str) -> list[str]:
    return [s for s in (" ".join(line.split()) for line in text.splitlines()) if s]


def _read_page(  # noqa: PLR0917
    document: pypdfium2.PdfDocument, ocr: Ocr | None, key: str, number: int, layer: str, ocr_left: int
) -> Page:
    """One page: its text layer, else what OCR reads on it, else why it could not be read."""
    if len(layer.strip()) >= MIN_TEXT_CHARS:
        return Page(number, _lines(layer))
    if ocr is None or ocr_left <= 0:
        return Page(number, _lines(layer), unread=UNREAD_NO_OCR if ocr is None else UNREAD_TOO_MANY)
    found = _ocr_page(document, ocr, key, number)
    if found is None:
        return Page(number, _lines(layer), unread=UNREAD_OCR_FAILED)
    return Page(number, _lines(found), ocr=True)


def read_pages(data: bytes, ocr: Ocr | None) -> tuple[list[Page], str | None]:
    """Every page's lines (OCR for pages without a text layer when ``ocr`` is given) and the PDF's own title.

    Raises:
        FormatError: not a PDF, a damaged one, or one that needs a password.
    """
    key = hashlib.sha256(data).hexdigest()
    with PDFIUM:
        document = _open(data)
    try:
        with PDFIUM:
            title = str(document.get_metadata_value("Title") or "").strip() or None
            texts = _texts(document)
        pages: list[Page] = []
        for number, layer in enumerate(texts, start=1):
            tried = sum(1 for p in pages if p.ocr or p.unread == UNREAD_OCR_FAILED)
            pages.append(_read_page(document, ocr, key, number, layer, MAX_OCR_PAGES - tried))
    finally:
        with PDFIUM:
            document.close()
    return pages, title


def parse_pdf(data: bytes, cache: Path | None = None) -> Parsed:
    """PDF: blocks page by page, each knowing its page; scanned pages through OCR when Tesseract is installed.

    Args:
        data: the file's bytes.
        cache: where OCR results are kept between reindexes (none: OCR every time).

    Raises:
        FormatError: not a PDF, a damaged one, or one that needs a password.
    """
    ocr = Ocr.available(cache)
    pages, title = read_pages(data, ocr)
    blocks: list[RawBlock] = []
    for page in strip_running_lines(pages):
        for block in parse_text(paragraphs(join_hyphens(page.lines))).blocks:
            blocks.append(replace(block, page=page.number, ocr=page.ocr))
    return Parsed(blocks, title, _notes(pages))


def _notes(pages: list[Page]) -> tuple[str, ...]:
    """What the user is told about pages that could not be read, one line per reason."""
    notes = []
    for reason in (UNREAD_NO_OCR, UNREAD_OCR_FAILED, UNREAD_TOO_MANY):
        numbers = [p.number for p in pages if p.unread == reason]
        if numbers and reason == UNREAD_NO_OCR:
            notes.append(missing_ocr_note(numbers))
        elif numbers:
            notes.append(f"p. {', '.join(map(str, numbers))} : {reason}")
    return tuple(notes)
