"""Real documents: Word, OpenDocument, EPUB, RTF and PowerPoint files; PDFs page by page, running headers,
hyphenation, OCR of scanned pages; and the bad files each format invites. Every file is made here by a real
writer (tests/ingest/files.py) and read by the product's real converters (pandoc, python-pptx, pypdfium2,
Tesseract)."""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import SearchEngine
from assistant.config import Settings
from assistant.indexing.sync import sync
from assistant.ingest.chunks import chunk_document
from assistant.ingest.cleaning import Document
from assistant.ingest.corpus import load_corpus
from assistant.models.embeddings import SentenceTransformerEmbeddings
from tests.ingest import files

MakeSettings = Callable[..., Settings]
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="make setup installs tesseract-ocr")


def _load(root: Path) -> tuple[dict[str, Document], dict[str, str]]:
    documents, skipped = load_corpus(root, max_file_mb=20)
    return {d.source: d for d in documents}, {s.source: s.reason for s in skipped}


def _sections(doc: Document) -> dict[str, str]:
    """Each chunk's section → its text."""
    return {c.section: c.text for c in chunk_document(doc, size=600, overlap=0)}


def test_word_file_keeps_headings_lists_and_tables(tmp_path: Path) -> None:
    files.docx(tmp_path / "partenaires.docx")
    docs, skipped = _load(tmp_path)
    assert skipped == {}
    doc = docs["partenaires.docx"]
    assert doc.title == "Partenaires de l’observatoire"
    kinds = {doc.block_text(b): b.kind for b in doc.blocks}
    assert kinds["Réseaux européens"] == "heading"
    assert kinds["EuroCAN"] == kinds["ESN"] == "item"
    assert kinds["ESN | 2015"] == "paragraph"  # a table row reads as one line
    assert "membre du réseau EUSARF" in _sections(doc)["Réseaux européens"]


@pytest.mark.parametrize("suffix", [".odt", ".epub", ".rtf"])
def test_pandoc_formats_read_as_sections_and_items(tmp_path: Path, suffix: str) -> None:
    # Pandoc's RTF writer garbles the letter after a typographic apostrophe (its reader is not at fault).
    files.pandoc_file(tmp_path / f"assises{suffix}", files.MARKDOWN.replace("’", "'"))
    docs, skipped = _load(tmp_path)
    assert skipped == {}
    doc = docs[f"assises{suffix}"]
    kinds = {doc.block_text(b): b.kind for b in doc.blocks}
    assert kinds["Organisation"] == "heading"
    assert kinds["Rennes en 2015"] == kinds["Paris en 2016"] == "item"
    assert "Journal de l'Action Sociale" in _sections(doc)["Organisation"]
    if suffix != ".rtf":  # RTF has no title field pandoc reads
        assert doc.title == "Les Assises nationales"


def test_slides_become_sections_with_their_notes(tmp_path: Path) -> None:
    files.pptx(tmp_path / "bilan.pptx")
    docs, skipped = _load(tmp_path)
    assert skipped == {}
    doc = docs["bilan.pptx"]
    assert doc.title == "Bilan des réseaux"
    section = _sections(doc)["Réseaux internationaux"]
    assert "réseau EuroCAN" in section and "ISPCAN en 2019" in section and "directeurs des services sociaux" in section


def test_pdf_pages_headers_and_hyphens(tmp_path: Path) -> None:
    files.paged_pdf(tmp_path / "rapport.pdf")
    docs, skipped = _load(tmp_path)
    assert skipped == {}
    doc = docs["rapport.pdf"]
    assert doc.title == "Rapport annuel 2024"
    assert files.HEADER not in doc.text and "/ 4" not in doc.text  # running header and page numbers gone
    assert "la protection des enfants placés" in doc.text  # « protec- / tion » joined
    chunks = chunk_document(doc, size=120, overlap=0)
    for page, sentence in files.PAGE_SENTENCES.items():
        chunk = next(c for c in chunks if sentence in c.text)
        start = chunk.start + chunk.text.index(sentence)
        assert [p for _, p, _ in chunk.pages_of(start, start + len(sentence))] == [page]


