"""The viewer's original page: a PDF citation's page rendered locally with the quote highlighted, never a file
outside the corpus or one that is not indexed."""

from __future__ import annotations

import base64
import io
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import SearchEngine
from assistant.answering.types import Answer, Citation
from assistant.config import Settings
from assistant.indexing.sync import OCR_CACHE, sync
from assistant.ingest.chunks import chunk_document
from assistant.ingest.corpus import load_corpus
from assistant.models.embeddings import SentenceTransformerEmbeddings
from assistant.web.pages import RENDER_SCALE, page_html
from assistant.web.render import viewer_html
from tests.ingest import files


def _citation(corpus: Path, sentence: str) -> Citation:
    documents, _ = load_corpus(corpus)
    chunk = next(c for d in documents for c in chunk_document(d, 300, 0) if sentence in c.text)
    start = chunk.start + chunk.text.index(sentence)
    return Citation.of(1, chunk, 1.0, (start, start + len(sentence)))


def _image(html: str) -> Image.Image:
    data = re.search(r'src="data:image/jpeg;base64,([^"]+)"', html)
    assert data, html
    return Image.open(io.BytesIO(base64.b64decode(data.group(1)))).convert("RGB")


def test_the_cited_page_is_shown_with_the_quote_highlighted(tmp_path: Path) -> None:
    files.paged_pdf(tmp_path / "rapport.pdf")
    sentence = "Elles portent sur la protection des enfants placés en famille d’accueil."  # hyphenated on the page
    cited = _citation(tmp_path, sentence)
    assert cited.pages == [2]
    html = page_html(tmp_path, {"rapport.pdf"}, cited)
    assert "Page originale, p. 2" in html and "non retrouvé" not in html
    image = _image(html)
    # Tinted pixels: many, and only on the quote's two lines (drawn 680 and 666 pt from the page's bottom).
    yellow = [y for y in range(image.height) for x in range(0, image.width, 2)
              if (p := image.getpixel((x, y)))[0] > 200 and p[1] > 170 and p[2] < 170]  # fmt: skip
    assert len(yellow) > 500
    top, bottom = (image.height / RENDER_SCALE - 692) * RENDER_SCALE, (image.height / RENDER_SCALE - 660) * RENDER_SCALE
    assert top <= min(yellow) and max(yellow) <= bottom
    viewer = viewer_html([(0, Answer("q", "a [1]", False, "extractive", "fr", [cited]))], {}, lambda c: html)
    assert viewer.count('class="page-image"') == 1


def test_nothing_outside_the_indexed_corpus_is_rendered(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files.paged_pdf(corpus / "rapport.pdf")
    cited = _citation(corpus, files.PAGE_SENTENCES[3])
    assert page_html(corpus, set(), cited) == ""  # not indexed
    files.paged_pdf(tmp_path / "dehors.pdf")
    escaped = Citation(**{**cited.__dict__, "source": "../dehors.pdf"})
    assert page_html(corpus, {"../dehors.pdf"}, escaped) == ""  # indexed name, but outside the corpus
    (corpus / "rapport.pdf").write_bytes(b"%PDF-1.4 damaged since indexing")
    assert "indisponible" in page_html(corpus, {"rapport.pdf"}, cited)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="make setup installs tesseract-ocr")
def test_a_quote_on_a_scanned_page_is_highlighted_from_the_ocr_word_boxes(
    tmp_path: Path, make_settings: Callable[..., Settings], embeddings: SentenceTransformerEmbeddings
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files.scanned_pdf(corpus / "scan.pdf", {1: "Page de garde du dossier.", 2: files.PAGE_SENTENCES[3]})
    settings = make_settings(corpus)
    sync(settings, embeddings=embeddings, progress=False)
    engine = SearchEngine.open(settings, embeddings)
    answer = ExtractiveAnswerer(engine).ask("Combien de fois par an le conseil scientifique se réunit-il ?")
    cited = answer.citations[0]
    assert cited.ocr and cited.pages == [2]
    without = page_html(corpus, engine.snapshot.documents, cited)
    assert "non retrouvé" in without  # no word boxes given: the page alone
    html = page_html(corpus, engine.snapshot.documents, cited, ocr_cache=settings.index_dir / OCR_CACHE)
    assert "Page originale, p. 2 · texte lu par OCR" in html and "non retrouvé" not in html
    image = _image(html)
    yellow = sum(1 for y in range(0, image.height, 2) for x in range(0, image.width, 2)
                 if (p := image.getpixel((x, y)))[0] > 200 and p[1] > 170 and p[2] < 170)  # fmt: skip
    assert yellow > 200
