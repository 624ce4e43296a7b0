"""Folders readable by group: the rules, the CLI, and what a user outside a group never sees — no passage,
title, file name or count — in answers, sources, the library, the index line, the reindex summary, error messages,
the ``/ask`` and ``/search`` API and MCP."""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from assistant.answering.conversation import Question
from assistant.errors import QuestionError, UsageError
from assistant.indexing.sync import sync
from assistant.team.conversations import REMOVED
from assistant.team.groups import Groups
from assistant.team.users import Accounts
from assistant.web.app import build_app
from assistant.web.service import ChatService
from tests.helpers import browser_page, run, running_server, sign_in
from tests.team.test_mcp import _session

PASSWORD = "un mot de passe solide"
SECRET_TITLE = "Protocole Zéphyr"
SECRET = (
    f"{SECRET_TITLE}\n\nLe protocole Zéphyr prévoit une réunion mensuelle des équipes de la cellule de recueil "
    "des informations préoccupantes et un bilan annuel présenté au conseil départemental.\n"
)
QUESTION = "Que prévoit le protocole Zéphyr pour la cellule de recueil ?"


def test_restricted_folders_and_nested_grants(tmp_path: Path) -> None:
    groups, documents = Groups(tmp_path), ["a.txt", "x/b.txt", "x/y/c.txt", "xy/d.txt"]
    for name in ("marie", "paul"):
        Accounts(tmp_path).add(name, "reader", PASSWORD)
    assert groups.readable("paul", documents) == set(documents) and not groups.restricted()
    groups.add("g1")
    groups.add("g2")
    groups.grant("g1", "/x/")
    groups.grant("g2", "x/y")
    groups.join("marie", "g1")
    assert groups.readable("paul", documents) == {"a.txt", "xy/d.txt"}  # "xy" is not under "x"
    assert groups.readable("marie", documents) == {"a.txt", "x/b.txt", "xy/d.txt"}  # x/y also needs g2
    groups.join("marie", "g2")
    assert groups.readable("marie", documents) == set(documents)
    groups.remove("g1")  # x/ is open again; x/y still g2's
    assert groups.readable("paul", documents) == {"a.txt", "x/b.txt", "xy/d.txt"}
    groups.grant("g2", "a.txt")  # a single file granted is restricted too
    assert "a.txt" not in groups.readable("paul", documents) and "a.txt" in groups.readable("marie", documents)
    for bad in (lambda: groups.add("g 2"), lambda: groups.add("g2"), lambda: groups.grant("g2", "../etc"),
                lambda: groups.join("paul", "absent"), lambda: groups.join("", "g2"),
                lambda: groups.join("nobody", "g2")):  # fmt: skip
        with pytest.raises(UsageError):
            bad()


def test_groups_command_line(tmp_path: Path) -> None:
    env = {"ASSISTANT_DATA": str(tmp_path / "data")}
    run(["users", "add", "marie", "--password-stdin"], stdin=PASSWORD + "\n", env=env)
    assert run(["groups", "add", "juristes"], env=env).returncode == 0
    assert run(["groups", "grant", "juristes", "confidentiel"], env=env).returncode == 0
    assert run(["groups", "join", "marie", "juristes"], env=env).returncode == 0
    nobody = run(["groups", "join", "personne", "juristes"], env=env)
    assert nobody.returncode == 2 and "no user named 'personne'" in nobody.stderr
    listed = run(["groups", "list"], env=env).stdout
    assert listed.strip() == "juristes\tfolders: confidentiel\tmembers: marie"
    run(["users", "remove", "marie"], env=env)
    assert "members: -" in run(["groups", "list"], env=env).stdout


def _team(data: Path) -> None:
    accounts, groups = Accounts(data), Groups(data)
    accounts.add("marie", "editor", PASSWORD)
    accounts.add("paul", "editor", PASSWORD)  # an editor too: the library must hide the folder all the same
    accounts.add("admin", "admin", PASSWORD)
    groups.add("juristes")
    groups.grant("juristes", "confidentiel")
    groups.join("marie", "juristes")


