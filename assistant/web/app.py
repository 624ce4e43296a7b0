"""The Gradio web chat: streamed answers, clickable citations, source viewer, reindexing, feedback.

French labels (the users are French professionals); answers come in the question's language.
The ``/ask`` API endpoint returns the same JSON object as ``assistant ask --json``.

Usage: ``launch(build_app(ChatService(settings)), settings.host, settings.port)`` serves the chat
until interrupted; ``block=False`` returns at once (the tests drive such a server with
``gradio_client`` and Debian's chromium).
"""

from __future__ import annotations

import queue
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.events import api
from starlette.middleware import Middleware

from assistant.answering.conversation import Question
from assistant.answering.generative import NOTICES
from assistant.answering.types import Answer, Preview
from assistant.config import Settings, parse_credentials
from assistant.errors import IndexMissing, QuestionError, short_message
from assistant.indexing.snapshot import load_meta
from assistant.indexing.sync import sync
from assistant.team import exports
from assistant.team.users import Accounts, Limiter
from assistant.web.admin_tab import admin_tab, wire_admin
from assistant.web.api import Api, McpTools, account_of, owner_of, user_of
from assistant.web.feedback import record_feedback
from assistant.web.library import DOWNLOADS
from assistant.web.library_tab import EDITORS_ONLY, library_tab, wire_library
from assistant.web.login import LoginGuard, authenticator, mcp_access
from assistant.web.render import CITATION_SCRIPT, CSS, answer_markdown, escape_markdown, sources_html, viewer_html
from assistant.web.saved import saved_panel, wire_saved
from assistant.web.service import MODE_LABELS, ChatService
from assistant.web.state import ChatState, viewer

EXAMPLES = [
    "Which networks is ONPE a member of?",
    "De quels réseaux internationaux l'ONPE est-il membre ?",
    "Depuis quand les Assises nationales de la protection de l'enfance existent-elles ?",
    "Qu'est-ce que le réseau EuroCAN ?",
]
LOADING = "Index : chargement…"
WRITING = "Le modèle rédige une réponse à partir de ces passages…"
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
            yield messages, question, gr.skip(), gr.skip(), state, f"⚠️ {err}", *IDLE
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
            writing = f"{answer_markdown(event.answer, index)}\n\n*{WRITING}*"
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


def _side_column() -> tuple[Any, Any, Any, Any]:
    """The sources panel, the viewer, « Réindexer » and its status line."""
    gr.Markdown("### Sources")
    sources = gr.HTML(sources_html(None, 0), elem_id="sources")
    gr.Markdown("### Document")
    viewer = gr.HTML(viewer_html([], {}), elem_id="viewer")
    reindex_button = gr.Button("Réindexer", elem_id="reindex")
    return sources, viewer, reindex_button, gr.Markdown(elem_id="reindex-status")


def build_app(service: ChatService) -> gr.Blocks:
    """The chat page; ``service`` is shared by every user of the server."""
    handlers = Handlers(service)
    with gr.Blocks(title="Assistant documentaire", analytics_enabled=False) as demo:
        gr.Markdown(
            "## Assistant documentaire\nPosez une question sur les documents : chaque réponse cite ses sources."
        )
        # The index line, the picker and the library are filled for each user when the page loads (folders
        # restricted to groups, even since the server started, never reach the page as first sent).
        index_line = gr.Markdown(LOADING, elem_id="index-status")
        panel = saved_panel()
        with gr.Tabs():
            with gr.Tab("Conversation", elem_id="tab-chat"), gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        height=480,
                        elem_id="chat",
                        feedback_options=("Like", "Dislike"),
                        buttons=["copy", "copy_all"],
                    )
                    with gr.Row():
                        box = gr.Textbox(
                            show_label=False, placeholder="Posez votre question…", scale=5, elem_id="question"
                        )
                        send = gr.Button("Envoyer", variant="primary", scale=1, elem_id="send")
                        stop = gr.Button("Arrêter", variant="stop", scale=1, visible=False, elem_id="stop")
                    notice = gr.Markdown(elem_id="notice")
                    gr.Examples(EXAMPLES, inputs=box, label="Exemples de questions")
                    with gr.Row():
                        mode = gr.Radio([(label, key) for key, label in MODE_LABELS.items()], value="auto",
                                        label="Mode de réponse", elem_id="mode")  # fmt: skip
                        clear = gr.Button("Effacer la conversation", elem_id="clear")
                    mode_line = gr.Markdown(service.mode_status("auto"), elem_id="mode-status")
                    picker = gr.Dropdown([], value=[], multiselect=True, elem_id="picker",
                                         label="Chercher seulement dans… (vide : tous les documents)")  # fmt: skip
                    with gr.Row():
                        export_md = gr.Button("Exporter (Markdown)", size="sm", elem_id="export-md")
                        export_docx = gr.Button("Exporter (Word)", size="sm", elem_id="export-docx")
                        exported = gr.File(
                            label="Conversation exportée", elem_id="exported", interactive=False, height=90
                        )
                with gr.Column(scale=2):
                    sources, viewer, reindex_button, reindex_line = _side_column()
            with gr.Tab("Documents", elem_id="tab-documents") as documents_tab:
                library = library_tab(service)
                library.tab = documents_tab
            with gr.Tab("Administration", elem_id="tab-admin", visible=False) as admin:
                administration = admin_tab(admin)
        state = gr.State(None)
        outputs = [chatbot, box, sources, viewer, state, notice, send, stop]
        inputs = [box, chatbot, mode, state, picker]
        # A question sent while one is answered is not taken (Handlers.respond says so) and stays in the box,
        # which answers never clear once they have started.
        answered = gr.on([box.submit, send.click], handlers.safe_respond, inputs, outputs,
                         trigger_mode="multiple", api_visibility="private")  # fmt: skip
        # Outside the queue: a stop is handled at once, however busy the queue is.
        stop.click(handlers.stop, state, notice, queue=False, api_visibility="private")
        clear.click(lambda: ([], None, sources_html(None, 0), viewer_html([], {}), ""),
                    None, [chatbot, state, sources, viewer, notice], api_visibility="private")  # fmt: skip
        mode.change(service.mode_status, mode, mode_line, api_visibility="private")
        export_md.click(partial(handlers.export, fmt="md"), state, exported, api_visibility="private")
        export_docx.click(partial(handlers.export, fmt="docx"), state, exported, api_visibility="private")
        chatbot.like(handlers.like, state, notice, api_visibility="private")
        reindex_button.click(handlers.reindex, None, [reindex_line, index_line, picker], api_visibility="private")
        wire_library(library, service, demo, index_line, picker)
        wire_saved(panel, service, demo, [chatbot, state, sources, viewer, notice], answered)
        wire_admin(administration, service, demo)
        # A reader sees no « Réindexer » (and the server refuses it anyway).
        demo.load(handlers.reindex_shown, None, reindex_button, api_visibility="private")
        _register_api(service)
    return demo  # type: ignore[no-any-return]


