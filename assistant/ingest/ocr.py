"""OCR of scanned PDF pages with Tesseract (Debian ``tesseract-ocr`` + ``tesseract-ocr-fra``), French and English.

The page is rendered locally (pypdfium2) and read by the ``tesseract`` command; results are cached by the
PDF's content hash and page number, so a reindex does not read the same page twice; each word's box is kept too,
so that the viewer can highlight a quote on a scanned page.
``ASSISTANT_TESSERACT`` names another binary (or a missing one, to turn OCR off).

Example:
    >>> ocr = Ocr.available(cache=None)  # doctest: +SKIP
    >>> ocr.languages  # doctest: +SKIP
    'fra+eng'
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

# 300 dots per inch (PDF units are 1/72 inch): Tesseract's recommended resolution.
RENDER_SCALE = 300 / 72
TIMEOUT_SECONDS = 300
WANTED = ("fra", "eng")
INSTALL_HINT = "installez tesseract-ocr et tesseract-ocr-fra pour l'OCR"


def missing_ocr_note(pages: list[int]) -> str:
    """What a user is told about scanned pages that could not be read.

    >>> missing_ocr_note([3, 4])
    "p. 3, 4 : page numérisée sans texte (installez tesseract-ocr et tesseract-ocr-fra pour l'OCR)"
    """
    return f"p. {', '.join(map(str, pages))} : page numérisée sans texte ({INSTALL_HINT})"


@functools.lru_cache(maxsize=4)
def _languages(binary: str) -> str:
    try:
        listed = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    have = set(listed.stdout.split())
    return "+".join(lang for lang in WANTED if lang in have)


class Ocr:
    """Tesseract, when installed with French or English data; ``available`` says which."""

    def __init__(self, binary: str, languages: str, cache: Path | None) -> None:
        self.binary, self.languages, self.cache = binary, languages, cache

    @classmethod
    def available(cls, cache: Path | None) -> Ocr | None:
        """The installed Tesseract, or None when it (or its French and English data) is missing."""
        binary = shutil.which(os.environ.get("ASSISTANT_TESSERACT", "tesseract"))
        languages = _languages(binary) if binary else ""
        return cls(binary, languages, cache) if binary and languages else None

    def cached(self, pdf_hash: str, number: int) -> str | None:
        """The text OCR read on this page at an earlier indexing, if kept."""
        base = cache_base(self.cache, pdf_hash, number) if self.cache else None
        return (
            base.with_suffix(".txt").read_text(encoding="utf-8")
            if base and base.with_suffix(".txt").is_file()
            else None
        )

    def recognise(self, image: Image.Image, scale: float, pdf_hash: str, number: int) -> str | None:
        """The text of a page rendered at ``scale`` pixels per point (None when Tesseract fails on it).

        The words' boxes, in points, are kept beside the text in the cache (:func:`word_boxes`: the viewer
        highlights quotes on scanned pages with them).
        """
        with tempfile.TemporaryDirectory(prefix="assistant-ocr-") as tmp:
            image.save(Path(tmp) / "page.png")
            try:  # one run, two outputs: the text, and each word with its box (tsv)
                subprocess.run([self.binary, "page.png", "out", "-l", self.languages, "txt", "tsv"], cwd=tmp,
                               capture_output=True, timeout=TIMEOUT_SECONDS, check=True)  # fmt: skip
                text = (Path(tmp) / "out.txt").read_text(encoding="utf-8", errors="replace")
                boxes = (Path(tmp) / "out.tsv").read_text(encoding="utf-8", errors="replace")
            except (OSError, subprocess.SubprocessError):
                return None
        if self.cache:
            base = cache_base(self.cache, pdf_hash, number)
            base.parent.mkdir(parents=True, exist_ok=True)
            # The text last: it marks the entry done. The boxes' scale first, for word_boxes.
            for suffix, content in ((".tsv", f"# scale {scale}\n{boxes}"), (".txt", text)):
                partial = base.with_suffix(suffix + ".tmp")
                partial.write_text(content, encoding="utf-8")
                partial.replace(base.with_suffix(suffix))
        return text


def cache_base(cache: Path, pdf_hash: str, number: int) -> Path:
    """Where page ``number`` of the PDF whose sha256 is ``pdf_hash`` is cached (``.txt`` and ``.tsv`` beside)."""
    return cache / f"{pdf_hash[:32]}-{number}"


Word = tuple[str, float, float, float, float]  # text, left, top, right, bottom in PDF points from the top-left


def word_boxes(cache: Path, pdf_hash: str, number: int) -> list[Word]:
    """The words OCR read on a page, with their boxes (none when the page was not read by OCR)."""
    tsv = cache_base(cache, pdf_hash, number).with_suffix(".tsv")
    if not tsv.is_file():
        return []
    words: list[Word] = []
    lines = tsv.read_text(encoding="utf-8").splitlines()
    scale = float(lines[0].split()[-1]) if lines and lines[0].startswith("# scale") else RENDER_SCALE
    to_points = 1 / scale
    for line in lines[1:]:
        cells = line.split("\t")
        if len(cells) == 12 and cells[11].strip() and cells[0] == "5":  # level 5: a word
            left, top, width, height = (float(v) * to_points for v in cells[6:10])
            words.append((cells[11].strip(), left, top, left + width, top + height))
    return words
