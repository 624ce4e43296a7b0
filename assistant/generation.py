"""Generated answers: the language model writes, the grounding check decides what is shown.

Retrieval and the abstention threshold are the extractive mode's own; the model's own "not found"
also abstains unless retrieval is clearly confident. The model sees only the passages worth quoting;
its answer is checked sentence by sentence (:mod:`assistant.grounding`). When nothing valid
remains, or the model cannot be reached, the extractive answer is given instead, with a notice.

Example:
    >>> answerer = GenerativeAnswerer(ExtractiveAnswerer(engine), load_chat_model(settings))  # doctest: +SKIP
    >>> for event in answerer.stream("Quels réseaux ?"): ...  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from dataclasses import replace

from langchain_core.language_models import BaseChatModel

from assistant.answer import Answer, Citation, ExtractiveAnswerer, Retrieved, is_follow_up, is_list_question
from assistant.chunks import Chunk, sentence_spans
from assistant.grounding import Checked, Grounder, complete_list
from assistant.lexical import tokenize
from assistant.prompting import NOT_FOUND_MARK, answer_messages, list_notes, rewrite_messages
from assistant.questions import clean_question
from assistant.retrieval import Hit

log = logging.getLogger(__name__)

# Prefill dominates the wait on 2 cores: a few short passages, not whole chunks.
MAX_LLM_PASSAGES = 6
REWRITE_MAX_TOKENS = 48
# Above the abstention threshold by this much, retrieval overrules the model's "not found".
FALLBACK_MARGIN = 0.025

NOTICES = {
    "unreachable": {
        "fr": "Le modèle de langage est injoignable ({error}) : réponse extractive.",
        "en": "The language model could not be reached ({error}): extractive answer shown.",
    },
    "model_not_found": {
        "fr": "Le modèle n’a pas trouvé de réponse directe dans ces passages : voici les plus proches de la question.",
        "en": "The model found no direct answer in these passages: here are the closest ones to the question.",
    },
    "unsupported": {
        "fr": "La réponse générée n’était pas appuyée par les passages : réponse extractive.",
        "en": "The generated answer was not supported by the passages: extractive answer shown.",
    },
}


class StreamCut(RuntimeError):
    """The model's stream ended without saying it was finished: the connection was closed mid-answer."""


def reports_finish(chat: BaseChatModel) -> bool:
    """Whether ``chat``'s streams end with a finish reason (OpenAI-compatible endpoints, the bundled model).

    For those, a stream that ends without one was cut: over HTTP/1.0 (no chunked transfer) a
    connection closed mid-answer otherwise looks like a normal end.
    """
    from assistant.llm import LlamaCppChat

    # An endpoint model means langchain_openai is loaded; importing it here would cost ~0.8 s otherwise.
    openai = sys.modules.get("langchain_openai.chat_models.base")
    return isinstance(chat, LlamaCppChat) or (openai is not None and isinstance(chat, openai.BaseChatOpenAI))


