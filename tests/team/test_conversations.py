"""Saved conversations: per user in SQLite, reopened as answered with changed citations flagged, renamed,
deleted, exported from the CLI; 1,000 turns, 20 users writing at once, a damaged file set aside; and in a real
served chat, in chromium, with two accounts."""

from __future__ import annotations

import io
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docx as python_docx
import pytest

from assistant.answering.conversation import Question
from assistant.errors import UsageError
from assistant.indexing.sync import sync
from assistant.team.conversations import CHANGED, MOVED, REMOVED, Conversations, Saved, changes
from assistant.team.users import Accounts
from assistant.web.saved import messages_of
from assistant.web.service import ChatService
from assistant.web.state import ChatState
from tests.helpers import ask, browser_page, run, running_server, sign_in
from tests.team.test_exports import cited_answer

HOSTILE = "'; DROP TABLE conversations; -- <script>window.__xss=1</script> **gras**"
PASSWORD = "un mot de passe solide"


def test_each_user_sees_only_their_own_conversations(tmp_path: Path) -> None:
    store = Conversations(tmp_path)
    hers = store.save("marie", None, cited_answer(), Saved(HOSTILE))
    assert store.save("marie", hers, cited_answer(), Saved("Et ensuite ?")) == hers
    his = store.save("paul", hers, cited_answer(), Saved("Une autre"))  # her id given by him: a new one of his
    assert his != hers and [s.title for s in store.recent("paul")] == ["Une autre"]
    assert [s.title for s in store.recent("marie")] == [HOSTILE]  # stored as text, the SQL never run
    for action in (lambda: store.turns("paul", hers), lambda: store.rename("paul", hers, "x"),
                   lambda: store.delete("paul", hers)):  # fmt: skip
        with pytest.raises(UsageError, match="no saved conversation"):
            action()
    assert len(store.turns("marie", hers)) == 2
    store.rename("marie", hers, "  Assises\n à Rennes ")
    assert store.title("marie", hers) == "Assises à Rennes"
    store.delete("marie", hers)
    assert store.recent("marie") == [] and len(store.recent("paul")) == 1
    store.forget("paul")  # his account removed: a new "paul" starts with nothing
    assert store.recent("paul") == []


def test_a_reopened_answer_is_the_answer_given(tmp_path: Path) -> None:
    store, answer = Conversations(tmp_path), cited_answer()
    answer.confidence, answer.claims = 0.81, [{"text": "t", "status": "partial", "citations": [1]}]
    conversation = store.save("marie", None, answer, Saved("Où ?", ["Avant ?"], "snap-1", "extractive", {"a": "h"}))
    turn = store.turns("marie", conversation)[0]
    assert turn.answer.as_json() == answer.as_json()
    assert (turn.saved.history, turn.saved.snapshot, turn.saved.hashes) == (["Avant ?"], "snap-1", {"a": "h"})


def test_changed_and_removed_documents_are_flagged(tmp_path: Path) -> None:
    store, answer = Conversations(tmp_path), cited_answer()
    source = answer.citations[0].source
    turn = store.turns("m", store.save("m", None, answer, Saved("Où ?", hashes={source: "h1"})))[0]
    quoted = "Les Assises se tiennent à Rennes <b>en juin</b>."
    assert changes(turn, {source: {"hash": "h1"}}, {}) == {}
    assert changes(turn, {source: {"hash": "h2"}}, {source: "Autre texte."}) == {1: CHANGED}
    assert changes(turn, {source: {"hash": "h2"}}, {source: f"Ajout. {quoted}"}) == {1: MOVED}
    assert changes(turn, {}, {}) == {1: REMOVED}


def test_a_thousand_turns_reopen_in_order(tmp_path: Path) -> None:
    store = Conversations(tmp_path)
    conversation = None
    for i in range(1000):
        conversation = store.save("marie", conversation, cited_answer(), Saved(f"Question {i}"))
    assert conversation is not None
    turns = store.turns("marie", conversation)
    assert [t.saved.question for t in turns] == [f"Question {i}" for i in range(1000)]
    state = ChatState()
    messages = messages_of([(t, {}) for t in turns], state)
    assert len(messages) == 2000 and sorted(state.answers)[-1] == 1999
    assert messages[-2]["content"] == "Question 999" and "#cite-1999-1" in messages[-1]["content"]


def test_twenty_users_writing_at_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def write(user: str) -> None:
        try:
            store, conversation = Conversations(tmp_path), None  # one store each: separate connections
            for i in range(15):
                conversation = store.save(user, conversation, cited_answer(), Saved(f"{user} {i}"))
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(f"user{u}",)) for u in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = Conversations(tmp_path)
    for u in range(20):
        (summary,) = store.recent(f"user{u}")
        assert [t.saved.question for t in store.turns(f"user{u}", summary.id)] == [f"user{u} {i}" for i in range(15)]


