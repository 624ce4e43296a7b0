"""The bundled model stops when its answer is cancelled: while reading a long prompt, and while waiting for
another answer; the model is left as it was (the next answer is the same as before)."""

from __future__ import annotations

import threading
import time

import pytest
from langchain_core.messages import BaseMessage, HumanMessage

from assistant.config import Settings
from assistant.errors import Cancelled
from assistant.models.chat import llm_installed, load_chat_model, stream_text
from assistant.models.llama_chat import LlamaCppChat

pytestmark = pytest.mark.skipif(not llm_installed(), reason="the bundled LLM is not installed (the [llm] extra)")
SHORT = [HumanMessage(content="Réponds par un seul mot : quelle est la capitale de la France ?")]
# About 1,000 tokens: several seconds of prefill on 2 cores.
LONG = [HumanMessage(content="Résume ce texte. " + "Le comité de pilotage se réunit chaque trimestre à Paris. " * 80)]


@pytest.fixture(scope="module")
def chat() -> LlamaCppChat:
    model = load_chat_model(Settings.from_env())
    assert isinstance(model, LlamaCppChat)
    return model


def _stopped_after(chat: LlamaCppChat, messages: list[BaseMessage], delay_s: float) -> float:
    """Seconds until a stream cancelled after ``delay_s`` gives up (it must raise Cancelled)."""
    cancel = threading.Event()
    threading.Timer(delay_s, cancel.set).start()
    start = time.perf_counter()
    with pytest.raises(Cancelled):
        for _ in stream_text(chat, messages, cancel):
            pass
    return time.perf_counter() - start


def test_a_cancel_stops_the_prompt_being_read_and_leaves_the_model_as_it_was(chat: LlamaCppChat) -> None:
    before = str(chat.invoke(SHORT, max_tokens=8).content)
    start = time.perf_counter()
    chat.invoke(LONG, max_tokens=1)  # the whole prompt read: the time a stop saves
    full_prefill = time.perf_counter() - start
    chat.invoke(SHORT, max_tokens=8)  # the long prompt out of the cache again
    assert _stopped_after(chat, LONG, 0.3) < 0.3 + full_prefill / 2
    assert str(chat.invoke(SHORT, max_tokens=8).content) == before


def test_a_cancel_while_waiting_for_another_answer_gives_up_at_once(chat: LlamaCppChat) -> None:
    other = threading.Thread(target=lambda: chat.invoke(LONG, max_tokens=1))
    other.start()
    time.sleep(0.2)  # the other answer holds the model
    try:
        assert _stopped_after(chat, SHORT, 0.2) < 1.0
    finally:
        other.join()
