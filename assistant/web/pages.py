"""The original page of a PDF citation, rendered locally (pypdfium2) with the quoted sentence highlighted.

Only indexed documents are rendered, from inside the corpus: the browser sends no path, the page comes inline
(a ``data:`` image) in the viewer. The quote is found in the page's text layer (PDFium's search, from its first
and last words) and its character boxes are drawn over the page; on a scanned page, among the words OCR read
(their boxes were kept at indexing).

Example (``c`` a citation of page 2 of ``rapport.pdf``):
    >>> html = page_html(settings.corpus, {"rapport.pdf"}, c)  # doctest: +SKIP
    >>> html.startswith('<figure class="page"')  # doctest: +SKIP
    True
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
from collections.abc import Collection
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answering.types import Citation
from assistant.ingest.ocr import Word, word_boxes
from assistant.ingest.pdf import PDFIUM, safe_scale

if TYPE_CHECKING:
    import pypdfium2

RENDER_SCALE = 1.4  # ~100 dpi: readable in the side panel, ~100 KB as JPEG
EDGE_WORDS = 6  # the quote is found by its first and its last words (line breaks differ inside)
HIGHLIGHT = (255, 214, 0, 110)


def _find(textpage: pypdfium2.PdfTextPage, words: list[str], index: int = 0) -> tuple[int, int] | None:
    searcher = textpage.search(" ".join(words), index=index, match_case=False)
    try:
        found = searcher.get_next()
    finally:
        searcher.close()
    return (int(found[0]), int(found[1])) if found else None


def _find_edge(textpage: pypdfium2.PdfTextPage, words: list[str], head: bool, index: int = 0) -> tuple[int, int] | None:
    """The quote's first (or last) words on the page: six, else three (a word hyphenated at a line's end, a
    running header in between, make longer runs differ)."""
    for size in (EDGE_WORDS, 3):
        found = _find(textpage, words[:size] if head else words[-size:], index)
        if found:
            return found
    return None


Box = tuple[float, float, float, float]  # left, top, right, bottom in PDF points from the page's top-left


def quote_boxes(textpage: pypdfium2.PdfTextPage, quote: str, height: float) -> list[Box]:
    """The rectangles of ``quote`` in the page's text layer (``height``: the page's, in points); none when not
    found."""
    words = quote.split()
    if not words:
        return []
    first = _find_edge(textpage, words, head=True)
    if first is None:
        return []
    last = _find_edge(textpage, words, head=False, index=first[0]) or first
    start, end = first[0], max(first[0] + first[1], last[0] + last[1])
    rects = [textpage.get_rect(i) for i in range(textpage.count_rects(start, end - start))]
    return [(left, height - top, right, height - bottom) for left, bottom, right, top in rects]


def _token(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum())


def _run(tokens: list[str], wanted: list[str], start: int = 0) -> tuple[int, int] | None:
    """Where ``wanted``'s first words are in ``tokens`` (from ``start``), and how many matched: three, else two
    (OCR misreads some)."""
    for size in (3, 2):
        run = wanted[:size]
        for i in range(start, len(tokens) - len(run) + 1):
            if run and tokens[i : i + len(run)] == run:
                return i, len(run)
    return None


def ocr_boxes(words: tuple[Word, ...], quote: str) -> list[Box]:
    """The boxes of the OCR words that read ``quote`` (found by its first and last words)."""
    tokens, wanted = [_token(w[0]) for w in words], [t for t in map(_token, quote.split()) if t]
    head = _run(tokens, wanted)
    if head is None:
        return []
    tail = _run(tokens, wanted[-3:], head[0])
    last = sum(tail) if tail is not None else head[0] + len(wanted)
    return [w[1:] for w in words[head[0] : last]]


@lru_cache(maxsize=64)
def render(path: str, modified: float, number: int, quote: str, words: tuple[Word, ...] = ()) -> tuple[bytes, bool]:
    """Page ``number`` (1-based) of the PDF at ``path`` as a JPEG, ``quote`` highlighted; whether it was found.

    The quote is looked for in the page's text layer, else among the ``words`` OCR read on it. ``modified`` (the
    file's mtime) is only part of the cache key: an edited file is rendered again.
    """
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    with PDFIUM:  # answers are rendered in several threads, and a reindex may be reading PDFs
        document = pdfium.PdfDocument(path)
        try:
            page = document[number - 1]
            textpage = page.get_textpage()
            boxes = quote_boxes(textpage, quote, page.get_height()) or ocr_boxes(words, quote)
            textpage.close()
            scale = safe_scale(page, RENDER_SCALE)
            image = page.render(scale=scale).to_pil().convert("RGBA")
            page.close()
        finally:
            document.close()
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box in boxes:
        draw.rectangle([v * scale for v in box], fill=HIGHLIGHT)
    out = io.BytesIO()
    Image.alpha_composite(image, overlay).convert("RGB").save(out, format="JPEG", quality=70)
    return out.getvalue(), bool(boxes)


def _indexed_pdf(corpus: Path, indexed: Collection[str], source: str) -> Path | None:
    """The corpus file of an indexed PDF, never a path outside the corpus."""
    if source not in indexed or not source.lower().endswith(".pdf"):
        return None
    root = corpus.resolve()
    path = (root / source).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


@lru_cache(maxsize=256)
def _sha256(path: str, modified: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def page_html(corpus: Path, indexed: Collection[str], c: Citation, ocr_cache: Path | None = None) -> str:
    """The cited page as an inline image with the quote highlighted ("" for a citation that is not of a PDF).

    ``ocr_cache`` (the index's, where OCR kept each word's box) lets a quote on a scanned page be highlighted too.
    """
    path = _indexed_pdf(corpus, indexed, c.source)
    if path is None or not c.pages:
        return ""
    quote = c.text[c.quote_start - c.start : c.quote_end - c.start]
    try:
        modified = path.stat().st_mtime
        words = tuple(word_boxes(ocr_cache, _sha256(str(path), modified), c.pages[0])) if c.ocr and ocr_cache else ()
        jpeg, found = render(str(path), modified, c.pages[0], quote, words)
    except Exception:  # a PDF changed or damaged since indexing: the text view above still stands
        return '<p class="page-note">Page originale indisponible (le fichier a changé depuis l’indexation ?).</p>'
    note = ("texte lu par OCR" if c.ocr else "") if found else "passage non retrouvé sur la page"
    caption = html.escape(" · ".join(filter(None, [f"Page originale, {c.where}", note])))
    data = base64.b64encode(jpeg).decode("ascii")
    return (
        f'<figure class="page"><img class="page-image" alt="{caption}" src="data:image/jpeg;base64,{data}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )
