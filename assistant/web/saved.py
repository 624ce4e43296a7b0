"""The sidebar of saved conversations: the signed-in user's list (title, date), reopen exactly as answered with
the citations whose document changed since flagged, rename, delete with confirmation, a new conversation.

Storage lives in :mod:`assistant.team.conversations`; this module lays the sidebar out and wires it. Every
handler asks the store for the request's own user: a conversation id of someone else's opens nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.errors import UsageError
from assistant.team.conversations import Turn
from assistant.web.api import account_of, owner_of
from assistant.web.render import answer_markdown, escape_markdown, sources_html, viewer_html
from assistant.web.service import ChatService
from assistant.web.state import ChatState, viewer

NOT_FOUND = "Conversation introuvable."
Messages = list[dict[str, Any]]


@dataclass
class SavedPanel:
    """The sidebar's components."""

    saved: Any
    new: Any
    title: Any
    rename: Any
    confirm: Any
    delete: Any
    status: Any


def saved_panel() -> SavedPanel:
    """Lay the sidebar out (inside the ``gr.Blocks`` being built)."""
    with gr.Sidebar(label="Conversations", open=True, elem_id="saved-sidebar"):
        new = gr.Button("Nouvelle conversation", variant="primary", size="sm", elem_id="new-conversation")
        saved = gr.Radio([], label="Conversations enregistrées", elem_id="saved")
        title = gr.Textbox(label="Titre de la conversation ouverte", max_length=200, elem_id="conversation-title")
        with gr.Row():
            rename = gr.Button("Renommer", size="sm", elem_id="rename-conversation")
            delete = gr.Button("Supprimer", variant="stop", size="sm", elem_id="delete-conversation")
        confirm = gr.Checkbox(label="Je confirme la suppression", elem_id="confirm-conversation")
        status = gr.Markdown(elem_id="saved-status")
    return SavedPanel(saved, new, title, rename, confirm, delete, status)


def flagged(markdown: str, flags: dict[int, str]) -> str:
    """A reopened answer's Markdown with a line per citation whose document changed since.

    >>> flagged("Oui [1].", {1: "ce passage a changé depuis la réponse"})
    'Oui [1].\\n\\n*⚠️ \\\\[1\\\\] ce passage a changé depuis la réponse*'
    """
    lines = [f"*⚠️ \\[{n}\\] {flag}*" for n, flag in sorted(flags.items())]
    return "\n\n".join([markdown, "  \n".join(lines)]) if lines else markdown


def messages_of(turns: list[tuple[Turn, dict[int, str]]], state: ChatState) -> Messages:
    """The chat's messages for reopened turns (filling ``state`` with their answers, as when they were given)."""
    messages: Messages = []
    for turn, flags in turns:
        question = turn.saved.question
        messages.append({"role": "user", "content": escape_markdown(question), "metadata": {"question": question}})
        index = len(messages)
        state.answers[index], state.questions[index] = turn.answer, turn.saved.history
        state.stale |= {c.source for c in turn.answer.citations if c.n in flags}
        state.flags[index] = flags
        messages.append({"role": "assistant", "content": flagged(answer_markdown(turn.answer, index), flags)})
    return messages


class SavedHandlers:
    """The sidebar's event handlers, bound to the shared service."""

    def __init__(self, service: ChatService) -> None:
        self.service = service

    def listed(self, state: ChatState | None, request: gr.Request) -> tuple[Any, str]:
        """The user's conversations (the open one selected), and a word if the store had to be renewed."""
        try:
            return self.choices(state, request), escape_markdown(self.service.conversations.notice or "")
        except Exception:  # the chat answers even when its history cannot be read
            return gr.update(choices=[], value=None), "⚠️ Conversations enregistrées illisibles."

    def choices(self, state: ChatState | None, request: gr.Request) -> Any:
        """The user's conversations, most recent first, the open one selected."""
        choices = [(f"{s.title} · {time.strftime('%d/%m %H:%M', time.localtime(s.updated))}", s.id)
                   for s in self.service.conversations.recent(owner_of(request))]  # fmt: skip
        return gr.update(choices=choices, value=state.conversation if state else None)

    def open(self, conversation: str | None, request: gr.Request) -> tuple[Any, ...]:
        """Reopen a conversation: (chatbot, state, sources, viewer, notice, title)."""
        owner = owner_of(request)
        state = ChatState()
        state.owner, state.account = owner, account_of(request)
        try:
            turns = self.service.reopen(owner, conversation or "", state.account)
            title = self.service.conversations.title(owner, conversation or "")
        except UsageError:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), NOT_FOUND, gr.skip()
        state.conversation = conversation
        messages = messages_of(turns, state)
        last = max(state.answers, default=0)
        changed = sum(len(flags) for _, flags in turns)
        notice = f"⚠️ {changed} citation(s) ont changé depuis la réponse." if changed else ""
        return (messages, state, sources_html(state.answers.get(last), last), viewer(self.service, state), notice,
                title)  # fmt: skip

    @staticmethod
    def new() -> tuple[Any, ...]:
        """A new conversation: (chatbot, state, sources, viewer, notice, saved, title)."""
        return [], None, sources_html(None, 0), viewer_html([], {}), "", gr.update(value=None), ""

    def rename(self, title: str, state: ChatState | None, request: gr.Request) -> str:
        if state is None or state.conversation is None:
            return "Ouvrez ou commencez d’abord une conversation."
        if not title.strip():
            return "Donnez un titre."
        try:
            self.service.conversations.rename(owner_of(request), state.conversation, title)
        except UsageError:
            return NOT_FOUND
        return "Conversation renommée."

    def delete(self, confirmed: bool, state: ChatState | None, request: gr.Request) -> tuple[Any, ...]:
        """(status, confirm, chatbot, state, sources, viewer, title)"""
        if state is None or state.conversation is None:
            return ("Ouvrez d’abord une conversation.", gr.skip(), *(gr.skip(),) * 5)
        if not confirmed:
            return ("Cochez « Je confirme la suppression » pour supprimer cette conversation.", gr.skip(),
                    *(gr.skip(),) * 5)  # fmt: skip
        try:
            self.service.conversations.delete(owner_of(request), state.conversation)
        except UsageError:
            return (NOT_FOUND, False, *(gr.skip(),) * 5)
        return ("Conversation supprimée.", False, [], None, sources_html(None, 0), viewer_html([], {}), "")


def wire_saved(panel: SavedPanel, service: ChatService, demo: Any, chat: list[Any], answered: Any) -> None:
    """Connect the sidebar (``chat``: chatbot, state, sources, viewer, notice; ``answered``: the event of an
    answer, after which the list shows the conversation it went to)."""
    handlers = SavedHandlers(service)
    state, private = chat[1], {"api_visibility": "private"}
    listing = [panel.saved, panel.status]
    demo.load(handlers.listed, state, listing, **private)
    answered.then(handlers.listed, state, listing, **private)
    opened = panel.saved.input(handlers.open, panel.saved, [*chat, panel.title], **private)
    opened.then(handlers.choices, state, panel.saved, **private)
    panel.new.click(handlers.new, None, [*chat, panel.saved, panel.title], **private)
    renamed = panel.rename.click(handlers.rename, [panel.title, state], panel.status, **private)
    renamed.then(handlers.choices, state, panel.saved, **private)
    outputs = [panel.status, panel.confirm, *chat[:4], panel.title]
    deleted = panel.delete.click(handlers.delete, [panel.confirm, state], outputs, **private)
    deleted.then(handlers.choices, state, panel.saved, **private)
