"""The chat tab's event handlers: a question streamed to its answer (quotes first), stop, feedback, export,
reindex. :func:`assistant.web.app.build_app` wires them to the page.
"""

from __future__ import annotations

import queue
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering.answerability import clearly_answerable
from assistant.answering.conversation import Question
from assistant.answering.generative import NOTICES
from assistant.answering.types import Answer, Preview
from assistant.errors import QuestionError, short_message
from assistant.team import exports
from assistant.web.api import account_of, owner_of, user_of
from assistant.web.feedback import record_feedback
from assistant.web.library import DOWNLOADS
from assistant.web.library_tab import EDITORS_ONLY
from assistant.web.render import answer_markdown, escape_markdown, in_french, sources_html
from assistant.web.service import ChatService
from assistant.web.state import ChatState, viewer

WRITING = "Le modèle rédige une réponse à partir de ces passages…"
# The model's text is not shown below a confidence of one half, nor over passages in another language.
CHECKING = "Le modèle vérifie si ces passages répondent à la question…"
CHECKING_LOW = "Confiance faible : le modèle vérifie si ces passages répondent à la question…"
# While an answer is written the send button gives way to the stop button (outputs ``send``, ``stop``).
BUSY = (gr.update(visible=False), gr.update(visible=True))
IDLE = (gr.update(visible=True), gr.update(visible=False))
WAIT = "⏳ Une réponse est en cours : votre question reste dans la zone de saisie, envoyez-la quand elle est terminée."
STOPPED = "Réponse arrêtée."
# How often a waiting answer looks whether it was stopped: the stop shows within this, even during prefill.
STOP_POLL_S = 0.1
_DONE = object()
Messages = list[dict[str, Any]]


def _questions(messages: Messages) -> list[str]:
    return [str(m.get("metadata", {}).get("question") or m["content"]) for m in messages if m["role"] == "user"]


