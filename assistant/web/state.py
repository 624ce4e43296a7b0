"""What the web chat keeps per browser session (:class:`ChatState`), and the viewer built from it."""

from __future__ import annotations

import threading
from functools import partial

from assistant.answering.types import Answer
from assistant.indexing.sync import OCR_CACHE
from assistant.web.pages import page_html
from assistant.web.render import viewer_html
from assistant.web.service import ChatService

# The viewer keeps the citations of this many recent answers (older ones stay in the chat as text).
VIEWER_ANSWERS = 20


class ChatState:
    """Per-browser-session state: the answers given, by chat message index, and the saved conversation."""

    def __init__(self) -> None:
        self.answers: dict[int, Answer] = {}
        self.questions: dict[int, list[str]] = {}  # history each answer was given with
        self.busy = False  # an answer is being written for this browser session
        self.cancel = threading.Event()  # set by the stop button: the answer being written ends
        self.user = "anonymous"  # who asks (the audit log)
        self.owner = "anonymous"  # whose saved conversations these are (the signed-in name)
        self.account: str | None = None  # the signed-in account: what it may read (team.groups)
        self.conversation: str | None = None  # the saved conversation the answers go to
        self.stale: set[str] = set()  # documents changed since a reopened answer cited them
        self.flags: dict[int, dict[int, str]] = {}  # by answer index: what changed under each citation since

    def recent(self) -> list[tuple[int, Answer]]:
        return sorted(self.answers.items())[-VIEWER_ANSWERS:]


def viewer(service: ChatService, state: ChatState) -> str:
    """The viewer for the state's recent answers: each passage in its document (and, for a PDF, its page).
    A document changed since a reopened answer cited it, or one the user may no longer read, shows only the
    passage as it was cited."""
    settings, readable = service.settings, service.readable(state.account)
    hidden = state.stale | {s for s in service.engine.snapshot.documents if readable is not None and s not in readable}
    documents = {s: d for s, d in service.engine.snapshot.documents.items() if s not in hidden}
    render = partial(page_html, settings.corpus, documents, ocr_cache=settings.index_dir / OCR_CACHE)
    return viewer_html(state.recent(), documents, lambda c: "" if c.source in hidden else render(c))