class GenerativeAnswerer:
    """Answers with a LangChain chat model over the extractive mode's retrieval.

    :meth:`stream` yields text as the model writes it, then the checked :class:`Answer` last.
    """

    mode = "llm"

    def __init__(self, extractive: ExtractiveAnswerer, chat: BaseChatModel) -> None:
        self.extractive = extractive
        self.chat = chat
        self.reports_finish = reports_finish(chat)

    def ask(self, question: str, history: list[str] | None = None) -> Answer:
        """The checked answer (the streamed text discarded)."""
        final = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                final = event
        assert final is not None  # stream always ends with an Answer
        return final

    def stream(self, question: str, history: list[str] | None = None) -> Iterator[str | Answer]:
        """Yield the model's text as it comes, then the checked answer."""
        question = clean_question(question, self.extractive.engine.settings.max_question_chars)
        try:
            query = self.rewrite(question, history or [])
            found = self.extractive.retrieve(question, history, query=query)
            if not found.answerable:
                yield found.abstention(self.mode)
                return
            passages = self.passages(found)
            parts: list[str] = []
            finished = False
            # A follow-up reaches the model in its standalone form, pronouns resolved.
            asked = found.query
            for chunk in self.chat.stream(answer_messages(asked, found.language, [p.chunk for p in passages])):
                text = str(chunk.content)
                finished = finished or bool(chunk.response_metadata.get("finish_reason"))
                parts.append(text)
                yield text
            if self.reports_finish and not finished:
                raise StreamCut("the answer stopped before its end")
        except Exception as err:  # any transport or model failure: the extractive answer still stands
            log.warning("language model failed: %s", err)
            yield self._fallback(question, history, "unreachable", _short(err))
            return
        yield self._checked(found, passages, "".join(parts))

    def rewrite(self, question: str, history: list[str]) -> str | None:
        """A standalone version of a follow-up question, written by the model (None if not a follow-up)."""
        if not history or not is_follow_up(question):
            return None
        reply = self.chat.invoke(rewrite_messages(question, history), max_tokens=REWRITE_MAX_TOKENS)
        rewritten = str(reply.content).strip().strip('"«» ').splitlines()
        candidate = rewritten[0].strip() if rewritten else ""
        # A rewrite that lost the question (empty, rambling) or the conversation's subject (no word
        # of the earlier questions) is worse than the heuristic, which borrows the last question.
        earlier = set(tokenize(" ".join(history))) - set(tokenize(question))
        if not candidate or len(candidate) > 3 * len(question) + 200 or not earlier & set(tokenize(candidate)):
            return None
        # The original words stay in the query: a small model's rewrite may drop what was asked.
        return candidate if candidate == question else f"{candidate} {question}"

    def passages(self, found: Retrieved) -> list[Hit]:
        """What the model reads: each answering sentence, with the one before it in its paragraph.

        The extractive evidence already follows list introductions to their members, so a list
        question gets every member; a single-fact question also gets its best passage whole.
        Short passages keep prefill, the slow part on a CPU, short.
        """
        snap = self.extractive.engine.snapshot
        windows: list[tuple[Chunk, int, int, float]] = []
        if not is_list_question(found.question) and found.hits:
            top = found.hits[0]
            windows.append((top.chunk, top.chunk.start, top.chunk.end, top.score))
        for chunk, start, end, score in self.extractive.evidence(found):
            text = snap.documents[chunk.source].text
            before = [s for s in sentence_spans(chunk.text, chunk.start) if s[1] <= start]
            same_paragraph = before and "\n" not in text[before[-1][1] : start]
            windows.append((chunk, before[-1][0] if same_paragraph else start, end, score))
        merged: list[Hit] = []
        for chunk, w_start, w_end, w_score in sorted(windows, key=lambda w: (w[0].source, w[1])):
            start, end, score = w_start, w_end, w_score
            last = merged[-1].chunk if merged else None
            if last is not None and last.source == chunk.source and start < last.end:
                start, end, score = last.start, max(end, last.end), max(score, merged[-1].score)
                merged.pop()
            text = snap.documents[chunk.source].text[start:end]
            window = replace(chunk, id=f"{chunk.id}@{start}", start=start, end=end, text=text)
            merged.append(Hit(window, score, score, score))
        return merged[:MAX_LLM_PASSAGES]

    def _checked(self, found: Retrieved, hits: list[Hit], text: str) -> Answer:
        engine = self.extractive.engine
        checked = Grounder([h.chunk for h in hits], engine.embeddings, engine.snapshot.lexical.known).check(text)
        not_found = checked.not_found or NOT_FOUND_MARK in text
        # The small model often misses a French passage answering an English question: when retrieval
        # is clearly confident (every unanswerable ONPE question scores below threshold + margin),
        # the quotes are worth more than its "not found". README, "Evaluation".
        confident = found.relevance >= engine.settings.threshold + FALLBACK_MARGIN
        if not_found and not confident:
            answer = found.abstention(self.mode)
            answer.dropped = []
            return answer
        if not_found or not checked.used:
            fallback = self.extractive.answer(found)
            fallback.notice = NOTICES["model_not_found" if not_found else "unsupported"][found.language]
            fallback.dropped = [] if not_found else checked.dropped
            return fallback
        if is_list_question(found.question):
            notes = list_notes([h.chunk for h in hits])
            checked = complete_list(checked, [h.chunk for h in hits], [n is not None for n in notes], found.language)
        return _compose(found, hits, checked)

    def _fallback(self, question: str, history: list[str] | None, why: str, error: str) -> Answer:
        answer = self.extractive.ask(question, history)
        answer.notice = NOTICES[why][answer.language].format(error=error)
        return answer


def _compose(found: Retrieved, hits: list[Hit], checked: Checked) -> Answer:
    citations = [Citation.of(n, hits[i].chunk, hits[i].score, checked.quotes[i]) for n, i in enumerate(checked.used, 1)]
    return Answer(found.question, checked.text, False, GenerativeAnswerer.mode, found.language, citations,
                  found.relevance, dropped=checked.dropped, query=found.query)  # fmt: skip


def _short(err: Exception) -> str:
    text = str(err).splitlines()[0] if str(err) else err.__class__.__name__
    return text[:120]


Answerer = ExtractiveAnswerer | GenerativeAnswerer
MODES = ("auto", "llm", "extractive")


def make_answerer(extractive: ExtractiveAnswerer, mode: str, progress: bool = False) -> tuple[Answerer, str | None]:
    """The answerer for ``mode``, and a notice when ``auto`` had to fall back to extractive.

    Raises:
        ValueError: unknown mode.
        LLMUnavailable: ``llm`` asked for and no model can be used.
    """
    from assistant.llm import LLMUnavailable, load_chat_model

    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r} (available: {', '.join(MODES)})")
    if mode == "extractive":
        return extractive, None
    try:
        chat = load_chat_model(extractive.engine.settings, progress=progress)
    except LLMUnavailable as err:
        if mode == "llm":
            raise
        return extractive, str(err)
    return GenerativeAnswerer(extractive, chat), None
