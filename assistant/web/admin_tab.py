"""The « Administration » tab, for admins only: the audit log (latest answers, chain check, export) and the
groups that may read restricted folders.

The tab is hidden from other accounts, and every handler checks the role again on the server: a reader who calls
one through the API gets :data:`ADMINS_ONLY` and nothing else.
"""

from __future__ import annotations

import collections
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering.sources import folders
from assistant.errors import UsageError, short_message
from assistant.team.audit import audit_log, export
from assistant.web.api import account_of
from assistant.web.library import DOWNLOADS
from assistant.web.render import escape_markdown
from assistant.web.service import ChatService

ADMINS_ONLY = "Réservé aux comptes « admin »."
SHOWN = 100  # latest audit entries in the table
AUDIT_COLUMNS = ["N°", "Date", "Utilisateur", "Canal", "Question", "Mode", "Confiance", "Abstention", "Sources"]
GROUP_COLUMNS = ["Groupe", "Dossiers", "Membres"]
ACTIONS = {
    "Créer le groupe": lambda g, group, folder, user: g.add(group),
    "Supprimer le groupe": lambda g, group, folder, user: g.remove(group),
    "Ouvrir le dossier au groupe": lambda g, group, folder, user: g.grant(group, folder),
    "Retirer le dossier au groupe": lambda g, group, folder, user: g.revoke(group, folder),
    "Ajouter le membre": lambda g, group, folder, user: g.join(user, group),
    "Retirer le membre": lambda g, group, folder, user: g.leave(user, group),
}


@dataclass
class AdminTab:
    tab: Any
    audit: Any
    verify: Any
    export_csv: Any
    export_jsonl: Any
    exported: Any
    audit_status: Any
    groups: Any
    group: Any
    folder: Any
    user: Any
    action: Any
    apply: Any
    groups_status: Any


def admin_tab(tab: Any) -> AdminTab:
    """Lay the tab out (inside the ``gr.Tab`` being built; filled when an admin loads the page)."""
    gr.Markdown("### Journal d’audit\nLes dernières réponses données, la vérification de la chaîne, l’export.")
    audit = gr.Dataframe([], headers=AUDIT_COLUMNS, interactive=False, elem_id="audit-table", wrap=True)
    with gr.Row():
        verify = gr.Button("Vérifier la chaîne", elem_id="audit-verify")
        export_csv = gr.Button("Exporter (CSV)", elem_id="audit-csv")
        export_jsonl = gr.Button("Exporter (JSONL)", elem_id="audit-jsonl")
    exported = gr.File(label="Journal exporté", interactive=False, height=90, elem_id="audit-file")
    audit_status = gr.Markdown(elem_id="audit-status")
    gr.Markdown("### Groupes et dossiers\nUn dossier ouvert à un groupe n’est lisible que par ses membres (et les "
                "admins) ; les autres dossiers restent lisibles par tous.")  # fmt: skip
    groups = gr.Dataframe([], headers=GROUP_COLUMNS, interactive=False, elem_id="groups-table")
    with gr.Row():
        group = gr.Textbox(label="Groupe", max_length=64, elem_id="group-name")
        folder = gr.Dropdown([], label="Dossier", allow_custom_value=True, elem_id="group-folder")
        user = gr.Dropdown([], label="Compte", elem_id="group-user")
    with gr.Row():
        action = gr.Dropdown(list(ACTIONS), value=next(iter(ACTIONS)), label="Action", elem_id="group-action")
        apply = gr.Button("Appliquer", variant="primary", elem_id="group-apply")
    groups_status = gr.Markdown(elem_id="groups-status")
    return AdminTab(tab, audit, verify, export_csv, export_jsonl, exported, audit_status, groups, group, folder,
                    user, action, apply, groups_status)  # fmt: skip


