"""OCR of scanned PDF pages with Tesseract (Debian ``tesseract-ocr`` + ``tesseract-ocr-fra``), French and English.

The page is rendered locally (pypdfium2) and read by the ``tesseract`` command; results are cached by the
PDF's content hash and page number, so a reindex does not read the same page twice.
``ASSISTANT_TESSERACT`` names another binary (or a missing one, to turn OCR off).

Example:
    >>> ocr = Ocr.available(cache=None)  # doctest: +SKIP
    >>> ocr.languages  # doctest: +SKIP
    'fra+eng'
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pypdfium2

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

    def _cached(self, key: str) -> Path | None:
        return self.cache / f"{key}-{self.languages}.txt" if self.cache else None

    def read(self, page: pypdfium2.PdfPage, pdf_hash: str, number: int) -> str:
        """The text of one rendered page ("" when Tesseract fails on it: the page is then reported unread)."""
        cached = self._cached(f"{pdf_hash[:32]}-{number}")
        if cached and cached.is_file():
            return cached.read_text(encoding="utf-8")
        image = page.render(scale=RENDER_SCALE).to_pil().convert("L")
        png = io.BytesIO()
        image.save(png, format="PNG")
        try:
            done = subprocess.run(
                [self.binary, "stdin", "stdout", "-l", self.languages],
                input=png.getvalue(), capture_output=True, timeout=TIMEOUT_SECONDS, check=True,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return ""
        text = done.stdout.decode("utf-8", errors="replace")
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(cached)
        return text