@pytest.fixture
def restricted(corpus_copy: Path) -> Path:
    (corpus_copy / "confidentiel").mkdir()
    (corpus_copy / "confidentiel" / "zephyr.txt").write_text(SECRET, encoding="utf-8")
    (corpus_copy / "confidentiel" / "cassé.pdf").write_bytes(b"%PDF-1.4 broken")  # left out: its name is secret too
    return corpus_copy


def _hidden(text: str) -> bool:
    return all(word not in text for word in ("zephyr", "Zéphyr", "confidentiel", "cassé"))


def test_what_a_user_outside_the_group_never_sees(make_settings: Any, restricted: Path, tmp_path: Path) -> None:
    settings = make_settings(restricted, data_dir=tmp_path / "data")
    _team(settings.data_dir)
    sync(settings, progress=False)
    service = ChatService(settings, load_llm=False)
    asked = Question.parse(QUESTION)
    theirs = service.answer(replace(asked, readable=service.readable("marie")), "extractive")
    assert any(c.source == "confidentiel/zephyr.txt" for c in theirs.citations)
    mine = service.answer(replace(asked, readable=service.readable("paul")), "extractive")
    assert all(c.source != "confidentiel/zephyr.txt" for c in mine.citations)
    # A word only the hidden folder uses is, for paul, a word the documents do not mention, as any other.
    assert "Zéphyr" in mine.missing and mine.abstained
    assert _hidden(json.dumps([c.as_json() for c in mine.citations], ensure_ascii=False))
    assert _hidden(str(service.library_rows(user="paul"))) and not _hidden(str(service.library_rows(user="marie")))
    assert _hidden(str(service.document_choices("paul"))) and not _hidden(str(service.document_choices("admin")))
    assert service.index_status("paul").startswith("Index : 2 documents")
    assert service.index_status("marie").startswith("Index : 3 documents")
    assert service.index_status("paul") != service.index_status("marie")
    refused = {}
    for name in ("confidentiel/zephyr.txt", "absent/rien.txt"):
        with pytest.raises(UsageError) as err:
            service.download(name, "paul")
        refused[name] = str(err.value).replace(name, "NAME")
    assert refused["confidentiel/zephyr.txt"] == refused["absent/rien.txt"]  # the same as a file that is not there
    assert service.download("confidentiel/zephyr.txt", "marie").read_text(encoding="utf-8") == SECRET
    assert "not a document" in service.delete("confidentiel/zephyr.txt", user="paul")
    assert (restricted / "confidentiel" / "zephyr.txt").exists()
    errors = {}
    for pattern in ("confidentiel", "absent"):
        with pytest.raises(QuestionError) as err:
            service.engine.search(QUESTION, sources=(pattern,), readable=service.readable("paul"))
        errors[pattern] = str(err.value).replace(pattern, "PATTERN")
    assert errors["confidentiel"] == errors["absent"]
    cited = service.save_turn("marie", None, theirs, QUESTION, [])
    assert cited is not None and service.reopen("marie", cited, "marie")[0][1] == {}
    Groups(settings.data_dir).leave("marie", "juristes")  # no longer in the group: the document is gone for her
    assert set(service.reopen("marie", cited, "marie")[0][1].values()) == {REMOVED}
    summary = service.reindex(user="paul")
    assert _hidden(summary) and "passages" not in summary
    assert "cassé.pdf" in service.reindex(user="admin")
    # The page as first sent names no document at all: a folder restricted after the server started cannot
    # be in it (here, everything is open while it is built).
    Groups(settings.data_dir).remove("juristes")
    assert _hidden(json.dumps(build_app(service).config, default=str))