class Handlers:
    """The chat's event handlers, bound to the shared service."""

    def __init__(self, service: ChatService) -> None:
        self.service = service

    def respond(
        self, question: str, messages: Messages, mode: str, state: ChatState | None, chosen: list[str] | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the chat, then fill the sources panel and the viewer."""
        state = state or ChatState()
        if state.busy:  # one answer at a time per conversation: the question stays in the box, said so
            yield (gr.skip(),) * 5 + (WAIT, gr.skip(), gr.skip())
            return
        cancel = threading.Event()
        state.busy, state.cancel = True, cancel
        try:
            yield from self._answer(question, messages, mode, state, chosen or [])
        finally:  # also when the page goes away (its generator closed): the model stops writing for nobody
            cancel.set()
            if state.cancel is cancel:
                state.busy = False

    def stop(self, state: ChatState | None) -> str:
        """The stop button: the answer being written ends at once; its quotes stay."""
        if state is None or not state.busy:
            return ""
        state.cancel.set()
        return STOPPED

    def _events(self, asked: Question, mode: str, cancel: threading.Event) -> Iterator[str | Preview | Answer]:
        """The service's stream, read in a worker thread so that a stop is seen within ``STOP_POLL_S`` even while
        the model reads its prompt (no token comes then)."""
        events: queue.Queue[Any] = queue.Queue()

        def work() -> None:
            try:
                for event in self.service.stream(asked, mode, cancel):
                    events.put(event)
            except Exception as err:  # shown by safe_respond, in the page
                events.put(err)
            finally:
                events.put(_DONE)

        threading.Thread(target=work, name="answer", daemon=True).start()
        while not cancel.is_set():
            try:
                event = events.get(timeout=STOP_POLL_S)
            except queue.Empty:
                continue
            if event is _DONE:
                return
            if isinstance(event, Exception):
                raise event
            yield event
        # Stopped: the quotes, if they were ready, are still the answer.
        while not events.empty():
            if isinstance(event := events.get_nowait(), Preview):
                yield event

    def _answer(
        self, question: str, messages: Messages, mode: str, state: ChatState, chosen: list[str]
    ) -> Iterator[tuple[Any, ...]]:
        history = _questions(messages)
        try:
            asked = Question.parse(question, history, self.service.settings.max_question_chars, chosen)
            asked = replace(asked, readable=self.service.readable(state.account))
        except QuestionError as err:
            yield messages, question, gr.skip(), gr.skip(), state, f"⚠️ {escape_markdown(in_french(str(err)))}", *IDLE
            return
        messages = [
            *messages,
            {"role": "user", "content": escape_markdown(asked.text), "metadata": {"question": asked.text}},
        ]
        index = len(messages)
        messages = [*messages, {"role": "assistant", "content": "…"}]
        partial = ""
        # The box (and the notice) are cleared once, when the question is taken: a question typed meanwhile
        # stays in it, and the notice saying so stays too.
        yield messages, "", gr.skip(), gr.skip(), state, "", *BUSY
        quotes: Answer | None = None
        try:
            for event in self._events(asked, mode, state.cancel):
                if isinstance(event, Answer):
                    yield self._final(event, messages, index, history, state)
                    return
                quotes = event.answer if isinstance(event, Preview) else quotes
                partial = partial + event if isinstance(event, str) else partial
                yield self._progress(event, messages, index, partial, state)
        except Exception as err:  # after text was shown: the checked quotes replace it, never the unchecked text
            if quotes is None:
                raise
            yield self._final(replace(quotes, notice=f"⚠️ {short_message(err, 200)}"), messages, index, history, state)
            return
        # Stopped: what the model wrote was never checked, so the quotes are the answer.
        if quotes is None:
            messages[index] = {"role": "assistant", "content": f"*{STOPPED}*"}
            yield messages, gr.skip(), gr.skip(), gr.skip(), state, STOPPED, *IDLE
            return
        yield self._final(replace(quotes, notice=NOTICES["stopped"][quotes.language]), messages, index, history, state)

    @staticmethod
    def _progress(event: str | Preview, messages: Messages, index: int, partial: str, state: ChatState) -> Any:
        """The chat while an answer is written: the quotes (with the sources panel), then the text so far."""
        if isinstance(event, Preview):  # the quotes at once, while the model writes
            clear = clearly_answerable(event.answer.confidence)
            status = WRITING if event.written else CHECKING if clear else CHECKING_LOW
            writing = f"{answer_markdown(event.answer, index)}\n\n*{status}*"
            messages[index] = {"role": "assistant", "content": writing}
            return messages, gr.skip(), sources_html(event.answer, index), gr.skip(), state, gr.skip(), *BUSY
        messages[index] = {"role": "assistant", "content": escape_markdown(partial) + " ▌"}
        return messages, gr.skip(), gr.skip(), gr.skip(), state, gr.skip(), *BUSY

    def _final(self, answer: Answer, messages: Messages, index: int, history: list[str], state: ChatState) -> Any:
        state.answers[index], state.questions[index] = answer, history
        self.service.record(answer, state.user, "web")
        question = messages[index - 1].get("metadata", {}).get("question", answer.question)
        kept = self.service.save_turn(state.owner, state.conversation, answer, question, history)
        state.conversation = kept or state.conversation
        messages[index] = {"role": "assistant", "content": answer_markdown(answer, index)}
        return messages, gr.skip(), sources_html(answer, index), viewer(self.service, state), state, gr.skip(), *IDLE

    def safe_respond(  # noqa: PLR0917 (Gradio passes its inputs by position)
        self, question: str, messages: Messages, mode: str, state: ChatState | None, chosen: list[str] | None,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:  # fmt: skip
        # A failure shows as one sentence in the page, never as a trace.
        try:
            state = state or ChatState()
            state.user, state.owner, state.account = user_of(request), owner_of(request), account_of(request)
            yield from self.respond(question, messages, mode, state, chosen)
        except Exception as err:
            yield (gr.skip(),) * 5 + (f"⚠️ Erreur : {short_message(err, 200)}", *IDLE)

    def like(self, state: ChatState | None, data: gr.LikeData) -> str:
        index = data.index if isinstance(data.index, int) else data.index[0]
        answer = state.answers.get(index) if state else None
        if answer is None or state is None:
            return "Avis non enregistré : réponse introuvable."
        record_feedback(self.service.settings.feedback, answer, bool(data.liked), state.questions.get(index, []))
        return "Merci, votre avis est enregistré."

    def export(self, state: ChatState | None, fmt: str) -> str | None:
        """The conversation's answers with their notes, as a file to download (Markdown or Word)."""
        given = sorted((state.answers if state else {}).items())
        if not given or state is None:
            gr.Warning("Rien à exporter : posez d’abord une question.")
            return None
        answers, flags = [a for _, a in given], [state.flags.get(i, {}) for i, _ in given]  # flags: reopened ones
        known = self.service.engine.snapshot.meta.documents
        folder = Path(tempfile.mkdtemp(dir=DOWNLOADS.parent, prefix="assistant-export-"))
        path = folder / f"conversation.{fmt}"
        if fmt == "docx":
            path.write_bytes(exports.docx(answers, known, flags=flags))
        else:
            path.write_text(exports.markdown(answers, known, flags=flags), encoding="utf-8")
        return str(path)

    def reindex_shown(self, request: gr.Request) -> Any:
        """« Réindexer » is for editors and admins."""
        return gr.update(visible=self.service.may(getattr(request, "username", None), "editor"))

    def reindex(self, request: gr.Request, progress: gr.Progress = gr.Progress()) -> tuple[str, str, Any]:  # noqa: B008
        user = account_of(request)
        if not self.service.may(user, "editor"):
            return EDITORS_ONLY, self.service.index_status(user), gr.skip()

        def on_progress(done: int, total: int, what: str) -> None:
            unit = "phrases" if what == "sentences" else "passages"
            progress((done, total), desc=f"Calcul des plongements ({unit})", unit=unit)

        summary = self.service.reindex(on_progress, user=user)
        return summary, self.service.index_status(user), gr.update(choices=self.service.document_choices(user))
