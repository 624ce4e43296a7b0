"""English words to the French words a bilingual dictionary gives, for BM25 across languages.

An English question over French documents shares only names with them, and the small multilingual
embedder does not always make up for it: "Which ministries sit on the steering committee?" found
« le Ministère des Affaires sociales… » third, "Which State departments…" not in the top 10. The
lexical side therefore also looks for each English word's French translations
(:meth:`~assistant.indexing.lexical.LexicalIndex.translated_scores`).

The dictionary is FreeDict's English-French and French-English pair (GPL, Debian packages
``dict-freedict-eng-fra`` and ``dict-freedict-fra-eng``, installed by ``make setup``), read from
``/usr/share/dictd`` in dictd format: an index of ``word<TAB>offset<TAB>length`` (base64 numbers)
and the gzipped entries. Without those files there are no translations and search works as before.

Example (``english_to_french()`` reads the installed dictionaries into such a table):
    >>> translations(["ministries", "ONPE"], {"ministri": frozenset({"minister"})})
    [frozenset({'minister'}), frozenset()]
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import Stemmer

from assistant.indexing.lexical import tokenize

DICTD = Path("/usr/share/dictd")
ENGLISH_FRENCH, FRENCH_ENGLISH = "freedict-eng-fra", "freedict-fra-eng"
_BASE64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
# « 1. état, manière d'être »: numbered senses, each a comma-separated list.
_SENSE_NUMBER = re.compile(r"^\d+\.\s*")
# Grammar and usage notes: <n, masc>, (familier), [cul].
_NOTE = re.compile(r"\([^)]*\)|<[^>]*>|\[[^\]]*\]")
# A damaged file: truncated gzip, bad encoding, a bad number in the index.
_DAMAGED = (OSError, EOFError, zlib.error, UnicodeDecodeError, KeyError, ValueError)
log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _english_stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def _number(text: str) -> int:
    """A dictd index number: base64 digits, most significant first."""
    value = 0
    for char in text:
        value = value * 64 + _BASE64[char]
    return value


def entries(directory: Path, name: str) -> Iterator[tuple[str, list[str]]]:
    """Each headword of dictd dictionary ``name`` in ``directory`` and its translations (notes removed).

    Raises:
        OSError: the files are missing or unreadable.
    """
    data = gzip.decompress((directory / f"{name}.dict.dz").read_bytes())
    for line in (directory / f"{name}.index").read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or fields[0].startswith("00") or not fields[0].strip():
            continue  # the database's own entries (00databaseinfo…)
        start, length = _number(fields[1]), _number(fields[2])
        body = data[start : start + length].decode("utf-8", errors="replace").splitlines()[1:]  # 1st: headword
        senses = (_SENSE_NUMBER.sub("", sense) for sense in body)
        yield fields[0].lower(), [t for s in senses for part in s.split(",") if (t := _NOTE.sub("", part).strip())]


@lru_cache(maxsize=2)
def english_to_french(directory: Path = DICTD) -> Mapping[str, frozenset[str]]:
    """English word stems (Snowball) to the French stems (:func:`~assistant.indexing.lexical.tokenize`) of
    their one-word translations, from both dictionaries; a missing or damaged one is left out (logged)."""
    table: dict[str, set[str]] = {}

    def add(word: str, french: str) -> None:
        stems = tokenize(french)
        if len(stems) == 1 and " " not in word:  # a phrase's words would each match alone
            table.setdefault(_english_stemmer().stemWord(word), set()).add(stems[0])

    try:
        for word, french in entries(directory, ENGLISH_FRENCH):
            for each in french:
                add(word, each)
    except _DAMAGED as err:
        log.warning("English-French dictionary not read (%s): English words match French text as written", err)
    try:
        for word, glosses in entries(directory, FRENCH_ENGLISH):
            for gloss in glosses:
                add(gloss.lower().removeprefix("to "), word)
    except _DAMAGED as err:
        log.warning("French-English dictionary not read (%s)", err)
    return {stem: frozenset(found) for stem, found in table.items()}


def translations(words: list[str], table: Mapping[str, frozenset[str]]) -> list[frozenset[str]]:
    """For each English word, the French stems ``table`` gives it (empty when it gives none)."""
    return [table.get(_english_stemmer().stemWord(word.lower()), frozenset()) for word in words]
