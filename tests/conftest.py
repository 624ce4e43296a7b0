"""Fixtures for the tests only (the session ones, shared with docstring examples, are in ../conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.config import Settings
from tests.helpers import CORPUS


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the real corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(corpus: Path, **changes: object) -> Settings:
        return Settings.from_env(corpus=corpus, index_dir=tmp_path / "index").with_(**changes)

    return make
