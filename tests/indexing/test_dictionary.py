"""The bilingual dictionary (FreeDict, dictd format) and English questions' words searched in French passages."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from assistant.answering import search
from assistant.answering.search import SearchEngine
from assistant.indexing.dictionary import DICTD, ENGLISH_FRENCH, FRENCH_ENGLISH, english_to_french, translations
from assistant.indexing.lexical import LexicalIndex

_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _base64(number: int) -> str:
    text = ""
    while True:
        number, rest = divmod(number, 64)
        text = _DIGITS[rest] + text
        if not number:
            return text


def _write_dictd(directory: Path, name: str, entries: list[tuple[str, str]]) -> None:
    """A dictd dictionary as FreeDict ships it: an index of base64 offsets into gzipped entries."""
    data, index = b"", []
    for word, body in entries:
        entry = body.encode()
        index.append(f"{word}\t{_base64(len(data))}\t{_base64(len(entry))}")
        data += entry
    (directory / f"{name}.dict.dz").write_bytes(gzip.compress(data))
    (directory / f"{name}.index").write_text("\n".join(index) + "\nbroken line\n", encoding="utf-8")


def test_both_directions_are_read_senses_split_and_notes_dropped(tmp_path: Path) -> None:
    _write_dictd(tmp_path, ENGLISH_FRENCH, [
        ("00-database-info", "00-database-info\nnot a word\n"),
        ("state", "state /steit/\n1. affirmer\n2. état, manière d'être\n"),
        ("ministry", "ministry /ministriː/\nministère\n"),
    ])  # fmt: skip
    _write_dictd(tmp_path, FRENCH_ENGLISH, [("comité", "comité /komite/ <n, masc>\ncommittee\n")])
    table = english_to_french(tmp_path)
    # English words are looked up by their stem, French ones given as BM25 stems; a phrase is not a translation.
    assert table["state"] == {"affirm", "etat"}
    assert translations(["ministries", "committees", "database"], table) == [
        frozenset({"minister"}), frozenset({"comit"}), frozenset()
    ]  # fmt: skip


def test_without_the_dictionary_there_are_no_translations(tmp_path: Path) -> None:
    assert english_to_french(tmp_path / "missing") == {}
    lexical = LexicalIndex.build(["Le comité de pilotage."])
    assert not lexical.translated_scores([frozenset()], own=set()).any()


@pytest.mark.skipif(not (DICTD / f"{ENGLISH_FRENCH}.index").is_file(), reason="make setup installs FreeDict")
def test_an_english_question_finds_the_french_passage_its_translated_words_name(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "public bodies", "ministries": « acteurs publics », « Ministère »; the passage ranked 8th without them.
    question = "Which public bodies other than ministries are ONPE partners?"

    def found() -> bool:
        return any("Défenseur des enfants" in h.chunk.text for h in engine.search(question, k=5))

    assert found()
    monkeypatch.setattr(search, "english_to_french", lambda: {})
    assert not found()
    # A French question is searched on its own words only.
    monkeypatch.undo()
    french = "Quels acteurs publics autres que les ministères sont partenaires de l'ONPE ?"
    before = [h.chunk.id for h in engine.search(french, k=5)]
    monkeypatch.setattr(search, "english_to_french", lambda: {"acteur": frozenset({"ministr"})})
    assert [h.chunk.id for h in engine.search(french, k=5)] == before
