"""Real documents in the benchmark: indexing a long text PDF against embedding its chunks alone, and OCR speed.

The PDF is made from the workload's PIAF paragraphs (reportlab), three per page; the scanned one from its first
pages rendered to images. Runs in its own process like every phase (:func:`assistant.bench._in_child`).
"""

from __future__ import annotations

import io
import shutil
from typing import Any

from assistant.bench.workload import seconds
from assistant.config import Settings
from assistant.indexing.sync import sync
from assistant.ingest.chunks import chunk_document
from assistant.ingest.corpus import load_corpus
from assistant.ingest.pdf import parse_pdf
from assistant.models.embeddings import load_embeddings

PER_PAGE = 3
PARAGRAPH_CHARS = 900  # three such paragraphs fill one A4 page of body text


def text_pdf(paragraphs: list[str], pages: int) -> bytes:
    """A PDF of ``pages`` pages, ``PER_PAGE`` paragraphs each (taken in turn from ``paragraphs``)."""
    from xml.sax.saxutils import escape

    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    style = getSampleStyleSheet()["BodyText"]
    story: list[Any] = []
    for page in range(pages):
        for i in range(PER_PAGE):
            text = paragraphs[(page * PER_PAGE + i) % len(paragraphs)][:PARAGRAPH_CHARS]
            story.append(Paragraph(escape(text), style))
        story.append(PageBreak())
    out = io.BytesIO()
    SimpleDocTemplate(out, title="Rapport de banc d'essai").build(story)
    return out.getvalue()


def scanned_pdf(data: bytes, pages: int) -> bytes:
    """The first ``pages`` pages of ``data`` as images only (no text layer), at 200 dpi."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    images = [document[i].render(scale=200 / 72).to_pil().convert("RGB") for i in range(pages)]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=200.0)
    return out.getvalue()


def pdf_indexing(settings: Settings, pages: int, ocr_pages: int) -> dict[str, Any]:
    """Index a ``pages``-page text PDF (against embedding its chunks and sentences alone), then OCR
    ``ocr_pages`` scanned pages (pages per minute; None without Tesseract)."""
    from assistant.ingest.ocr import Ocr

    paragraphs = [p.read_text(encoding="utf-8") for p in sorted(settings.corpus.glob("*.txt"))]
    root = settings.index_dir.parent / "pdf-bench"
    shutil.rmtree(root, ignore_errors=True)
    (root / "corpus").mkdir(parents=True)
    data = text_pdf(paragraphs, pages)
    (root / "corpus" / "rapport.pdf").write_bytes(data)
    own = settings.with_(corpus=root / "corpus", index_dir=root / "index")
    embeddings = load_embeddings(settings.embedder, settings.batch_size)
    parse_s, (documents, _) = seconds(lambda: load_corpus(own.corpus, max_file_mb=200))
    chunks = [c for d in documents for c in chunk_document(d, own.chunk_size, own.chunk_overlap)]
    texts = [c.embedding_text() for c in chunks]
    sentences = list(dict.fromkeys(t for c in chunks for t in c.sentence_texts()))
    embeddings.embed_array(texts[:8])

    def embed_only() -> float:
        return seconds(lambda: (embeddings.embed_array(texts), embeddings.embed_array(sentences)))[0]

    # Embedding alone before and after indexing: their mean is the reference (the CPU's speed drifts).
    before = embed_only()
    index_s, _ = seconds(lambda: sync(own.with_(max_file_mb=200), embeddings=embeddings, progress=False))
    embed_s = (before + embed_only()) / 2
    import pypdfium2 as pdfium

    result: dict[str, Any] = {
        "pdf_pages": len(pdfium.PdfDocument(data)),
        "pdf_mb": round(len(data) / 1e6, 2),
        "pdf_chunks": len(chunks),
        "pdf_parse_seconds": round(parse_s, 2),
        "pdf_embed_seconds": round(embed_s, 2),
        "pdf_index_seconds": round(index_s, 2),
        "pdf_index_over_embed": round(index_s / embed_s, 3),
        "ocr_pages": ocr_pages,
        "ocr_pages_per_minute": None,
    }
    if ocr_pages and Ocr.available(None) is not None:
        scan = scanned_pdf(data, min(ocr_pages, pages))
        ocr_s, parsed = seconds(lambda: parse_pdf(scan, cache=None))
        result["ocr_pages_per_minute"] = round(60 * min(ocr_pages, pages) / ocr_s, 1)
        result["ocr_blocks"] = len(parsed.blocks)
    shutil.rmtree(root, ignore_errors=True)
    return result
