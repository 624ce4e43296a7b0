"""The bundled model as a LangChain chat model: llama.cpp in-process, greedy, streaming, stoppable.

The prompt is rendered with the chat template stored in the GGUF file (llama-cpp-python's
``Jinja2ChatFormatter``) and tokenized once, so every reply reports its token counts
(``usage_metadata``, on the last streamed chunk, as LangChain's standard tests expect) and the
benchmark can replay the exact prompt. A stream given a ``cancel`` event stops while it waits for
the model, during the prompt's prefill (llama.cpp's abort callback) and between two tokens.

Usage: ``LlamaCppChat(model_path="model.gguf")``, then LangChain's ``invoke`` / ``stream``; the last
streamed chunk carries ``finish_reason`` in its ``response_metadata``, as OpenAI streams do.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.config import DEFAULT_LLM_MAX_TOKENS
from assistant.errors import Cancelled, ModelFileError

# Prompt + passages + answer fit well inside this; a larger context only costs memory.
N_CTX = 4096
# Threads and batch measured on 2 cores (README, "LLM speed"): one thread per core; a batch holds a whole prompt.
DEFAULT_THREADS = max(1, os.cpu_count() or 1)
N_BATCH = 512
# How often a stream waiting for the model (another user's answer) looks whether it was cancelled.
WAIT_POLL_S = 0.1
_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChat(BaseChatModel):
    """A LangChain chat model over an in-process ``llama_cpp.Llama`` (greedy, streaming).

    llama.cpp contexts are not thread-safe: calls are serialized, so concurrent users queue.
    Instances with the same model file share one loaded model (and its prompt cache).
    ``stream(messages, cancel=event)`` stops as soon as ``event`` is set (see the module docstring).

    Raises:
        ModelFileError: the GGUF file carries no chat template.
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
        """The tokens of the last prompt read (the benchmark replays them through llama.cpp alone)."""
        return self._last_prompt

    def prompt_tokens(self, messages: list[BaseMessage]) -> list[int]:
        """``messages`` as the model reads them: the GGUF's chat template, tokenized."""
        turns = [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
        prompt = self._loaded.formatter(messages=turns).prompt
        return list(self.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the model writes it."""
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0

    def _completion(self, tokens: list[int], stop: list[str] | None, stream: bool, **kwargs: Any) -> Any:
        self._last_prompt = tokens
        return self.llama.create_completion(
            prompt=tokens,
            max_tokens=kwargs.get("max_tokens", self.max_tokens),
            temperature=self.temperature,
            stop=[*(stop or self.stop or []), self._loaded.end_of_turn],
            stream=stream,
        )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tokens = self.prompt_tokens(messages)
        with self._loaded.lock:
            result = self._completion(tokens, stop, stream=False, **kwargs)
        text, usage = result["choices"][0]["text"] or "", result["usage"]
        counts = UsageMetadata(input_tokens=usage["prompt_tokens"], output_tokens=usage["completion_tokens"],
                               total_tokens=usage["total_tokens"])  # fmt: skip
        message = AIMessage(content=text, usage_metadata=counts, response_metadata=self._metadata(result))
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
        cancel: threading.Event | None = kwargs.pop("cancel", None)
        tokens = self.prompt_tokens(messages)
        _acquire(self._loaded.lock, cancel)
        try:
            yield from self._pieces(tokens, stop, run_manager, cancel, **kwargs)
        finally:
            self._loaded.abort.disarm()
            self._loaded.lock.release()

    def _pieces(
        self,
        tokens: list[int],
        stop: list[str] | None,
        run_manager: CallbackManagerForLLMRun | None,
        cancel: threading.Event | None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._loaded.abort.arm(cancel)  # the prefill (the first piece's wait) can be cut short
        parts = self._completion(tokens, stop, stream=True, **kwargs)
        written: list[str] = []
        try:
            for part in _aborted_as_cancelled(parts, cancel):
                self._loaded.abort.disarm()  # between tokens, closing the stream is enough (and free)
                delta, reason = part["choices"][0]["text"] or "", part["choices"][0].get("finish_reason")
                written.append(delta)
                if reason:  # the last chunk: why generation stopped ("stop", "length"), and the token counts
                    output = self.count_tokens("".join(written))
                    usage = UsageMetadata(input_tokens=len(tokens), output_tokens=output,
                                          total_tokens=len(tokens) + output)  # fmt: skip
                    yield _chunk(delta, run_manager, self._metadata(part), usage)
                elif delta:
                    yield _chunk(delta, run_manager)
        finally:  # also when the reader stops early (a cancelled answer): llama.cpp stops between two tokens
            parts.close()


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


def _acquire(lock: threading.Lock, cancel: threading.Event | None) -> None:
    """Wait for the model (another answer may be using it), giving up when ``cancel`` is set."""
    while not lock.acquire(timeout=WAIT_POLL_S):
        if cancel is not None and cancel.is_set():
            raise Cancelled("the answer was stopped while it waited for the model")


def _aborted_as_cancelled(parts: Iterator[Any], cancel: threading.Event | None) -> Iterator[Any]:
    """``parts``, with llama.cpp's "decode aborted" (our abort callback) turned into :class:`Cancelled`."""
    try:
        yield from parts
    except RuntimeError as err:
        if cancel is not None and cancel.is_set():
            raise Cancelled("the answer was stopped while the model read its prompt") from err
        raise


class _Abort:
    """llama.cpp's abort callback, armed only while a stoppable prompt is read.

    Armed, llama.cpp calls it between the operations of a decode (hundreds per call): cheap for one
    prefill, not worth paying on every generated token, which is why it is disarmed after the first.
    A decode it aborts leaves the model's cache as before that decode (llama-cpp-python counts only
    evaluated tokens), so the next prompt is read as usual.
    """

    def __init__(self, ctx: Any) -> None:
        import llama_cpp

        self._ctx = ctx
        self._set = llama_cpp.llama_set_abort_callback
        self._event: threading.Event | None = None
        self._callback = llama_cpp.ggml_abort_callback(self._check)  # kept: C holds only a pointer
        self._none = llama_cpp.ggml_abort_callback()

    def _check(self, _data: Any) -> bool:
        event = self._event
        return event is not None and event.is_set()

    def arm(self, event: threading.Event | None) -> None:
        if event is not None:
            self._event = event
            self._set(self._ctx, self._callback, None)

    def disarm(self) -> None:
        if self._event is not None:
            self._event = None
            self._set(self._ctx, self._none, None)


class _Loaded(NamedTuple):
    llama: Any
    formatter: Any  # llama_cpp's Jinja2ChatFormatter over the GGUF's own template
    end_of_turn: str
    lock: threading.Lock
    abort: _Abort


@cache
def _load(model_path: str, n_ctx: int, n_threads: int) -> _Loaded:
    """One loaded model per file and settings, for the life of the process."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = Llama(model_path=model_path, n_ctx=n_ctx, n_threads=n_threads, n_batch=N_BATCH, verbose=False)
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        llama.close()
        raise ModelFileError(f"{model_path} carries no chat template: it is not an instruction-tuned model")
    lock = threading.Lock()
    # Free the model before the interpreter tears down the library it needs to do so (after any answer
    # still being written by a daemon thread: never under its feet).
    atexit.register(_close, llama, lock)
    eos = llama._model.token_get_text(llama.token_eos())
    bos = llama._model.token_get_text(llama.token_bos()) if llama.token_bos() != -1 else ""
    formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
    return _Loaded(llama, formatter, eos, lock, _Abort(llama._ctx.ctx))


def _close(llama: Any, lock: threading.Lock) -> None:
    if lock.acquire(timeout=5):
        llama.close()
