"""Real documents made for the tests by real writers: Word (python-docx), pandoc, PowerPoint (python-pptx),
PDF (reportlab), scanned PDF (pages rendered to images by pypdfium2, saved as an image-only PDF by Pillow)."""

from __future__ import annotations

import io
from pathlib import Path

HEADER = "Observatoire national de la protection de l’enfance — Rapport 2024"
# Known sentences on known pages of the PDF below (page → sentence).
PAGE_SENTENCES = {
    1: "Le rapport annuel décrit les missions de l’observatoire auprès des départements.",
    2: "Les Assises de la protection de l’enfance se sont tenues à Rennes en juin.",
    3: "Le conseil scientifique réunit des chercheurs européens deux fois par an.",
    4: "La revue Child Abuse and Neglect est publiée par l’ISPCAN chaque mois.",
}


def docx(path: Path) -> None:
    """A Word file: title, heading, paragraph, bulleted list, table."""
    import docx as python_docx

    document = python_docx.Document()
    document.core_properties.title = "Partenaires de l’observatoire"
    document.add_heading("Réseaux européens", level=1)
    document.add_paragraph("L’observatoire est membre du réseau EUSARF depuis 2012.")
    for name in ("ChildONEurope", "EuroCAN", "ESN"):
        document.add_paragraph(name, style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, (left, right) in zip(table.rows, [("Réseau", "Adhésion"), ("ESN", "2015")], strict=True):
        row.cells[0].text, row.cells[1].text = left, right
    document.save(str(path))


MARKDOWN = """---
title: Les Assises nationales
---

# Organisation

Les Assises sont organisées par le Journal de l’Action Sociale.

- Rennes en 2015
- Paris en 2016
"""


def pandoc_file(path: Path, markdown: str = MARKDOWN) -> None:
    """An ODT, EPUB or RTF file written by pandoc from Markdown (the format is the path's suffix)."""
    import pypandoc

    target = path.suffix.lstrip(".")
    pypandoc.convert_text(markdown, target, format="markdown-smart", outputfile=str(path), extra_args=["-s"])


def pptx(path: Path) -> None:
    """A slide deck: a title slide, then a slide with bullets and speaker notes."""
    from pptx import Presentation

    deck = Presentation()
    deck.core_properties.title = "Bilan des réseaux"
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Réseaux internationaux"
    body = slide.placeholders[1].text_frame
    body.text = "L’ONPE participe au réseau EuroCAN."
    body.add_paragraph().text = "Il rejoint ISPCAN en 2019."
    slide.notes_slide.notes_text_frame.text = "Le réseau ESN réunit les directeurs des services sociaux."
    deck.save(str(path))


def paged_pdf(path: Path, pages: dict[int, str] = PAGE_SENTENCES, extra_pages: int = 0) -> None:
    """A PDF whose page n holds ``pages[n]`` under a running header and above a « n / N » footer; page 2 also
    cuts « protection » with a hyphen at a line's end."""
    from reportlab.pdfgen import canvas

    total = len(pages) + extra_pages
    pdf = canvas.Canvas(str(path))
    pdf.setTitle("Rapport annuel 2024")
    for number in range(1, total + 1):
        pdf.setFont("Helvetica", 11)
        pdf.drawString(72, 800, HEADER)
        sentence = pages.get(number, f"Page de remplissage numéro {number} sans rien d’autre à signaler.")
        pdf.drawString(72, 700, sentence)
        if number == 2:
            pdf.drawString(72, 680, "Elles portent sur la protec-")
            pdf.drawString(72, 666, "tion des enfants placés en famille d’accueil.")
        pdf.drawString(280, 40, f"{number} / {total}")
        pdf.showPage()
    pdf.save()


def scanned_pdf(path: Path, pages: dict[int, str]) -> None:
    """An image-only PDF (no text layer): each page drawn in large type, rendered to an image, saved as a PDF."""
    import pypdfium2 as pdfium
    from reportlab.pdfgen import canvas

    text_pdf = io.BytesIO()
    pdf = canvas.Canvas(text_pdf)
    for number in sorted(pages):
        pdf.setFont("Helvetica", 16)
        words, line, y = pages[number].split(), "", 700
        for word in words:  # wrap by hand at ~45 characters
            if len(line) + len(word) > 45:
                pdf.drawString(60, y, line)
                line, y = "", y - 24
            line = f"{line} {word}".strip()
        pdf.drawString(60, y, line)
        pdf.showPage()
    pdf.save()
    document = pdfium.PdfDocument(text_pdf.getvalue())
    images = [page.render(scale=200 / 72).to_pil().convert("RGB") for page in document]
    images[0].save(str(path), save_all=True, append_images=images[1:], resolution=200.0)
