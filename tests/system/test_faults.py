"""Faults: indexing killed at random points, two writers, damaged stores, a read-only disk.

Each test is bounded: fixed trial counts, and every process wait has a timeout.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from chromadb.api.shared_system_client import SharedSystemClient

from assistant.answering.search import SearchEngine
from assistant.config import Settings
from assistant.indexing import snapshot, vectors
from assistant.indexing.sync import sync
from assistant.ingest.chunks import chunk_document
from assistant.ingest.corpus import load_corpus
from assistant.models.embeddings import SentenceTransformerEmbeddings
from tests.helpers import run, running_server

pytestmark = pytest.mark.slow
MakeSettings = Callable[..., Settings]
TRIALS = 20
DOCUMENTS = 300
# Imports first, then waits for "go": the kill lands inside the indexing run, not in start-up.
INDEXER = (
    "import sys; from assistant.config import Settings; from assistant.indexing.sync import sync; "
    "from assistant.models.embeddings import load_embeddings; s = Settings.from_env(); load_embeddings(s.embedder); "
    "print('ready', flush=True); sys.stdin.readline(); sync(s, progress=False); print('done', flush=True)"
)
TOPICS = ("l'accueil familial", "la prévention précoce", "les mineurs non accompagnés", "l'aide éducative à domicile")


def _write(corpus: Path, i: int, version: int) -> None:
    topic = TOPICS[(i + version) % len(TOPICS)]
    (corpus / f"fiche-{i:03d}.txt").write_text(
        f"Fiche {i}, version {version}. Le dispositif {i} porte sur {topic} dans le département {i % 101}. "
        f"Il réunit des éducateurs, des assistants familiaux et des juges des enfants.\n",
        encoding="utf-8",
    )


def _state(corpus: Path) -> dict[str, str]:
    documents, _ = load_corpus(corpus, 10)
    return {d.source: d.content_hash for d in documents}


def _committed(index: Path) -> dict[str, str]:
    return {source: info["hash"] for source, info in snapshot.load_meta(index).documents.items()}


def _indexer(settings: Settings) -> subprocess.Popen[str]:
    env = os.environ | {"ASSISTANT_CORPUS": str(settings.corpus), "ASSISTANT_INDEX": str(settings.index_dir)}
    process = subprocess.Popen([sys.executable, "-c", INDEXER], env=env, text=True,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def _reader(settings: Settings, embeddings: SentenceTransformerEmbeddings) -> SearchEngine:
    """A fresh reader: Chroma caches one store per path and process, and other processes write this one."""
    SharedSystemClient.clear_system_cache()
    return SearchEngine.open(settings, embeddings)


def _change(corpus: Path, rng: random.Random, version: int) -> None:
    """Edit 15 documents, delete 2, add 2 (the next free numbers)."""
    present = sorted(int(p.stem.split("-")[1]) for p in corpus.glob("fiche-*.txt"))
    for i in rng.sample(present, 15):
        _write(corpus, i, version)
    for i in rng.sample(present, 2):
        (corpus / f"fiche-{i:03d}.txt").unlink()
    for i in range(present[-1] + 1, present[-1] + 3):
        _write(corpus, i, version)


def test_random_kills_never_lose_the_index_and_the_next_run_converges(
    tmp_path: Path, make_settings: MakeSettings, embeddings: SentenceTransformerEmbeddings
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(DOCUMENTS):
        _write(corpus, i, 0)
    settings = make_settings(corpus)
    sync(settings, embeddings=embeddings, progress=False)
    rng = random.Random(20261122)
    # How long one run of this size takes, to spread the kills over all of it.
    _change(corpus, rng, 1)
    process = _indexer(settings)
    started = time.monotonic()
    assert process.communicate("go\n", timeout=300)[0].strip() == "done"
    span = time.monotonic() - started
    outcomes = {"old": 0, "new": 0}
    for trial in range(TRIALS):
        before = _committed(settings.index_dir)
        _change(corpus, rng, trial + 2)
        target = _state(corpus)
        process = _indexer(settings)
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
        time.sleep(rng.uniform(0.0, span * 1.1))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        committed = _committed(settings.index_dir)
        # The commit is atomic: the index holds the whole old corpus or the whole new one.
        assert committed in (before, target), f"trial {trial}: a partial state was committed"
        outcomes["old" if committed == before and committed != target else "new"] += 1
        hits = _reader(settings, embeddings).search("prévention précoce", k=3)  # still answers
        assert hits and "prévention précoce" in hits[0].chunk.text
    print(f"\n{TRIALS} kills over {span:.1f} s runs: {outcomes['old']} left the old state, {outcomes['new']} the new")
    final = run(["index", "--json"], settings)  # the next run, as a user would start it
    assert final.returncode == 0, final.stderr
    engine = _reader(settings, embeddings)
    assert _committed(settings.index_dir) == _state(corpus)
    documents, _ = load_corpus(corpus, 10)
    expected = sum(len(chunk_document(d, settings.chunk_size, settings.chunk_overlap)) for d in documents)
    assert json.loads(final.stdout)["chunks"] == len(engine.snapshot.chunks) == expected
    chroma = vectors.vector_store(vectors.open_client(settings.index_dir), engine.snapshot.meta.collection, embeddings)
    assert set(vectors.all_ids(chroma)) == {c.id for c in engine.snapshot.chunks}
    assert outcomes["old"] and outcomes["new"], outcomes  # kills landed both before and after the commit


def test_two_indexing_processes_at_once(corpus_copy: Path, make_settings: MakeSettings) -> None:
    settings = make_settings(corpus_copy)
    env = {"ASSISTANT_CORPUS": str(corpus_copy), "ASSISTANT_INDEX": str(settings.index_dir)}
    command = [sys.executable, "-m", "assistant", "index", "--json"]
    processes = [subprocess.Popen(command, env=os.environ | env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for _ in range(2)]  # fmt: skip
    results = [(p.wait(timeout=300), *p.communicate()) for p in processes]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, 1]), results  # the second either found the work done or was told
    for code, _, stderr in results:
        assert "Traceback" not in stderr
        if code == 1:
            assert "another process is using the index" in stderr or "another indexing run" in stderr
    assert SearchEngine.open(settings).snapshot.meta.documents.keys() == _state(corpus_copy).keys()


def test_cli_index_while_the_web_chat_serves_is_refused(tmp_path: Path, corpus_copy: Path) -> None:
    index = tmp_path / "index"
    with running_server(corpus_copy, index, "--no-llm"):
        settings = Settings.from_env(corpus=corpus_copy, index_dir=index)
        (corpus_copy / "ajout.txt").write_text("Le protocole Zéphyr prévoit une réunion mensuelle.", encoding="utf-8")
        result = run(["index"], settings)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "a running web chat" in result.stderr and "Réindexer" in result.stderr
        assert "ajout.txt" not in snapshot.load_meta(index).documents
    assert run(["index"], settings).returncode == 0  # once the chat is stopped
    assert "ajout.txt" in snapshot.load_meta(index).documents


def _damage(index: Path, how: str) -> None:
    current = snapshot.snapshots_dir(index) / str(snapshot.current_name(index))
    if how == "chroma deleted":
        shutil.rmtree(vectors.chroma_dir(index))
    elif how == "chroma truncated":
        database = vectors.chroma_dir(index) / "chroma.sqlite3"
        database.write_bytes(database.read_bytes()[:4096])
    elif how == "bm25 deleted":
        shutil.rmtree(current / "bm25")
    elif how == "bm25 stale":  # the BM25 index of another, smaller corpus
        shutil.rmtree(current / "bm25")
        from assistant.indexing.lexical import LexicalIndex

        LexicalIndex.build(["un autre texte", "encore un"]).save(current / "bm25")


@pytest.mark.parametrize("how", ["chroma deleted", "chroma truncated", "bm25 deleted", "bm25 stale"])
def test_damaged_index_is_reported_and_recovered(corpus_copy: Path, make_settings: MakeSettings, how: str) -> None:
    settings = make_settings(corpus_copy)
    assert run(["index"], settings).returncode == 0
    _damage(settings.index_dir, how)
    broken = run(["ask", "--mode", "extractive", "Depuis quand les Assises existent-elles ?"], settings)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr, broken.stderr
    assert "assistant index" in broken.stderr, broken.stderr
    repaired = run(["index"], settings)
    if repaired.returncode != 0:  # the message asked for a rebuild
        assert "--rebuild" in broken.stderr + repaired.stderr, repaired.stderr
        assert run(["index", "--rebuild"], settings).returncode == 0
    answer = run(["ask", "--mode", "extractive", "Depuis quand les Assises existent-elles ?"], settings)
    assert answer.returncode == 0 and "2006" in answer.stdout


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Remount a directory read-only (a real EROFS from the kernel, which even root cannot write)."""
    mounted: list[Path] = []

    def make(path: Path) -> None:
        for args in (["--bind", str(path), str(path)], ["-o", "remount,ro,bind", str(path)]):
            done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                pytest.skip(f"cannot mount here ({done.stderr.strip()}): the read-only disk needs CAP_SYS_ADMIN")
        mounted.append(path)

    yield make
    for path in mounted:  # when the test did not unmount it itself
        subprocess.run(["umount", str(path)], capture_output=True, check=False)


