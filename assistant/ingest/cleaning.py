r"""Cleaning: Unicode NFC, whitespace, web-export junk. Produces the text users see and cite.

Offsets everywhere else in the package refer to :attr:`Document.text`, the cleaned text built here.

Example:
    >>> from assistant.ingest.formats import parse_text
    >>> raw = parse_text("Accueil > ONPE > Réseaux\n\nL’ONPE  participe [shortmenu menu='x'] à ESN.")
    >>> doc = clean(raw, "a.txt", fallback_title="a")
    >>> doc.title, doc.text
    ('Réseaux', 'L’ONPE participe à ESN.')
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from assistant.ingest.formats import BlockKind, Parsed, RawBlock

# WordPress-style shortcodes: ``[shortmenu menu="x" ...]``, ``[/shortmenu]``. They carry attributes
# (``=``) or a closing slash, which keeps ``[1]``, ``[sic]`` or ``[...]`` in the text.
_SHORTCODE = re.compile(r"\[/?[a-z_][\w-]*(?:\s+[^\[\]]*=[^\[\]]*)?\]|\[/[a-z_][\w-]*\]", re.I)
_CRUMB_START = re.compile(r"^(accueil|home|vous êtes ici\s*:?)\s*[>›»/|]", re.I)
_CRUMB_SEP = re.compile(r"\s[>›»]\s")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
# Inline HTML tags in a title (``<i>Saw 3D</i>``, as in Wikipedia-derived front matter): the title is
# shown and searched as plain text.
_TAG = re.compile(r"</?[a-z][\w-]*(?:\s[^<>]*)?/?>", re.I)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
BLOCK_SEPARATOR = "\n\n"
# Where a page begins in a document's text: (offset, page number, read by OCR).
PageMark = tuple[int, int, bool]
ITEM_SEPARATOR = "\n"


@dataclass(frozen=True)
class Block:
    """A heading, paragraph or list item, located in the cleaned text."""

    kind: BlockKind
    start: int
    end: int
    page: int = 0
    ocr: bool = False


@dataclass(frozen=True)
class Document:
    """A cleaned document: its text, structure and identity.

    ``source`` is the path relative to the corpus (POSIX separators); ``content_hash`` changes
    whenever anything that ends up in the index changes.
    """

    source: str
    title: str
    text: str
    blocks: tuple[Block, ...]
    # What could not be read (scanned pages without OCR…), told to the user at indexing.
    notes: tuple[str, ...] = ()

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        for part in (self.source, self.title, self.text):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()

    def block_text(self, block: Block) -> str:
        return self.text[block.start : block.end]

    def page_marks(self) -> list[PageMark]:
        """Where each page begins in :attr:`text` (paged formats only): ``(offset, page, ocr)``, in order."""
        marks: list[PageMark] = []
        for block in self.blocks:
            if block.page and (not marks or marks[-1][1:] != (block.page, block.ocr)):
                marks.append((block.start, block.page, block.ocr))
        return marks


def normalize(text: str) -> str:
    """NFC, no control or zero-width characters, single spaces, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def is_breadcrumb(text: str) -> bool:
    """Navigation crumbs such as ``Accueil > Observatoire > Page``."""
    return bool(_CRUMB_START.match(text)) and len(_CRUMB_SEP.findall(text)) >= 1 and len(text) < 300


def _clean_block(block: RawBlock) -> RawBlock | None:
    text = normalize(_SHORTCODE.sub(" ", block.text))
    if not text or is_breadcrumb(text):
        return None
    return RawBlock(block.kind, text, block.page, block.ocr)


def _crumb_title(blocks: list[RawBlock]) -> str | None:
    for block in blocks[:5]:
        text = normalize(block.text)
        if is_breadcrumb(text):
            return normalize(_CRUMB_SEP.split(text)[-1]) or None
    return None


def clean(parsed: Parsed, source: str, fallback_title: str) -> Document:
    """Turn parsed blocks into a :class:`Document` with exact block offsets.

    Blocks are joined by a blank line; consecutive list items by a single newline.
    The title is, in order: the format's own (front matter, ``<title>``, PDF metadata), the last
    breadcrumb element, the first heading, the file name.
    """
    kept = [b for b in (_clean_block(raw) for raw in parsed.blocks) if b is not None]
    parts: list[str] = []
    blocks: list[Block] = []
    offset = 0
    for i, block in enumerate(kept):
        if i:
            sep = ITEM_SEPARATOR if block.kind == "item" and kept[i - 1].kind == "item" else BLOCK_SEPARATOR
            parts.append(sep)
            offset += len(sep)
        blocks.append(Block(block.kind, offset, offset + len(block.text), block.page, block.ocr))
        parts.append(block.text)
        offset += len(block.text)
    first_heading = next((b.text for b in kept if b.kind == "heading"), None)
    own = normalize(_TAG.sub("", parsed.title or ""))
    title = own or _crumb_title(parsed.blocks) or first_heading or fallback_title
    return Document(source, title, "".join(parts), tuple(blocks), parsed.notes)
