r"""File formats → raw structural blocks (headings, paragraphs, list items) and a title hint.

Each parser only splits structure; normalisation and junk removal happen in :mod:`assistant.ingest.cleaning`.

Example:
    >>> parsed = parse_markdown("# Réseaux\n\n- ESN\n- EUSARF\n")
    >>> parsed.title, [(b.kind, b.text) for b in parsed.blocks]
    ('Réseaux', [('heading', 'Réseaux'), ('item', 'ESN'), ('item', 'EUSARF')])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

BlockKind = Literal["heading", "paragraph", "item"]


@dataclass(frozen=True)
class RawBlock:
    """A structural unit of a document before cleaning."""

    kind: BlockKind
    text: str
    page: int = 0  # 1-based page of a paged format (PDF); 0 when the format has none
    ocr: bool = False  # read from an image of the page by OCR


@dataclass(frozen=True)
class Parsed:
    """What a parser found: blocks, when the format says so a title, and what could not be read (for the user)."""

    blocks: list[RawBlock]
    title: str | None = None
    notes: tuple[str, ...] = ()


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.S)
_BULLET = re.compile(r"^\s*(?:[•·▪◦‣∙*\-–]|\d{1,3}[.)])\s+")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"[.!?:;,…»)\]]\s*$")


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split a ``---``-delimited ``key: value`` header (static-site exports) from the body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[match.end() :]


def _paragraphs(text: str) -> Iterator[list[str]]:
    """Yield groups of non-blank lines separated by blank lines."""
    group: list[str] = []
    for line in text.splitlines():
        if line.strip():
            group.append(line)
        elif group:
            yield group
            group = []
    if group:
        yield group


def _looks_like_heading(line: str) -> bool:
    # A short line on its own, with no sentence punctuation at its end, reads as a heading.
    stripped = line.strip()
    return 0 < len(stripped) <= 90 and not _SENTENCE_END.search(stripped) and len(stripped.split()) <= 12


def _plain_blocks(text: str, markdown: bool) -> list[RawBlock]:
    blocks: list[RawBlock] = []
    for lines in _paragraphs(text):
        group = lines
        # Plain text written the Markdown way ("# Réunions") is common: its heading marks are read too.
        if m := _MD_HEADING.match(group[0]):
            blocks.append(RawBlock("heading", m.group(2)))
            group = group[1:]
            if not group:
                continue
        if any(_BULLET.match(line) for line in group):
            blocks.extend(_list_blocks(group))
        elif len(group) == 1 and not markdown and _looks_like_heading(group[0]):
            blocks.append(RawBlock("heading", group[0]))
        else:
            blocks.append(RawBlock("paragraph", " ".join(line.strip() for line in group)))
    return blocks


def _list_blocks(lines: list[str]) -> Iterator[RawBlock]:
    """Bulleted lines become items; continuation lines join the item above."""
    current: list[str] = []
    kind: BlockKind = "paragraph"
    for line in lines:
        if _BULLET.match(line):
            if current:
                yield RawBlock(kind, " ".join(current))
            current, kind = [_BULLET.sub("", line, count=1).strip()], "item"
        else:
            current.append(line.strip())
    if current:
        yield RawBlock(kind, " ".join(current))


def parse_text(text: str) -> Parsed:
    """Plain text: blank-line paragraphs, bullet items, ``#`` headings and short lone lines as headings.

    >>> [(b.kind, b.text) for b in parse_text("# Réunions\\n\\nLe mardi à 9 h.\\n").blocks]
    [('heading', 'Réunions'), ('paragraph', 'Le mardi à 9 h.')]
    """
    meta, body = split_front_matter(text)
    return Parsed(_plain_blocks(body, markdown=False), meta.get("title"))


def parse_markdown(text: str) -> Parsed:
    """Markdown: ``#`` headings, list items, paragraphs (inline markup is kept as written)."""
    meta, body = split_front_matter(text)
    blocks = _plain_blocks(body, markdown=True)
    title = meta.get("title") or next((b.text for b in blocks if b.kind == "heading"), None)
    return Parsed(blocks, title)


_HTML_DROP = ("script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed", "nav", "head")
_HTML_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_HTML_BLOCKS = _HTML_HEADINGS | {
    "p", "li", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "pre",
    "table", "tr", "td", "th", "ul", "ol", "dl", "dt", "dd", "figure", "figcaption", "br", "hr", "form", "body",
}  # fmt: skip


class _HtmlWalker:
    """Collects the visible text of an HTML tree into blocks, one per block-level element."""

    def __init__(self) -> None:
        self.blocks: list[RawBlock] = []
        self._inline: list[str] = []
        self._items = 0  # depth of <li> elements being walked: their paragraphs are list items

    def flush(self, kind: BlockKind = "paragraph") -> None:
        joined = " ".join("".join(self._inline).split())
        if kind == "paragraph" and (self._items or _BULLET.match(joined)):  # <li><p>…</p></li>, « • un » (RTF)
            kind, joined = "item", _BULLET.sub("", joined, count=1)
        if joined:
            self.blocks.append(RawBlock(kind, joined))
        self._inline.clear()

    def walk(self, node: Any) -> None:
        from bs4.element import NavigableString, Tag

        for child in node.children:
            if type(child) is NavigableString:  # exact type: skips comments, CDATA, doctype
                self._inline.append(str(child))
            elif isinstance(child, Tag) and child.name == "tr":  # a table row reads as one line: « a | b | c »
                self.flush()
                cells = [c.get_text(" ", strip=True) for c in child.find_all(["td", "th"], recursive=False)]
                self._inline.append(" | ".join(c for c in cells if c))
                self.flush()
            elif isinstance(child, Tag) and child.name in _HTML_BLOCKS:
                self.flush()
                self._items += child.name == "li"
                self.walk(child)
                self._items -= child.name == "li"
                kind: BlockKind = "heading" if child.name in _HTML_HEADINGS else "paragraph"
                self.flush("item" if child.name == "li" else kind)
            elif isinstance(child, Tag):
                self.walk(child)


def parse_html(text: str) -> Parsed:
    """HTML: visible text only (never script/style/nav), block elements become blocks."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else None
    for tag in soup.find_all(_HTML_DROP):
        tag.decompose()
    walker = _HtmlWalker()
    walker.walk(soup)
    walker.flush()
    if not title:
        title = next((b.text for b in walker.blocks if b.kind == "heading"), None)
    return Parsed(walker.blocks, title)


TEXT_PARSERS: dict[str, Callable[[str], Parsed]] = {
    ".txt": parse_text,
    ".text": parse_text,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".html": parse_html,
    ".htm": parse_html,
}