@pytest.mark.slow
def test_api_mcp_and_page_respect_the_groups(restricted: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    _team(data)
    env = {"ASSISTANT_DATA": str(data)}
    with running_server(restricted, tmp_path / "index", "--no-llm", "--mcp", env=env) as url:
        clients = {name: Client(url, auth=(name, PASSWORD), verbose=False) for name in ("paul", "marie")}
        answers = {name: c.predict(QUESTION, None, "extractive", api_name="/ask") for name, c in clients.items()}
        found = {name: c.predict(QUESTION, None, 5, api_name="/search") for name, c in clients.items()}
        assert _hidden(json.dumps(answers["paul"]["citations"] + found["paul"]["passages"], ensure_ascii=False))
        assert _hidden(json.dumps(clients["paul"].config, ensure_ascii=False))  # the page as first sent
        assert any(p["source"] == "confidentiel/zephyr.txt" for p in found["marie"]["passages"])
        assert any(c["source"] == "confidentiel/zephyr.txt" for c in answers["marie"]["citations"])
        mcp = {}
        for name in ("paul", "marie"):
            basic = base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()
            calls = [("search", {"question": QUESTION, "k": 5})]
            mcp[name] = asyncio.run(_session(url, {"Authorization": f"Basic {basic}"}, calls))["results"][0]
        assert _hidden(json.dumps(mcp["paul"]["passages"], ensure_ascii=False))
        assert any(p["source"] == "confidentiel/zephyr.txt" for p in mcp["marie"]["passages"])
        with browser_page() as page:
            sign_in(page, url, "paul", PASSWORD)
            page.wait_for_function("() => document.querySelector('#index-status').innerText.includes('2 documents')",
                                   timeout=15_000)  # fmt: skip
            page.get_by_role("tab", name="Documents").click()
            page.wait_for_selector("#library-table")
            page.wait_for_timeout(1000)
            assert _hidden(page.content())
            assert page.get_by_role("tab", name="Administration").count() == 0
        with browser_page() as page:  # the admin: the audit log and the groups, in the page
            sign_in(page, url, "admin", PASSWORD)
            page.get_by_role("tab", name="Administration").click()
            page.wait_for_function("() => document.querySelector('#audit-table').innerText.includes('paul')",
                                   timeout=15_000)  # fmt: skip
            assert "Zéphyr" in page.locator("#audit-table").inner_text()
            page.click("#audit-verify")
            page.wait_for_function("() => document.querySelector('#audit-status').innerText.includes('intacte')",
                                   timeout=15_000)  # fmt: skip
            with page.expect_download() as exported:
                page.click("#audit-csv")
                page.locator("#audit-file a").first.click()
            assert "Zéphyr" in Path(exported.value.path()).read_text(encoding="utf-8")
            page.fill("#group-name textarea", "lecteurs")
            page.click("#group-apply")  # the default action: create the group
            page.wait_for_function("() => document.querySelector('#groups-table').innerText.includes('lecteurs')",
                                   timeout=15_000)  # fmt: skip
    assert "lecteurs" in [name for name, _, _ in Groups(data).describe()]


def test_an_mcp_caller_is_an_account_only_with_its_password(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from assistant.web.api import account_of

    accounts = Accounts(tmp_path)
    accounts.add("marie", "reader", PASSWORD)

    def request(credentials: str, path: str = "/gradio_api/mcp/") -> Any:
        basic = base64.b64encode(credentials.encode()).decode()
        headers = {"authorization": f"Basic {basic}"}
        return SimpleNamespace(username=None, headers=headers, url=SimpleNamespace(path=path))

    assert account_of(request(f"marie:{PASSWORD}"), accounts) == "marie"
    assert account_of(request("marie:wrong"), accounts) is None
    assert account_of(request(f"marie:{PASSWORD}", "/gradio_api/queue/join"), accounts) is None  # MCP only
    assert account_of(request(f"marie:{PASSWORD}")) is None  # nothing to check against