def _register_api(service: ChatService) -> None:
    """The API (gradio_client) and, with serve --mcp, the MCP tools: Gradio exposes the same functions."""
    tools = Api(service)
    mcp_tools = McpTools(tools)  # first: Gradio names MCP tools after functions, first come first named
    # Outside the queue: Gradio then calls them in-process with the MCP request (its headers say who asks),
    # where a queued tool goes through an HTTP loopback that a login would refuse.
    api(mcp_tools.ask, api_name="ask_json", queue=False)
    api(mcp_tools.search, api_name="search_json", queue=False)
    api(tools.ask, api_name="ask")
    api(tools.search, api_name="search")


def launch(
    demo: gr.Blocks,
    host: str,
    port: int,
    auth: tuple[str, str] | None = None,
    *,
    block: bool = True,
    accounts: Accounts | None = None,
    mcp: bool = False,
    mcp_token: str | None = None,
) -> tuple[Any, str, Any]:
    """Start the server: no share link, no analytics; several users are served at once. A login is asked when
    ``accounts`` exist or ``auth`` is given; attempts are limited per user and per address (web.login)."""
    demo.queue(default_concurrency_limit=4, max_size=64)
    limiter = Limiter()
    with_accounts = accounts is not None and accounts.exist()
    check = authenticator(accounts or Accounts(Path("/nonexistent")), auth, limiter) if with_accounts or auth else None
    guard = Middleware(LoginGuard, limiter=limiter, mcp_check=mcp_access(check, mcp_token))
    return demo.launch(  # type: ignore[no-any-return]
        server_name=host,
        server_port=port,
        share=False,
        auth=check,
        app_kwargs={"middleware": [guard]},
        show_error=False,
        prevent_thread_lock=not block,
        head=CITATION_SCRIPT,
        css=CSS,
        footer_links=[],
        enable_monitoring=False,
        mcp_server=mcp,
        pwa=False,
    )


def serve(settings: Settings, watch: bool, load_llm: bool, say: Callable[[str], None] = print) -> None:
    """``assistant serve``: index first if there is no index yet, load the models, serve until interrupted.

    Args:
        settings: what to serve, and where (``host``, ``port``, ``auth``).
        watch: reindex when corpus files change.
        load_llm: load the language model (else answers are extractive).
        say: where start-up messages go (the CLI's stderr).

    Raises:
        UsageError: ``settings.auth`` is not ``USER:PASSWORD`` (said before anything is loaded).
    """
    credentials = parse_credentials(settings.auth)
    try:
        load_meta(settings.index_dir)
    except IndexMissing:
        say("No index yet: indexing the corpus first.")
        say(sync(settings, progress=sys.stderr.isatty()).summary())
    service = ChatService(settings, load_llm=load_llm)
    if service.llm_notice:
        say(f"note: {service.llm_notice}")
    if watch:
        service.watch()
    say(f"Web chat on http://{settings.host}:{settings.port}/  (Ctrl+C to stop)")
    if service.accounts.exist():
        say(f"Accounts in {service.accounts.path}: the web chat asks for a login.")
    if settings.mcp:
        say(f"MCP tools (ask, search) on http://{settings.host}:{settings.port}/gradio_api/mcp/")
    launch(build_app(service), settings.host, settings.port, credentials, accounts=service.accounts,
           mcp=settings.mcp, mcp_token=settings.mcp_token)  # fmt: skip
