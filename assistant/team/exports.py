"""Exports: answers with their sources, as Markdown and as Word (python-docx), to paste into a report.

Each answer keeps its ``[n]`` markers; numbered notes follow it, each giving the document's title, section, page
when known, the quoted sentence and the date the document was indexed.

Example:
    >>> from assistant.answering.types import Answer
    >>> print(markdown([Answer("Qui ?", "Personne.", True, "extractive", "fr")], {}).splitlines()[2])
    ## Qui ?
"""

from __future__ import annotations

import io
import time
from typing import Any

from assistant.answering.types import Answer, Citation
from assistant.ingest.chunks import label

# What the index says of each document (snapshot meta: title, date indexed…), by source.
Known = dict[str, dict[str, Any]]
# For each answer, what changed since under its citations (by number): a saved conversation reopened.
Flags = list[dict[int, str]]
TITLE = "Réponses de l’assistant documentaire"


def _quote(c: Citation) -> str:
    return " ".join(c.text[c.quote_start - c.start : c.quote_end - c.start].split())


def note(c: Citation, known: Known, flag: str | None = None) -> str:
    """One note: « [n] Title — Section, p. 12 (file), indexed on 03/12/2026: “quote” », and what changed since
    (a saved conversation's ``flag``)."""
    indexed = known.get(c.source, {}).get("indexed")
    when = f", indexé le {time.strftime('%d/%m/%Y', time.localtime(indexed))}" if indexed else ""
    where = ", ".join(filter(None, [label(c.title, c.section), c.where]))
    return f"[{c.n}] {where} ({c.source}{when}) : « {_quote(c)} »" + (f" — ⚠️ {flag}" if flag else "")


def _notes(answers: list[Answer], flags: Flags | None) -> list[tuple[Answer, list[str | None]]]:
    """Each answer with the flag (or None) of each of its citations."""
    flags = flags or [{} for _ in answers]
    return [(answer, [f.get(c.n) for c in answer.citations]) for answer, f in zip(answers, flags, strict=True)]


def markdown(answers: list[Answer], known: Known, title: str = TITLE, flags: Flags | None = None) -> str:
    """The answers, each with its notes, as Markdown (document text is kept as text: no markup from it)."""
    lines = [f"# {_plain(title)}", ""]
    for answer, marks in _notes(answers, flags):
        lines += [f"## {_plain(answer.question)}", "", _plain(answer.answer), ""]
        lines += [f"{_plain(note(c, known, mark))}  " for c, mark in zip(answer.citations, marks, strict=True)]
        lines += [""]
    return "\n".join(lines).rstrip() + "\n"


def _plain(text: str) -> str:
    """Text that Markdown shows as written (document text may hold *, _, <, [ … )."""
    from assistant.web.render import escape_markdown

    return escape_markdown(text)


def docx(answers: list[Answer], known: Known, title: str = TITLE, flags: Flags | None = None) -> bytes:
    """The same as a Word document: a heading per question, the answer, its notes in a smaller type."""
    import docx as python_docx
    from docx.shared import Pt

    document = python_docx.Document()
    document.core_properties.title = title
    document.add_heading(title, level=1)
    for answer, marks in _notes(answers, flags):
        document.add_heading(answer.question, level=2)
        for paragraph in answer.answer.split("\n"):
            document.add_paragraph(paragraph)
        for c, mark in zip(answer.citations, marks, strict=True):
            run = document.add_paragraph().add_run(note(c, known, mark))
            run.font.size = Pt(9)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