def _row(entry: dict[str, Any]) -> list[Any]:
    when = time.strftime("%d/%m/%Y %H:%M:%S", time.localtime(entry.get("time", 0)))
    cited = ", ".join(sorted({c["source"] for c in entry.get("citations", [])}))
    fields = [entry.get(key, "") for key in ("seq", "user", "channel", "question", "mode", "confidence")]
    return [fields[0], when, *fields[1:], "oui" if entry.get("abstained") else "non", cited]


class AdminHandlers:
    """What the tab does; each call checks that the request is an admin's."""

    def __init__(self, service: ChatService) -> None:
        self.service = service

    def _admin(self, request: gr.Request | None) -> bool:
        return self.service.may(account_of(request), "admin")

    def shown(self, request: gr.Request) -> Any:
        return gr.update(visible=self._admin(request))

    def refresh(self, request: gr.Request) -> tuple[Any, ...]:
        """(audit table, groups table, folder choices, account choices)."""
        if not self._admin(request):
            return [], [], gr.update(choices=[]), gr.update(choices=[])
        try:
            latest = collections.deque(audit_log(self.service.settings).entries(), maxlen=SHOWN)
        except ValueError:  # a damaged line: « Vérifier la chaîne » says where
            latest = collections.deque()
        groups = [[n, ", ".join(f), ", ".join(m)] for n, f, m in self.service.groups.describe()]
        choices = folders(self.service.engine.snapshot.documents)
        accounts = [name for name, _ in self.service.accounts.list()]
        return ([_row(e) for e in reversed(latest)], groups, gr.update(choices=choices),
                gr.update(choices=accounts))  # fmt: skip

    def verify(self, request: gr.Request) -> str:
        if not self._admin(request):
            return ADMINS_ONLY
        log = audit_log(self.service.settings)
        checked, problem = log.verify()
        if problem:
            return f"⚠️ {checked} entrées vérifiées, puis : {escape_markdown(problem)}"
        return f"✓ Chaîne intacte : {checked} entrées vérifiées."

    def export(self, fmt: str, request: gr.Request) -> str | None:
        if not self._admin(request):
            gr.Warning(ADMINS_ONLY)
            return None
        try:
            text = export(audit_log(self.service.settings).entries(), fmt)
        except ValueError as err:
            gr.Warning(f"Journal illisible : {short_message(err, 200)}")
            return None
        path = Path(tempfile.mkdtemp(dir=DOWNLOADS.parent, prefix="assistant-audit-")) / f"audit.{fmt}"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def export_csv(self, request: gr.Request) -> str | None:
        return self.export("csv", request)

    def export_jsonl(self, request: gr.Request) -> str | None:
        return self.export("jsonl", request)

    def apply(self, action: str, group: str, folder: str | None, user: str | None, request: gr.Request) -> str:
        if not self._admin(request):
            return ADMINS_ONLY
        if action not in ACTIONS:
            return "Action inconnue."
        try:
            ACTIONS[action](self.service.groups, (group or "").strip(), folder or "", user or "")
        except UsageError as err:
            return f"⚠️ {escape_markdown(short_message(err, 200))}"
        return f"Fait : {escape_markdown(action.lower())}."


def wire_admin(tab: AdminTab, service: ChatService, demo: Any) -> None:
    """Connect the tab (inside the ``gr.Blocks`` being built)."""
    handlers, private = AdminHandlers(service), {"api_visibility": "private"}
    filled = [tab.audit, tab.groups, tab.folder, tab.user]
    demo.load(handlers.shown, None, tab.tab, **private)
    demo.load(handlers.refresh, None, filled, **private)
    tab.tab.select(handlers.refresh, None, filled, **private)
    tab.verify.click(handlers.verify, None, tab.audit_status, **private)
    tab.export_csv.click(handlers.export_csv, None, tab.exported, **private)
    tab.export_jsonl.click(handlers.export_jsonl, None, tab.exported, **private)
    applied = tab.apply.click(handlers.apply, [tab.action, tab.group, tab.folder, tab.user], tab.groups_status,
                              **private)  # fmt: skip
    applied.then(handlers.refresh, None, filled, **private)
