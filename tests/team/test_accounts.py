"""Accounts: Argon2id hashes in SQLite, the CLI, login limits, roles enforced on the server; a real
``assistant serve`` asking for a login (gradio_client, raw HTTP for cookies and limits, Debian's chromium)."""

from __future__ import annotations

import http.client
import sqlite3
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gradio_client import Client

from assistant.errors import UsageError
from assistant.team.users import Accounts, Limiter
from assistant.web.login import authenticator
from tests.helpers import browser_page, run, running_server, sign_in

PASSWORD = "un mot de passe solide"


def test_passwords_are_hashed_never_stored(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path)
    accounts.add("marie", "editor", PASSWORD)
    stored = sqlite3.connect(accounts.path).execute("SELECT hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD.encode() not in accounts.path.read_bytes()
    assert accounts.check("marie", PASSWORD) and not accounts.check("marie", PASSWORD + "!")
    accounts.set_password("marie", "un autre mot de passe")
    assert not accounts.check("marie", PASSWORD) and accounts.check("marie", "un autre mot de passe")
    for bad in [("x y", "reader", PASSWORD), ("paul", "boss", PASSWORD), ("paul", "reader", "court"),
                ("marie", "reader", PASSWORD)]:  # fmt: skip
        with pytest.raises(UsageError):
            accounts.add(*bad)
    accounts.remove("marie")
    assert accounts.list() == [] and not accounts.exist()


def test_a_hundred_wrong_passwords_then_the_right_one(tmp_path: Path) -> None:
    now = [1000.0]
    accounts, limiter = Accounts(tmp_path), Limiter(clock=lambda: now[0])
    accounts.add("marie", "reader", PASSWORD)
    check = authenticator(accounts, None, limiter)
    assert not any(check("marie", f"essai {i}") for i in range(100))
    assert not check("marie", PASSWORD)  # refused while the user is locked, with the same answer
    assert not check("personne", PASSWORD)  # an unknown user: the same answer too
    now[0] += limiter.cap + 1
    assert check("marie", PASSWORD)  # afterwards the right password works, and clears the count
    assert limiter.wait("user:marie") == 0


def test_users_command_line(tmp_path: Path) -> None:
    env = {"ASSISTANT_DATA": str(tmp_path / "data")}
    added = run(["users", "add", "marie", "--role", "admin", "--password-stdin"], stdin=PASSWORD + "\n", env=env)
    assert added.returncode == 0 and "marie added (admin)" in added.stdout
    run(["users", "add", "paul", "--password-stdin"], stdin=PASSWORD + "\n", env=env)
    assert run(["users", "list"], env=env).stdout.split() == ["marie", "admin", "paul", "reader"]
    short = run(["users", "passwd", "paul", "--password-stdin"], stdin="court\n", env=env)
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    assert run(["users", "remove", "paul"], env=env).returncode == 0
    missing = run(["users", "remove", "paul"], env=env)
    assert missing.returncode == 2 and "no user named 'paul'" in missing.stderr


def test_a_reader_is_refused_editor_actions_on_the_server(tmp_path: Path, onpe_settings: Any) -> None:
    from assistant.web.library_tab import EDITORS_ONLY, LibraryHandlers
    from assistant.web.service import ChatService

    service = ChatService(onpe_settings.with_(data_dir=tmp_path / "data"), load_llm=False)
    service.accounts.add("paul", "reader", PASSWORD)
    service.accounts.add("marie", "editor", PASSWORD)
    handlers = LibraryHandlers(service)
    reader, editor = SimpleNamespace(username="paul"), SimpleNamespace(username="marie")
    assert handlers.delete("onpe-assises-nationales-protection-enfance.txt", True, reader)[0] == EDITORS_ONLY
    assert handlers.add(["/etc/passwd"], reader)[0] == EDITORS_ONLY
    assert (onpe_settings.corpus / "onpe-assises-nationales-protection-enfance.txt").exists()
    assert service.may("marie", "editor") and not service.may("paul", "editor") and not service.may("marie", "admin")
    assert "Choisissez" in handlers.add([], editor)[0]  # an editor gets past the role check
    from assistant.web.admin_tab import ADMINS_ONLY, AdminHandlers

    admin = AdminHandlers(service)
    assert admin.verify(editor) == ADMINS_ONLY
    assert admin.apply("Créer le groupe", "g", None, None, editor) == ADMINS_ONLY
    assert admin.refresh(reader)[:2] == ([], []) and service.groups.describe() == []
    assert admin.export("csv", reader) is None


def _login(url: str, name: str, password: str) -> tuple[int, list[str]]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    body = urllib.parse.urlencode({"username": name, "password": password})
    connection.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    return response.status, response.headers.get_all("set-cookie") or []


@pytest.mark.slow
def test_a_served_chat_with_accounts(tmp_path: Path, corpus_copy: Path) -> None:
    data = tmp_path / "data"
    accounts = Accounts(data)
    accounts.add("paul", "reader", PASSWORD)
    accounts.add("marie", "editor", PASSWORD)
    env = {"ASSISTANT_DATA": str(data)}
    with running_server(corpus_copy, tmp_path / "index", "--no-llm", env=env) as url:
        with pytest.raises(Exception):  # noqa: B017 (whatever gradio_client raises: no way in without a login)
            Client(url, verbose=False).predict("Qui organise les Assises ?", None, "extractive", api_name="/ask")
        answer = Client(url, auth=("paul", PASSWORD), verbose=False).predict(
            "Qui organise les Assises ?", None, "extractive", api_name="/ask"
        )
        assert not answer["abstained"]
        with browser_page() as page:  # a reader signs in: no library changes, no reindex
            sign_in(page, url, "paul", PASSWORD)
            page.wait_for_selector("#reindex", state="hidden", timeout=15_000)  # once the page has loaded its role
            page.get_by_role("tab", name="Documents").click()
            page.wait_for_selector("#library-table")
            assert not page.locator("#add-documents").is_visible() and not page.locator("#delete-document").is_visible()
            assert not page.locator("#upload-hint").is_visible()  # nor the line inviting to add files
        status, cookies = _login(url, "marie", PASSWORD)
        assert status == 200 and cookies and all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
        statuses = [_login(url, "marie", f"faux {i}")[0] for i in range(100)]
        assert statuses[:5] == [400] * 5 and statuses.count(429) > 80  # the address is slowed down
        for _ in range(60):  # afterwards (a pause of seconds), the right password works
            if _login(url, "marie", PASSWORD)[0] == 200:
                break
            time.sleep(1)
        else:
            pytest.fail("the right password never worked again")


def test_roles_of_removed_accounts_visitors_and_the_auth_pair(tmp_path: Path) -> None:
    from assistant.web.login import role_of

    accounts = Accounts(tmp_path)
    assert role_of(accounts, None) == "admin"  # no accounts at all: as before accounts existed
    accounts.add("bob", "editor", PASSWORD)
    accounts.add("ann", "reader", PASSWORD)
    assert role_of(accounts, "bob") == "editor" and role_of(accounts, "ann") == "reader"
    accounts.remove("bob")
    assert role_of(accounts, "bob") == "reader"  # signed in before the removal: never more than a reader
    assert role_of(accounts, None) == "reader"  # not signed in while accounts exist (added after the start)
    assert role_of(accounts, "josé", single="josé") == "admin"
    check = authenticator(accounts, ("josé", "mot de passé"), Limiter())
    assert check("josé", "mot de passé") and not check("josé", "mot de passe")  # non-ASCII compared, no error