def test_every_citation_of_a_pdf_names_its_page(
    tmp_path: Path, make_settings: MakeSettings, embeddings: SentenceTransformerEmbeddings
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files.paged_pdf(corpus / "rapport.pdf", extra_pages=30)
    settings = make_settings(corpus)
    sync(settings, embeddings=embeddings, progress=False)
    answerer = ExtractiveAnswerer(SearchEngine.open(settings, embeddings))
    questions = {
        2: "Où se sont tenues les Assises de la protection de l’enfance ?",
        3: "Combien de fois par an le conseil scientifique se réunit-il ?",
        4: "Qui publie la revue Child Abuse and Neglect ?",
    }
    for page, question in questions.items():
        answer = answerer.ask(question)
        assert not answer.abstained, question
        cited = [c for c in answer.citations if files.PAGE_SENTENCES[page][:40] in c.text[c.quote_start - c.start :]]
        assert cited, (question, answer.answer)
        assert all(c.pages == [page] and c.as_json()["page"] == page and not c.ocr for c in cited)


@needs_tesseract
def test_a_scanned_pdf_is_read_by_ocr_and_says_so(
    tmp_path: Path, make_settings: MakeSettings, embeddings: SentenceTransformerEmbeddings
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files.scanned_pdf(corpus / "scan.pdf", {1: "Page de garde du dossier.", 2: files.PAGE_SENTENCES[3]})
    settings = make_settings(corpus)
    report = sync(settings, embeddings=embeddings, progress=False)
    assert report.skipped == [] and report.partial == []
    answer = ExtractiveAnswerer(SearchEngine.open(settings, embeddings)).ask(
        "Combien de fois par an le conseil scientifique réunit-il des chercheurs ?"
    )
    assert not answer.abstained and "deux fois par an" in answer.answer
    assert answer.citations[0].pages == [2] and answer.citations[0].as_json()["ocr"] is True
    assert any((settings.index_dir / "ocr").iterdir())  # a reindex will not read the page again


def test_a_scanned_pdf_without_tesseract_is_reported_not_silently_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSISTANT_TESSERACT", str(tmp_path / "no-tesseract-here"))
    files.scanned_pdf(tmp_path / "scan.pdf", {1: "Une page numérisée."})
    files.paged_pdf(tmp_path / "mixte.pdf")
    scanned = tmp_path / "mixte.pdf"  # one text page, then one scanned page: read in part
    _append_scanned_page(scanned)
    docs, skipped = _load(tmp_path)
    assert "page numérisée sans texte" in skipped["scan.pdf"] and "tesseract-ocr" in skipped["scan.pdf"]
    assert docs["mixte.pdf"].notes == (
        "p. 5 : page numérisée sans texte (installez tesseract-ocr et tesseract-ocr-fra pour l'OCR)",
    )


def _append_scanned_page(path: Path) -> None:
    import pypdfium2 as pdfium

    scan = io.BytesIO()
    files.scanned_pdf(path.with_name("one.pdf"), {1: "Une page numérisée."})
    target, extra = pdfium.PdfDocument(path.read_bytes()), pdfium.PdfDocument(path.with_name("one.pdf").read_bytes())
    target.import_pages(extra)
    target.save(scan)
    path.with_name("one.pdf").unlink()
    path.write_bytes(scan.getvalue())


def test_a_500_page_pdf_is_read_with_its_pages(tmp_path: Path) -> None:
    files.paged_pdf(tmp_path / "gros.pdf", {437: "La phrase cherchée se trouve à la page 437."}, extra_pages=499)
    docs, _ = _load(tmp_path)
    doc = docs["gros.pdf"]
    chunk = next(c for c in chunk_document(doc, 800, 0) if "phrase cherchée" in c.text)
    start = chunk.start + chunk.text.index("La phrase cherchée")
    assert [p for _, p, _ in chunk.pages_of(start, start + 20)] == [437]


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * 60_000_000)


def test_bad_office_and_pdf_files_are_refused_with_a_reason(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    _zip_bomb(tmp_path / "bombe.docx")
    files.docx(tmp_path / "good.docx")
    (tmp_path / "tronque.docx").write_bytes((tmp_path / "good.docx").read_bytes()[:3000])
    (tmp_path / "page.docx").write_text("<html><body><p>Pas un document Word.</p></body></html>", encoding="utf-8")
    (tmp_path / "ancien.doc").write_bytes(b"\xd0\xcf\x11\xe0 old word file")
    secret = canvas.Canvas(str(tmp_path / "secret.pdf"), encrypt="motdepasse")
    secret.drawString(72, 720, "Texte confidentiel.")
    secret.save()
    (tmp_path / "casse.pptx").write_bytes(b"PK\x03\x04 not really a deck")
    docs, skipped = _load(tmp_path)
    assert set(docs) == {"good.docx"}
    assert "zip bomb" in skipped["bombe.docx"]
    assert "DOCX" in skipped["tronque.docx"] and "DOCX" in skipped["page.docx"]
    assert "save it as .docx" in skipped["ancien.doc"]
    assert "password" in skipped["secret.pdf"]
    assert "PPTX" in skipped["casse.pptx"]


def test_a_damaged_slide_a_page_size_bomb_and_a_failing_ocr_are_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reportlab.pdfgen import canvas

    files.pptx(tmp_path / "good.pptx")
    with zipfile.ZipFile(tmp_path / "good.pptx") as source, zipfile.ZipFile(tmp_path / "cut.pptx", "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, data[: len(data) // 2] if item.filename == "ppt/slides/slide1.xml" else data)
    huge = canvas.Canvas(str(tmp_path / "huge.pdf"), pagesize=(14_400, 14_400))  # a 5-metre page, blank
    huge.showPage()
    huge.save()
    # Tesseract that fails on every page (a stand-in: it lists its languages, then exits 1).
    fake = tmp_path / "bin" / "tesseract"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\n[ "$1" = --list-langs ] && echo "fra eng" && exit 0\nexit 1\n', encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("ASSISTANT_TESSERACT", str(fake))
    files.scanned_pdf(tmp_path / "scan.pdf", {1: "Une page numérisée."})
    docs, skipped = _load(tmp_path)
    assert "good.pptx" in docs
    assert skipped["cut.pptx"].startswith("unreadable PPTX")
    assert "la lecture OCR a échoué" in skipped["scan.pdf"] and "la lecture OCR a échoué" in skipped["huge.pdf"]