def test_read_only_index_is_reported_and_nothing_half_written(
    corpus_copy: Path, make_settings: MakeSettings, read_only: Callable[[Path], None]
) -> None:
    settings = make_settings(corpus_copy)
    assert run(["index"], settings).returncode == 0
    committed = snapshot.current_name(settings.index_dir)
    (corpus_copy / "ajout.txt").write_text("Le protocole Zéphyr prévoit une réunion mensuelle.", encoding="utf-8")
    read_only(settings.index_dir)
    result = run(["index"], settings)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Read-only file system" in result.stderr and str(settings.index_dir) in result.stderr
    asked = run(["ask", "--mode", "extractive", "Depuis quand les Assises existent-elles ?"], settings)
    assert "Traceback" not in asked.stderr  # answers from the read-only index, or says why it cannot
    assert (asked.returncode, "2006" in asked.stdout) == (0, True) or asked.stderr.startswith("error: ")
    subprocess.run(["umount", str(settings.index_dir)], check=True)
    assert snapshot.current_name(settings.index_dir) == committed  # still the last committed state
    assert run(["index"], settings).returncode == 0
    assert "ajout.txt" in snapshot.load_meta(settings.index_dir).documents


class _Misbehaving(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint that fails the way real ones do: hangs, or dies mid-answer."""

    behaviour = "hang"
    protocol_version = "HTTP/1.1"  # streamed in chunks, as llama.cpp's server, vLLM and Ollama do

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.behaviour == "hang":
            time.sleep(30)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        chunked = self.protocol_version == "HTTP/1.1"
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        choice = {"index": 0, "delta": {"role": "assistant", "content": "L'ONPE est membre de"}}
        delta = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [choice]}
        event = f"data: {json.dumps(delta)}\n\n".encode()
        self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n" if chunked else event)
        self.wfile.flush()
        # The server dies: no [DONE], no final chunk, the connection cut. Over HTTP/1.0 the body
        # simply ends there, which looks like a normal end of the stream.
        self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    ("behaviour", "protocol"), [("hang", "HTTP/1.1"), ("dies mid-answer", "HTTP/1.1"), ("dies mid-answer", "HTTP/1.0")]
)
def test_llm_endpoint_that_hangs_or_dies_gives_the_extractive_answer(
    onpe_settings: Settings, embeddings: SentenceTransformerEmbeddings, behaviour: str, protocol: str
) -> None:
    from assistant.answering.modes import make_answerer

    handler = type("Handler", (_Misbehaving,), {"behaviour": behaviour, "protocol_version": protocol})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        settings = onpe_settings.with_(llm_base_url=url, llm_timeout=3.0)
        answerer, _ = make_answerer(SearchEngine.open(settings, embeddings), "llm")
        started = time.monotonic()
        answer = answerer.ask("Which networks is ONPE a member of?")
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
    assert answer.mode == "extractive" and answer.notice, answer
    assert all(n in answer.answer for n in ("ESN", "EuroCAN", "EUSARF", "ISPCAN"))
    assert elapsed < 20, f"the timeout did not bound the wait ({elapsed:.0f} s)"
