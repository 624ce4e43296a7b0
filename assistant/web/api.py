"""The web chat's API: ``ask`` and ``search``, for ``gradio_client`` (``/ask``, ``/search``: JSON objects) and,
with ``serve --mcp``, as MCP tools (``/ask_json``, ``/search_json``: the same as JSON text; Gradio turns these
functions, their docstrings included, into tools).

Example (``service`` a :class:`~assistant.web.service.ChatService` over the ONPE pages):
    >>> api = Api(service)  # doctest: +SKIP
    >>> api.search("réseau EUSARF")["passages"][0]["source"]  # doctest: +SKIP
    'onpe-partenariats-et-reseaux-internationaux.txt'
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import gradio as gr

from assistant.answering.conversation import Question
from assistant.answering.types import Citation
from assistant.errors import QuestionError
from assistant.team.users import Accounts
from assistant.web.service import MODE_LABELS, ChatService

F = TypeVar("F", bound=Callable[..., Any])


def _not_a_tool(fn: F) -> F:
    """Served to ``gradio_client`` (a dict) but not listed as an MCP tool: Gradio would give MCP clients the dict's
    Python text; :class:`McpTools` gives them JSON."""
    fn._mcp_type = "api only"  # type: ignore[attr-defined]  # Gradio lists functions whose _mcp_type is "tool"
    return fn


def user_of(request: gr.Request | None) -> str:
    """Who asked, for the audit log: the signed-in user, else the address the request came from."""
    if request is None:
        return "anonymous"
    name = getattr(request, "username", None)
    host = request.client.host if getattr(request, "client", None) else "?"
    return str(name) if name else f"anonymous ({host})"


def account_of(request: gr.Request | None, accounts: Accounts | None = None) -> str | None:
    """The account a request comes from: the web login, or an MCP client's "Authorization: Basic" whose password
    ``accounts`` confirm; None: no account (a token, no logins, or wrong credentials)."""
    if request is None:
        return None
    if name := getattr(request, "username", None):
        return str(name)
    headers = getattr(request, "headers", None) or {}
    scheme, _, value = str(headers.get("authorization", "")).partition(" ")
    path = str(getattr(getattr(request, "url", None), "path", ""))
    if accounts is None or scheme.lower() != "basic" or not path.startswith("/gradio_api/mcp"):
        return None
    try:
        name, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return name if accounts.check(name, password) else None


def owner_of(request: gr.Request | None) -> str:
    """Whose saved conversations these are: the signed-in user; without logins, one shared "anonymous"."""
    name = getattr(request, "username", None) if request is not None else None
    return str(name) if name else "anonymous"


MAX_PASSAGES = 20


def mode_wanted(mode: object) -> str:
    """The answer mode an API caller asked for: one of ``auto``, ``llm``, ``extractive``, or the chat's own labels.

    >>> mode_wanted(None), mode_wanted("extractive"), mode_wanted("Extractif"), mode_wanted("automatique")
    ('auto', 'extractive', 'extractive', 'auto')

    Raises:
        QuestionError: any other value (it used to mean the language model, silently).
    """
    if mode is None:
        return "auto"
    named = {m: m for m in MODE_LABELS} | {label.lower(): m for m, label in MODE_LABELS.items()}
    if isinstance(mode, str) and mode.strip().lower() in named:
        return named[mode.strip().lower()]
    raise QuestionError(f"unknown mode {str(mode)[:40]!r}: use auto, llm or extractive")


def passages_wanted(k: object) -> int:
    """The ``k`` a search caller sent, as a number of passages (1 to 20; a larger one is capped).

    >>> passages_wanted(3), passages_wanted("7"), passages_wanted(1000)
    (3, 7, 20)

    Raises:
        QuestionError: not a whole number of at least 1 (``None``, ``"abc"``, ``1e400``, ``2.5``, ``0``).
    """
    wanted = 0
    if isinstance(k, int) and not isinstance(k, bool):
        wanted = k
    elif (isinstance(k, float) and k.is_integer()) or (isinstance(k, str) and k.strip().isdecimal() and len(k) < 12):
        wanted = int(k)  # JSON numbers may arrive as floats (5.0), form fields as text
    if wanted < 1:
        raise QuestionError(f"k must be a whole number of passages from 1 to {MAX_PASSAGES}")
    return min(wanted, MAX_PASSAGES)


class Api:
    """The functions served as API endpoints and MCP tools."""

    def __init__(self, service: ChatService) -> None:
        self.service = service

    @_not_a_tool
    def ask(
        self,
        question: str,
        history: list[str] | None = None,
        mode: str = "auto",
        sources: list[str] | None = None,
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Answer a question from the indexed documents, with a citation for every claim, or say the answer is not
        in the documents.

        Args:
            question: the question, in French or English.
            history: earlier questions of the conversation, oldest first (for follow-ups such as "and where?").
            mode: "auto" (the language model when available), "llm" or "extractive" (exact quotes only).
            sources: search only these documents: file names, globs ("*.pdf") or folders of the corpus.

        Returns:
            The answer as JSON: answer, abstained, confidence, citations (source, title, section, text, page), claims.
        """
        try:
            asked = Question.parse(question, history, self.service.settings.max_question_chars, sources)
            asked = replace(asked, readable=self.service.readable(account_of(request, self.service.accounts)))
            answer = self.service.answer(asked, mode_wanted(mode))
        except QuestionError as err:
            return {"question": question, "error": str(err)}
        self.service.record(answer, user_of(request), "api")
        return answer.as_json()

    @_not_a_tool
    def search(
        self, question: str, sources: list[str] | None = None, k: int = 5, request: gr.Request | None = None
    ) -> dict[str, Any]:
        """Find the passages of the indexed documents that best match a question (no answer is written).

        Args:
            question: what to look for, in French or English.
            sources: search only these documents: file names, globs ("*.pdf") or folders of the corpus.
            k: how many passages (1 to 20).

        Returns:
            The passages, best first: source, title, section, text, start, end, page, score.
        """
        try:
            asked = Question.parse(question, None, self.service.settings.max_question_chars, sources)
            self.service.engine.refresh()
            readable = self.service.readable(account_of(request, self.service.accounts))
            hits = self.service.engine.search(asked.text, passages_wanted(k), sources=asked.sources,
                                              readable=readable)  # fmt: skip
        except QuestionError as err:
            return {"question": question, "error": str(err)}
        passages = [Citation.of(n, h.chunk, h.score, (h.chunk.start, h.chunk.end)).as_json()
                    for n, h in enumerate(hits, start=1)]  # fmt: skip
        for passage in passages:
            passage.pop("quote", None)
        return {"question": asked.text, "passages": passages}


class McpTools:
    """``ask`` and ``search`` for MCP clients: the same objects as :class:`Api`'s, as JSON text (Gradio describes
    each tool by its docstring: :class:`Api`'s, given to these below)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def ask(
        self,
        question: str,
        history: list[str] | None = None,
        mode: str = "auto",
        sources: list[str] | None = None,
        request: gr.Request | None = None,
    ) -> str:
        return json.dumps(self.api.ask(question, history, mode, sources, request), ensure_ascii=False)

    def search(
        self, question: str, sources: list[str] | None = None, k: int = 5, request: gr.Request | None = None
    ) -> str:
        return json.dumps(self.api.search(question, sources, k, request), ensure_ascii=False)

    ask.__doc__ = (Api.ask.__doc__ or "").replace("The answer as JSON", "JSON")
    search.__doc__ = (Api.search.__doc__ or "").replace("The passages", "JSON: the passages")
