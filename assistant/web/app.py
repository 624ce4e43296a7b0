"""The Gradio web chat: streamed answers, clickable citations, source viewer, reindexing, feedback.

French labels (the users are French professionals); answers come in the question's language.
The ``/ask`` API endpoint returns the same JSON object as ``assistant ask --json``.

Usage: ``launch(build_app(ChatService(settings)), settings.host, settings.port)`` serves the chat
until interrupted; ``block=False`` returns at once (the tests drive such a server with
``gradio_client`` and Debian's chromium).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.events import api
from starlette.middleware import Middleware

from assistant.config import Settings, parse_credentials
from assistant.errors import IndexMissing
from assistant.indexing.snapshot import load_meta
from assistant.indexing.sync import sync
from assistant.team.users import Accounts, Limiter
from assistant.web.admin_tab import admin_tab, wire_admin
from assistant.web.api import Api, McpTools
from assistant.web.handlers import Handlers
from assistant.web.library_tab import library_tab, wire_library
from assistant.web.login import LoginGuard, authenticator, mcp_access
from assistant.web.render import CITATION_SCRIPT, CSS, sources_html, viewer_html
from assistant.web.saved import saved_panel, wire_saved
from assistant.web.service import MODE_LABELS, ChatService

EXAMPLES = [
    "Which networks is ONPE a member of?",
    "De quels réseaux internationaux l'ONPE est-il membre ?",
    "Depuis quand les Assises nationales de la protection de l'enfance existent-elles ?",
    "Qu'est-ce que le réseau EuroCAN ?",
]
LOADING = "Index : chargement…"


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
                        box = gr.Textbox(  # the label is not shown but names the box for screen readers
                            label="Votre question",
                            show_label=False,
                            placeholder="Posez votre question…",
                            scale=5,
                            elem_id="question",
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
        # On a phone the open conversations panel covered the whole chat: there it starts closed.
        demo.load(None, None, None, js=CLOSE_PANEL_ON_PHONES)
        _register_api(service)
    return demo  # type: ignore[no-any-return]


CLOSE_PANEL_ON_PHONES = """() => {
  const panel = document.getElementById("saved-sidebar");
  if (panel && panel.classList.contains("open") && window.innerWidth < 768) {
    panel.querySelector("button.toggle-button")?.click();
  }
}"""


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
