"""What the web chat does, without the UI: answer (streaming), reindex, watch the corpus, report status.

One :class:`ChatService` per server process: the embedder, the index and the language model are
loaded once and shared by every user. A reindex runs beside the chat: the chat keeps answering
from the committed snapshot and switches to the new one when it is committed.

Example (``settings`` name the indexed ONPE corpus):
    >>> service = ChatService(settings, load_llm=False)
    >>> service.answer(Question.parse("Qu'est-ce que le réseau EuroCAN ?"), "auto").mode
    'extractive'
    >>> service.index_status().startswith("Index : 2 documents, 27 passages")
    True
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.answering.conversation import Question
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.generative import GenerativeAnswerer
from assistant.answering.modes import MODES, make_answerer
from assistant.answering.search import SearchEngine
from assistant.answering.sources import folders
from assistant.answering.types import Answer, Preview, final_answer
from assistant.config import Settings
from assistant.errors import IndexBusy, UsageError, short_message
from assistant.indexing.sync import IndexReport, Progress, sync
from assistant.models.chat import describe
from assistant.team.audit import record
from assistant.team.conversations import Conversations, Saved, Turn, changes
from assistant.team.groups import Groups
from assistant.team.users import Accounts
from assistant.web import library
from assistant.web.login import allowed, role_of
from assistant.web.render import escape_markdown, reason_in_french

log = logging.getLogger(__name__)
MODE_LABELS = dict(zip(MODES, ("Automatique", "LLM", "Extractif"), strict=True))
# An upload or a deletion waits this long for a running reindex before giving up.
REINDEX_WAIT_S = 900
# Saving a file often writes it several times: wait for quiet before reindexing.
WATCH_DEBOUNCE_MS = 1500


class ChatService:
    """Shared state of the web chat (thread-safe: Gradio serves users from worker threads)."""

    def __init__(self, settings: Settings, load_llm: bool = True) -> None:
        self.settings = settings
        self.engine = SearchEngine.open(settings)
        self.extractive = ExtractiveAnswerer(self.engine)
        self.generative: GenerativeAnswerer | None = None
        self.llm_notice: str | None = None
        if load_llm:
            answerer, self.llm_notice = make_answerer(self.engine, "auto", progress=True, extractive=self.extractive)
            self.generative = answerer if isinstance(answerer, GenerativeAnswerer) else None
        self.accounts = Accounts(settings.data_dir)
        self.conversations = Conversations(settings.data_dir)
        self.groups = Groups(settings.data_dir)
        self._reindex_lock = threading.Lock()
        self.last_report: IndexReport | None = None
        self._stop = threading.Event()

    # -- answers ---------------------------------------------------------------------------

    def stream(
        self, question: Question, mode: str, cancel: threading.Event | None = None
    ) -> Iterator[str | Preview | Answer]:
        """The quotes (LLM: a :class:`Preview` first), text as it is written, then the final answer; extractive
        answers come at once. Setting ``cancel`` stops the model at its next token (the quotes then answer)."""
        self.engine.refresh()
        if mode != "extractive" and self.generative is not None:
            yield from self.generative.stream(question, cancel=cancel)
            return
        answer = self.extractive.ask(question)
        if mode == "llm" and self.llm_notice:
            answer.notice = self.llm_notice
        yield answer

    def answer(self, question: Question, mode: str) -> Answer:
        """The final answer (see :meth:`stream`)."""
        return final_answer(self.stream(question, mode))

    def may(self, user: str | None, needed: str) -> bool:
        """Whether the signed-in ``user`` has the role ``needed`` (reader < editor < admin; no accounts: yes)."""
        single = self.settings.auth.split(":", 1)[0] if self.settings.auth else None
        return allowed(role_of(self.accounts, user, single), needed)

    def readable(self, user: str | None) -> frozenset[str] | None:
        """The indexed documents and left-out files ``user`` may see (team.groups); None: all of them (an admin,
        or no folder restricted to a group)."""
        # The common case first: no folder restricted, one look at the groups and none at the accounts.
        if not self.groups.restricted() or self.may(user, "admin"):
            return None
        meta = self.engine.snapshot.meta
        return frozenset(self.groups.readable(user, [*meta.documents, *(s["source"] for s in meta.skipped)]))

    def model_of(self, answer: Answer) -> str:
        return describe(self.settings) if answer.mode == "llm" else "extractive"

    def record(self, answer: Answer, user: str, channel: str) -> None:
        """Log an answer given (the audit log; off with ``ASSISTANT_AUDIT=off``)."""
        snapshot = self.engine.snapshot.name
        record(self.settings, answer, user=user, channel=channel, snapshot=snapshot, model=self.model_of(answer))

    # -- saved conversations ---------------------------------------------------------------

    def save_turn(self, user: str, conversation: str | None, answer: Answer, question: str,
                  history: list[str]) -> str | None:  # fmt: skip
        """Keep an answer in ``user``'s conversation (a new one when None); its id, or None when it could not be
        saved (the answer is shown all the same)."""
        snap = self.engine.snapshot
        hashes = {c.source: str(snap.meta.documents.get(c.source, {}).get("hash", "")) for c in answer.citations}
        saved = Saved(question, history, snap.name, self.model_of(answer), hashes)
        try:
            return self.conversations.save(user, conversation, answer, saved)
        except (sqlite3.Error, OSError):
            log.exception("an answer could not be saved")
            return None

    def reopen(self, user: str, conversation: str, account: str | None = None) -> list[tuple[Turn, dict[int, str]]]:
        """``user``'s saved conversation, each turn with what changed since under its citations; a document the
        ``account`` may no longer read counts as gone (nothing tells whether it changed).

        Raises:
            UsageError: no such conversation of ``user``'s.
        """
        snap, readable = self.engine.snapshot, self.readable(account)
        texts = {s: doc.text for s, doc in snap.documents.items() if readable is None or s in readable}
        documents = {s: entry for s, entry in snap.meta.documents.items() if s in texts}
        turns = self.conversations.turns(user, conversation)
        return [(turn, changes(turn, documents, texts)) for turn in turns]

    # -- status ----------------------------------------------------------------------------

    def mode_status(self, mode: str) -> str:
        if mode == "extractive":
            return "Mode extractif : citations exactes des documents, sans modèle de langage."
        if self.generative is not None:
            return f"Modèle de langage : {describe(self.settings)}."
        return f"Modèle de langage indisponible, réponses extractives ({self.llm_notice})."

    def document_choices(self, user: str | None = None) -> list[tuple[str, str]]:
        """What ``user`` may limit the search to: each folder, then each document (label, pattern)."""
        documents, readable = self.engine.snapshot.documents, self.readable(user)
        documents = {s: d for s, d in documents.items() if readable is None or s in readable}
        by_folder = [(f"Dossier {name}/", name) for name in folders(documents)]
        return by_folder + [(f"{documents[s].title} ({s})", s) for s in sorted(documents)]

    # -- document library ------------------------------------------------------------------

    def library_rows(self, skipped: bool = True, user: str | None = None) -> list[list[Any]]:
        """Every document of the index (and, with ``skipped``, every file left out, with why) that ``user`` may
        see: the « Documents » tab."""
        snap = self.engine.snapshot
        passages = Counter(c.source for c in snap.chunks)
        return library.rows(snap.meta, passages, skipped, self.readable(user))

    def upload(self, files: list[Path], on_progress: Progress | None = None, user: str | None = None) -> str:
        """Add uploaded files to the corpus (each checked; one refused does not stop the others), then index."""
        if self.settings.read_only_library:
            return "Bibliothèque en lecture seule : ajout désactivé."
        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        added, refused = [], []
        for path in files:
            try:
                added.append(library.store_upload(self.settings.corpus, path, path.name, max_bytes))
            except (UsageError, OSError) as err:
                refused.append(f"- refusé : {escape_markdown(short_message(err, 200))}")
        if not added:
            return "\n".join(["Aucun fichier ajouté.", *refused])
        summary = self.reindex(on_progress, wait=True, user=user)
        names = ", ".join(escape_markdown(name) for name in added)
        return "\n".join([f"Ajouté(s) : {names}.", *refused, summary])

    def delete(self, source: str, on_progress: Progress | None = None, user: str | None = None) -> str:
        """Remove a document (one ``user`` may see) from the corpus, then from the index."""
        if self.settings.read_only_library:
            return "Bibliothèque en lecture seule : suppression désactivée."
        try:
            library.remove(self.settings.corpus, self.engine.snapshot.meta, source, self.readable(user))
        except (UsageError, OSError) as err:
            return f"⚠️ {escape_markdown(short_message(err, 200))}"
        return f"Supprimé : {escape_markdown(source)}.\n" + self.reindex(on_progress, wait=True, user=user)

    def download(self, source: str, user: str | None = None) -> Path:
        """A copy of a document's original file to download.

        Raises:
            UsageError: not a document of this corpus that ``user`` may read.
        """
        return library.download_copy(self.settings.corpus, self.engine.snapshot.meta, source, self.readable(user))

    def index_status(self, user: str | None = None) -> str:
        """The index line: documents and passages ``user`` may read, date, embedder, model."""
        snap, readable = self.engine.snapshot, self.readable(user)
        documents = len(snap.documents if readable is None else readable & set(snap.documents))
        passages = sum(1 for c in snap.chunks if readable is None or c.source in readable)
        when = time.strftime("%d/%m/%Y %H:%M", time.localtime(snap.meta.created))
        return (
            f"Index : {documents} documents, {passages} passages, "
            f"indexé le {when} · plongements : {snap.meta.embedder} · modèle : {describe(self.settings)}"
        )

    # -- reindexing ------------------------------------------------------------------------

    def reindex(self, on_progress: Progress | None = None, wait: bool = False, user: str | None = None) -> str:
        """Bring the index in line with the corpus; a summary in French for the UI, telling ``user`` only of the
        files they may see (no counts when some folders are hidden from them).

        ``wait``: when a reindex is running, wait for it and then reindex again (an upload or a deletion made
        meanwhile must be taken in), instead of saying one is running.
        """
        if not self._reindex_lock.acquire(blocking=wait, timeout=REINDEX_WAIT_S if wait else -1):
            return "Une réindexation est déjà en cours."
        try:
            report = sync(self.settings, embeddings=self.engine.embeddings, progress=False, on_progress=on_progress)
        except IndexBusy:
            return "Une autre réindexation (autre processus) est en cours : réessayez dans un instant."
        finally:
            self._reindex_lock.release()
        self.last_report = report
        self.engine.refresh()
        readable = self.readable(user)
        seen = [("ignoré", s) for s in report.skipped] + [("lu en partie", s) for s in report.partial]
        # File names and converters' messages are shown as text, never as Markdown or HTML.
        said = [(what, f"{s.source} ({reason_in_french(s.reason)})") for what, s in seen
                if readable is None or s.source in readable]  # fmt: skip
        skipped = "".join(f"\n- {what} : {escape_markdown(text)}" for what, text in said)
        if readable is not None:
            return f"Réindexation terminée en {report.seconds:.1f} s.{skipped}"
        return (
            f"Réindexation terminée en {report.seconds:.1f} s : {report.added} ajouté(s), "
            f"{report.updated} modifié(s), {report.deleted} supprimé(s), {report.chunks} passages.{skipped}"
        )

    def watch(self) -> threading.Thread:
        """Reindex (debounced) whenever a corpus file changes, until :meth:`close`."""
        from watchfiles import watch

        def loop() -> None:
            for _ in watch(self.settings.corpus, debounce=WATCH_DEBOUNCE_MS, stop_event=self._stop):
                try:
                    log.info(self.reindex())
                except Exception:  # a bad reindex must not end watching; the UI shows the state
                    log.exception("automatic reindex failed")

        thread = threading.Thread(target=loop, name="corpus-watch", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self._stop.set()
