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
        ("00databaseinfo", "00databaseinfo\nthe database (not a word)\n"),
        ("state", "state /steit/\n1. affirmer\n2. état (politique), manière d'être\n"),
        ("ministry", "ministry /ministriː/\n[pol] ministère\n"),
    ])  # fmt: skip
    _write_dictd(tmp_path, FRENCH_ENGLISH, [
        ("comité", "comité /komite/ <n, masc>\ncommittee\n"),
        ("siéger", "siéger /sjeʒe/ <v>\nto sit\n"),
    ])  # fmt: skip
    table = english_to_french(tmp_path)
    # English words are looked up by their stem, French ones given as BM25 stems; a phrase is not a translation.
    assert table["state"] == {"affirm", "etat"}
    assert translations(["ministries", "committees", "sit", "database"], table) == [
        frozenset({"minister"}), frozenset({"comit"}), frozenset({"sieg"}), frozenset()
    ]  # fmt: skip


def test_a_damaged_dictionary_is_left_out_and_the_other_still_read(tmp_path: Path) -> None:
    _write_dictd(tmp_path, FRENCH_ENGLISH, [("comité", "comité\ncommittee\n")])
    (tmp_path / f"{ENGLISH_FRENCH}.index").write_text("state\tB\tZ\n", encoding="utf-8")
    (tmp_path / f"{ENGLISH_FRENCH}.dict.dz").write_bytes(b"not gzip")
    assert english_to_french(tmp_path) == {"committe": frozenset({"comit"})}


def test_without_the_dictionary_there_are_no_translations(tmp_path: Path) -> None:
    assert english_to_french(tmp_path / "missing") == {}
    lexical = LexicalIndex.build(["Le comité de pilotage."])
    assert not lexical.translated_scores([("comit", frozenset())]).any()  # a word without translations adds nothing


@pytest.mark.skipif(
    not all((DICTD / f"{name}.index").is_file() for name in (ENGLISH_FRENCH, FRENCH_ENGLISH)),
    reason="make setup installs FreeDict",
)
def test_an_english_question_finds_the_french_passage_its_translated_words_name(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "public bodies", "ministries": « acteurs publics », « Ministère »; the passage ranked 8th without them.
    question = "Which public bodies other than ministries are ONPE partners?"

    def hits() -> dict[str, float]:
        return {h.chunk.text: h.lexical for h in engine.search(question, k=5)}

    def found(searched: dict[str, float]) -> bool:
        return any("Défenseur des enfants" in text for text in searched)

    with_dictionary = hits()
    monkeypatch.setattr(search, "english_to_french", lambda: {})
    without = hits()
    assert found(with_dictionary) and not found(without)
    # Hits keep their own words' BM25 (what answerability reads), whatever the translations added.
    assert all(with_dictionary[text] == score for text, score in without.items() if text in with_dictionary)
    # A French question is searched on its own words only.
    monkeypatch.undo()
    french = "Quels acteurs publics autres que les ministères sont partenaires de l'ONPE ?"
    before = [h.chunk.id for h in engine.search(french, k=5)]
    monkeypatch.setattr(search, "english_to_french", lambda: {"acteur": frozenset({"ministr"})})
    assert [h.chunk.id for h in engine.search(french, k=5)] == before
