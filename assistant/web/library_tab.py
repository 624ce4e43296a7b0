"""The « Documents » tab: the library's table, upload (several files, drag and drop), download of an original,
deletion with confirmation. Upload and deletion are absent with ``serve --read-only-library``.

What it does lives in :class:`~assistant.web.service.ChatService` and :mod:`assistant.web.library`; this module
only lays it out and wires it. The chat keeps answering while an upload is indexed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.errors import UsageError, short_message
from assistant.ingest.corpus import SUPPORTED
from assistant.web.api import account_of
from assistant.web.library import COLUMNS
from assistant.web.service import ChatService

EDITORS_ONLY = "Réservé aux comptes « editor » ou « admin »."


@dataclass
class LibraryTab:
    """The tab's components (upload and deletion are None in a read-only library)."""

    tab: Any
    table: Any
    chosen: Any
    download: Any
    status: Any
    upload: Any = None
    add: Any = None
    confirm: Any = None
    delete: Any = None
    hint: Any = None


def _sources(service: ChatService, editor: bool = False, user: str | None = None) -> list[str]:
    """The documents ``user`` may pick: indexed ones; for an editor also the files left out (to delete them)."""
    meta, readable = service.engine.snapshot.meta, service.readable(user)
    found = set(meta.documents) | ({s["source"] for s in meta.skipped} if editor else set())
    return sorted(found if readable is None else found & readable)


def library_tab(service: ChatService) -> LibraryTab:
    """Lay the tab out (inside a ``gr.Tab`` being built)."""
    read_only = service.settings.read_only_library
    gr.Markdown("Les documents du corpus : indexés, ou ignorés avec la raison.")
    parts: dict[str, Any] = {}
    if not read_only:  # shown to editors only (LibraryHandlers.controls)
        parts["hint"] = gr.Markdown(
            "Ajoutez des fichiers (glisser-déposer) ; ils sont indexés aussitôt. "
            f"Types : {', '.join(sorted(SUPPORTED))}.",
            elem_id="upload-hint",
        )
    # Filled for each user when the page loads (see app.build_app).
    # Long titles and file names wrap, so every column (the state above all) fits a laptop screen.
    table = gr.Dataframe(
        [],
        headers=COLUMNS,
        interactive=False,
        wrap=True,
        column_widths=["24%", "22%", "7%", "7%", "9%", "13%", "18%"],
        elem_id="library-table",
    )
    if not read_only:
        with gr.Row():
            # No ``file_types``: Gradio's own check refuses the whole batch in English and leaves the tab in error
            # (a file named ".txt"); each file is checked on adding instead, and a refused one named with its reason.
            parts["upload"] = gr.File(file_count="multiple", type="filepath", label="Ajouter des documents",
                                      elem_id="upload")  # fmt: skip
            parts["add"] = gr.Button("Ajouter au corpus", variant="primary", elem_id="add-documents")
    with gr.Row():
        chosen = gr.Dropdown([], value=None, label="Document", elem_id="library-document")
        download = gr.DownloadButton("Télécharger l’original", value=None, elem_id="download")
        if not read_only:
            parts["confirm"] = gr.Checkbox(label="Je confirme la suppression", elem_id="confirm-delete")
            parts["delete"] = gr.Button("Supprimer du corpus", variant="stop", elem_id="delete-document")
    status = gr.Markdown(elem_id="library-status")
    return LibraryTab(None, table, chosen, download, status, **parts)


class LibraryHandlers:
    """What the tab's buttons do."""

    def __init__(self, service: ChatService) -> None:
        self.service = service

    def refresh(self, request: gr.Request) -> tuple[Any, ...]:
        """The table, the document list, the index line and the chat's picker, as the index now stands (files
        the index left out are listed to editors only)."""
        service, editor, user = self.service, self._may_edit(request), account_of(request)
        return (
            service.library_rows(skipped=editor, user=user),
            gr.update(choices=_sources(service, editor, user)),
            service.index_status(user),
            gr.update(choices=service.document_choices(user)),
        )

    def _may_edit(self, request: gr.Request | None) -> bool:
        return self.service.may(account_of(request), "editor")

    def controls(self, request: gr.Request) -> tuple[Any, ...]:
        """Upload and deletion are shown to editors and admins only."""
        return (gr.update(visible=self._may_edit(request)),) * 5

    def add(
        self,
        files: list[str] | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not self._may_edit(request):
            return (EDITORS_ONLY, gr.skip(), *self.refresh(request))
        if not files:
            return ("Choisissez d’abord des fichiers.", gr.skip(), *self.refresh(request))
        summary = self.service.upload([Path(f) for f in files], _follow(progress), account_of(request))
        return (summary, None, *self.refresh(request))

    def delete(
        self,
        source: str | None,
        confirmed: bool,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not self._may_edit(request):
            return (EDITORS_ONLY, gr.skip(), *self.refresh(request))
        if not source:
            return ("Choisissez d’abord un document.", gr.skip(), *self.refresh(request))
        if not confirmed:
            return (
                "Cochez « Je confirme la suppression » pour supprimer ce document.",
                gr.skip(),
                *self.refresh(request),
            )
        return (self.service.delete(source, _follow(progress), account_of(request)), False, *self.refresh(request))

    def download(self, source: str | None, request: gr.Request) -> Any:
        if not source:
            return None
        try:
            return str(self.service.download(source, account_of(request)))
        except (UsageError, OSError) as err:
            gr.Warning(short_message(err, 200))
            return None


def _follow(progress: gr.Progress) -> Any:
    def on_progress(done: int, total: int, what: str) -> None:
        unit = "phrases" if what == "sentences" else "passages"
        progress((done, total), desc=f"Indexation ({unit})", unit=unit)

    return on_progress


def wire_library(tab: LibraryTab, service: ChatService, demo: Any, index_line: Any, picker: Any) -> None:
    """Connect the tab's events (inside the ``gr.Blocks`` being built)."""
    handlers = LibraryHandlers(service)
    shown = [tab.table, tab.chosen, index_line, picker]
    if tab.add is not None:
        editing = [tab.upload, tab.add, tab.confirm, tab.delete, tab.hint]
        demo.load(handlers.controls, None, editing, api_visibility="private")
        tab.add.click(handlers.add, tab.upload, [tab.status, tab.upload, *shown], api_visibility="private")
        tab.delete.click(handlers.delete, [tab.chosen, tab.confirm], [tab.status, tab.confirm, *shown],
                         api_visibility="private")  # fmt: skip
    tab.chosen.change(handlers.download, tab.chosen, tab.download, api_visibility="private")
    # A reindex from the chat tab, the watcher or another process: the page shows what the index now holds.
    demo.load(handlers.refresh, None, shown, api_visibility="private")
    if tab.tab is not None:
        tab.tab.select(handlers.refresh, None, shown, api_visibility="private")