def test_a_damaged_file_is_set_aside_and_a_new_one_begun(tmp_path: Path) -> None:
    store = Conversations(tmp_path)
    store.save("marie", None, cited_answer(), Saved("Avant"))
    store.path.write_bytes(b"\x00garbage, not SQLite\x00" * 200)
    damaged = store.path.read_bytes()
    assert store.recent("marie") == []  # read from the new file
    assert store.notice and "mis de côté" in store.notice
    (aside,) = tmp_path.glob("conversations.sqlite3.damaged-*")
    assert aside.read_bytes() == damaged  # kept, byte for byte
    store.save("marie", None, cited_answer(), Saved("Après"))
    assert [s.title for s in store.recent("marie")] == ["Après"]
    assert sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_service_saves_answers_and_flags_an_edited_document(make_settings: Any, corpus_copy: Path,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    settings = make_settings(corpus_copy, data_dir=tmp_path / "data")
    sync(settings, progress=False)
    service = ChatService(settings, load_llm=False)
    answer = service.answer(Question.parse("Qui organise les Assises ?"), "extractive")
    conversation = service.save_turn("marie", None, answer, "Qui organise les Assises ?", [])
    assert conversation is not None and service.reopen("marie", conversation)[0][1] == {}
    cited = corpus_copy / answer.citations[0].source
    c = answer.citations[0]
    quoted = c.text[c.quote_start - c.start : c.quote_end - c.start]
    cited.write_text(cited.read_text(encoding="utf-8").replace(quoted, "Phrase remplacée."), encoding="utf-8")
    service.reindex()
    ((_, flags),) = service.reopen("marie", conversation)
    assert flags and set(flags.values()) <= {CHANGED, MOVED} and CHANGED in flags.values()
    with pytest.raises(UsageError):
        service.reopen("paul", conversation)
    from assistant.web.handlers import Handlers
    from assistant.web.saved import SavedHandlers

    reopened = SavedHandlers(service).open(conversation, SimpleNamespace(username="marie"))
    assert "ce passage a changé" in reopened[0][1]["content"]
    exported = Path(str(Handlers(service).export(reopened[1], "md"))).read_text(encoding="utf-8")
    assert CHANGED in exported  # the chat's export button carries the flag too
    out = tmp_path / "conversation.docx"
    env = {"ASSISTANT_DATA": str(settings.data_dir)}
    listed = run(["conversations", "list", "--user", "marie"], settings, env=env)
    assert listed.returncode == 0 and listed.stdout.startswith(conversation)
    assert run(["export", conversation, "--format", "docx", "-o", str(out)], settings, env=env).returncode == 0
    texts = [p.text for p in python_docx.Document(io.BytesIO(out.read_bytes())).paragraphs]
    assert "Qui organise les Assises ?" in texts and any(CHANGED in t for t in texts)
    markdown = run(["export", conversation, "--format", "md"], settings, env=env).stdout
    assert markdown.startswith("# Qui organise les Assises ?") and "\\[1\\]" in markdown
    missing = run(["export", "nope", "--format", "md"], settings, env=env)
    assert missing.returncode == 2 and "no saved conversation" in missing.stderr


@pytest.mark.slow
def test_conversations_in_the_served_chat(tmp_path: Path, corpus_copy: Path) -> None:
    data = tmp_path / "data"
    accounts = Accounts(data)
    accounts.add("marie", "reader", PASSWORD)
    accounts.add("paul", "reader", PASSWORD)
    (data / "conversations.sqlite3").write_bytes(b"damaged " * 500)  # the chat must still answer
    with running_server(corpus_copy, tmp_path / "index", "--no-llm", env={"ASSISTANT_DATA": str(data)}) as url:
        with browser_page() as page:
            sign_in(page, url, "marie", PASSWORD)
            ask(page, HOSTILE + " Qui organise les Assises ?")
            saved = page.locator("#saved label")
            saved.first.wait_for(timeout=15_000)
            assert "mis de côté" in page.locator("#saved-status").inner_text()
            assert "DROP TABLE" in saved.first.inner_text()
            page.click("#new-conversation")
            page.wait_for_function("() => !document.querySelector('#chat').innerText.includes('Journal')")
            saved.first.click()
            page.wait_for_function("() => document.querySelector('#chat').innerText.includes('Journal')",
                                   timeout=15_000)  # fmt: skip
            assert page.evaluate("window.__xss") is None
            page.fill("#conversation-title textarea", "Les Assises <i>2026</i>")
            page.click("#rename-conversation")
            page.wait_for_function("() => document.querySelector('#saved').innerText.includes('<i>2026</i>')",
                                   timeout=15_000)  # fmt: skip
        with browser_page() as page:
            sign_in(page, url, "paul", PASSWORD)
            page.wait_for_timeout(2000)  # the list is filled when the page loads
            assert page.locator("#saved label").count() == 0
    assert list(data.glob("conversations.sqlite3.damaged-*"))
