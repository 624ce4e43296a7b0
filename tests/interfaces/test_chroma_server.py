"""Server mode: a real ``chroma run`` on a free loopback port holds the vectors; index, ask, eval and
two web replicas go through it, and indexes sharing the server leave each other alone."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client

from assistant.config import Settings
from assistant.indexing import vectors
from tests.helpers import CORPUS, free_port, run, running_server, serving


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    command = [binary, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with serving(command, f"{url}/api/v2/heartbeat", data / "server.log", {"ANONYMIZED_TELEMETRY": "False"}, 60):
        yield url


def _collections(url: str, index: Path) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in vectors.open_client(index, url).list_collections()}


def test_index_and_ask_through_the_server(chroma_url: str, tmp_path: Path) -> None:
    settings = Settings.from_env(corpus=CORPUS, index_dir=tmp_path / "index")
    indexed = run(["--chroma-url", chroma_url, "index", "--json"], settings)
    assert indexed.returncode == 0, indexed.stderr
    assert json.loads(indexed.stdout)["embedded"] > 10
    assert not (settings.index_dir / "chroma").exists()  # the vectors are on the server, not here
    namespace = (settings.index_dir / "NAMESPACE").read_text(encoding="utf-8").strip()
    assert any(name.startswith(f"chunks-{namespace}-") for name in _collections(chroma_url, tmp_path))

    env = {"ASSISTANT_CHROMA_URL": chroma_url}
    asked = run(["ask", "--mode", "extractive", "--json", "Which networks is ONPE a member of?"], settings, env=env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert not answer["abstained"] and "EUSARF" in answer["answer"] and answer["citations"]

    evaluated = run(["eval", "--json", "--no-baseline", "--limit", "12"], settings, env=env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["retrieval"]["hit@5"] > 0.5


def test_indexes_sharing_a_server_leave_each_other_alone(chroma_url: str, tmp_path: Path) -> None:
    first = Settings.from_env(corpus=CORPUS, index_dir=tmp_path / "first")
    second_corpus = tmp_path / "corpus"
    second_corpus.mkdir()
    (second_corpus / "note.md").write_text("# Colloque\n\nLe colloque de Dijon a lieu en mars 2027.", encoding="utf-8")
    second = Settings.from_env(corpus=second_corpus, index_dir=tmp_path / "second")
    env = {"ASSISTANT_CHROMA_URL": chroma_url}
    assert run(["index"], first, env=env).returncode == 0
    # A rebuild of the second index drops its own old collections only.
    assert run(["index"], second, env=env).returncode == 0
    assert run(["index", "--rebuild"], second, env=env).returncode == 0
    asked = run(["ask", "--mode", "extractive", "--json", "Qui organise les Assises ?"], first, env=env)
    assert asked.returncode == 0 and not json.loads(asked.stdout)["abstained"], asked.stderr
    dijon = run(["ask", "--mode", "extractive", "--json", "Où a lieu le colloque ?"], second, env=env)
    assert "Dijon" in json.loads(dijon.stdout)["answer"]
    spaces = {(tmp_path / i / "NAMESPACE").read_text(encoding="utf-8").strip() for i in ("first", "second")}
    assert len(spaces) == 2
    owned = [
        name for name in _collections(chroma_url, tmp_path) if any(name.startswith(f"chunks-{s}-") for s in spaces)
    ]
    assert len(owned) == 2  # one live collection each, nothing left by the rebuild


def test_server_down_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings.from_env(corpus=CORPUS, index_dir=tmp_path / "index")
    result = run(["--chroma-url", f"http://127.0.0.1:{free_port()}", "index"], settings)
    assert result.returncode == 1
    assert "cannot reach the Chroma server" in result.stderr and "chroma run" in result.stderr


def test_two_web_replicas_answer_from_one_server(
    chroma_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings.from_env(corpus=CORPUS, index_dir=tmp_path / "index")
    assert run(["index"], settings, env={"ASSISTANT_CHROMA_URL": chroma_url}).returncode == 0
    monkeypatch.setenv("ASSISTANT_CHROMA_URL", chroma_url)
    with (
        running_server(settings.corpus, settings.index_dir, "--no-llm", log=tmp_path / "a.log") as one,
        running_server(settings.corpus, settings.index_dir, "--no-llm", log=tmp_path / "b.log") as two,
    ):
        for url in (one, two):
            answer = Client(url, verbose=False).predict(
                "Qui organise les Assises ?", None, "extractive", api_name="/ask"
            )
            assert not answer["abstained"] and answer["citations"]
