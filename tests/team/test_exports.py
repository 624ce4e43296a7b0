"""Exports of answers with their sources: Markdown and Word, notes with title, section, page, quote and date."""

from __future__ import annotations

import io
from pathlib import Path

import docx as python_docx

from assistant.answering.types import Answer, Citation
from assistant.ingest.chunks import Chunk
from assistant.team.exports import docx, markdown

TEXT = "Le rapport décrit *les* missions. Les Assises se tiennent à Rennes <b>en juin</b>."


def cited_answer() -> Answer:
    """An answer citing page 2 of a PDF, with Markdown and HTML in its passage (shared with other tests)."""
    chunk = Chunk("c1", "rapport.pdf", "Rapport annuel", "Assises", 100, 100 + len(TEXT), TEXT,
                  pages=((100, 2, False),))  # fmt: skip
    start = 100 + TEXT.index("Les Assises")
    cited = Citation.of(1, chunk, 0.9, (start, 100 + len(TEXT)))
    return Answer("Où se tiennent les Assises ?", "« Les Assises se tiennent à Rennes. » [1]", False, "extractive",
                  "fr", [cited])  # fmt: skip


KNOWN = {"rapport.pdf": {"title": "Rapport annuel", "indexed": 1_764_750_000.0}}


def test_markdown_has_each_answer_and_its_notes_as_text() -> None:
    text = markdown([cited_answer()], KNOWN)
    assert "## Où se tiennent les Assises ?" in text and "Rennes" in text
    note = next(line for line in text.splitlines() if line.startswith("\\[1\\]"))
    assert "Rapport annuel — Assises, p. 2 \\(rapport.pdf, indexé le 03/12/2025\\)" in note
    assert "&lt;b&gt;en juin&lt;/b&gt;" in note and "<b>" not in text  # document markup stays text


def test_word_export_opens_with_the_question_answer_and_note(tmp_path: Path) -> None:
    document = python_docx.Document(io.BytesIO(docx([cited_answer()], KNOWN)))
    texts = [p.text for p in document.paragraphs]
    assert "Où se tiennent les Assises ?" in texts
    assert any(t.startswith("[1] Rapport annuel — Assises, p. 2") and "<b>en juin</b>" in t for t in texts)
