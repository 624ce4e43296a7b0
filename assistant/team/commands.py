"""``assistant users …`` (accounts of the web chat) and ``assistant audit …`` (the audit log), added to
:mod:`assistant.cli`.

``audit verify`` exits 1 naming the first entry that was edited, removed, moved or truncated.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings
from assistant.errors import IndexMissing, UsageError
from assistant.indexing.snapshot import load_meta
from assistant.team import exports
from assistant.team.audit import audit_log, export
from assistant.team.conversations import Conversations, changes
from assistant.team.groups import Groups
from assistant.team.users import Accounts

audit_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="The audit log of answers given.")
groups_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Folders readable by group.")
conversations_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Saved conversations.")
users_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Accounts of the web chat.")
StdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin (one line).")]


def _accounts() -> Accounts:
    return Accounts(Settings.from_env().data_dir)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option("--role", help="reader, editor or admin.")] = "reader",
    password_stdin: StdinOpt = False,
) -> None:
    """Create an account (the web chat then asks for a login)."""
    _accounts().add(name, role, _password(password_stdin))
    typer.echo(f"user {name} added ({role})")


@users_app.command("list")
def users_list() -> None:
    """Every account and its role."""
    for name, role in _accounts().list():
        typer.echo(f"{name}\t{role}")


@users_app.command("remove")
def users_remove(name: str) -> None:
    """Delete an account (and take it out of its groups, and delete its saved conversations)."""
    _accounts().remove(name)
    _groups().forget(name)
    Conversations(Settings.from_env().data_dir).forget(name)
    typer.echo(f"user {name} removed")


@users_app.command("passwd")
def users_passwd(name: str, password_stdin: StdinOpt = False) -> None:
    """Set an account's password."""
    _accounts().set_password(name, _password(password_stdin))
    typer.echo(f"password of {name} changed")


def _since(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError as err:
        raise UsageError(f"--since wants a date such as 2026-12-01 (got {value!r})") from err


@audit_app.command()
def verify() -> None:
    """Check the hash chain of the whole log."""
    log = audit_log(Settings.from_env())
    checked, problem = log.verify()
    if problem:
        typer.echo(f"audit log {log.path}: {checked} entries verified, then {problem}", err=True)
        raise typer.Exit(1)
    last = list(log.entries())[-1:] if checked else []
    head = f"; last entry {last[0]['seq']}, hash {last[0]['hash']} (keep it elsewhere to prove later)" if last else ""
    typer.echo(f"audit log {log.path}: {checked} entries verified, chain intact{head}")


@audit_app.command("export")
def export_(
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    since: Annotated[str | None, typer.Option("--since", help="From this date (2026-12-01).")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's answers.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Export entries as JSON lines or CSV."""
    if fmt not in ("jsonl", "csv"):
        raise UsageError(f"--format must be jsonl or csv, not {fmt!r}")
    text = export(audit_log(Settings.from_env()).entries(), fmt, _since(since), user)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


@audit_app.command()
def prune(
    days: Annotated[float | None, typer.Option("--days", help="Days kept [env ASSISTANT_AUDIT_DAYS].")] = None,
) -> None:
    """Drop entries older than the retention; what is kept still verifies."""
    settings = Settings.from_env()
    keep = days if days is not None else settings.audit_days
    if not keep or keep <= 0:
        raise UsageError("no retention set: give --days N or ASSISTANT_AUDIT_DAYS")
    try:
        dropped = audit_log(settings).prune(keep)
    except ValueError as err:
        raise UsageError(str(err)) from err
    typer.echo(f"{dropped} entries older than {keep:g} days dropped")


@conversations_app.command("list")
def conversations_list(user: Annotated[str, typer.Option("--user", help="Whose (anonymous: no logins).")]) -> None:
    """A user's saved conversations: id, date, title."""
    for summary in Conversations(Settings.from_env().data_dir).recent(user, limit=10_000):
        when = dt.datetime.fromtimestamp(summary.updated).strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{summary.id}\t{when}\t{summary.title}")


def export_conversation(
    conversation: str,
    fmt: Annotated[str, typer.Option("--format", help="md or docx.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here (md: else stdout).")] = None,
) -> None:
    """Export a saved conversation with its sources: each answer with numbered notes, and the citations whose
    document changed since flagged."""
    if fmt not in ("md", "docx"):
        raise UsageError(f"--format must be md or docx, not {fmt!r}")
    if fmt == "docx" and out is None:
        raise UsageError("a Word export needs -o FILE")
    settings = Settings.from_env()
    store = Conversations(settings.data_dir)
    owner = store.owner(conversation)
    if owner is None:
        raise UsageError(f"no saved conversation {conversation[:40]!r} (assistant conversations list --user NAME)")
    turns, title = store.turns(owner, conversation), store.title(owner, conversation)
    try:
        known = load_meta(settings.index_dir).documents
    except IndexMissing:
        known = {}
    answers, flags = [t.answer for t in turns], [changes(t, known, {}) for t in turns]
    if fmt == "docx":
        out.write_bytes(exports.docx(answers, known, title, flags))  # type: ignore[union-attr]
    elif out is None:
        sys.stdout.write(exports.markdown(answers, known, title, flags))
    else:
        out.write_text(exports.markdown(answers, known, title, flags), encoding="utf-8")


def _groups() -> Groups:
    return Groups(Settings.from_env().data_dir)


@groups_app.command("add")
def groups_add(name: str) -> None:
    """Create a group."""
    _groups().add(name)
    typer.echo(f"group {name} added")


@groups_app.command("remove")
def groups_remove(name: str) -> None:
    """Delete a group (its folders open again unless another group holds them)."""
    _groups().remove(name)
    typer.echo(f"group {name} removed")


@groups_app.command("grant")
def groups_grant(group: str, folder: str) -> None:
    """Let GROUP read FOLDER of the corpus; FOLDER becomes readable by its groups only (and admins)."""
    _groups().grant(group, folder)
    typer.echo(f"{group} may read {folder}")


@groups_app.command("revoke")
def groups_revoke(group: str, folder: str) -> None:
    """Take FOLDER back from GROUP."""
    _groups().revoke(group, folder)
    typer.echo(f"{group} may no longer read {folder}")


@groups_app.command("join")
def groups_join(user: str, group: str) -> None:
    """Put the account USER in GROUP."""
    if _accounts().role(user) is None:
        raise UsageError(f"no user named {user!r}")
    _groups().join(user, group)
    typer.echo(f"{user} is in {group}")


@groups_app.command("leave")
def groups_leave(user: str, group: str) -> None:
    """Take USER out of GROUP."""
    _groups().leave(user, group)
    typer.echo(f"{user} left {group}")


@groups_app.command("list")
def groups_list() -> None:
    """Every group, the folders it reads and its members."""
    for name, folders, members in _groups().describe():
        typer.echo(f"{name}\tfolders: {', '.join(folders) or '-'}\tmembers: {', '.join(members) or '-'}")
