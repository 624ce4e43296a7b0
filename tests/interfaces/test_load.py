"""Load: 50 users at once through gradio_client against a real ``assistant serve``, with a reindex mid-load.

Bounded (loopback only; each user asks 3 times, then on until the reindex commits or 240 s have passed;
every wait has a timeout; the users are daemon threads). The reindex is the
server's own (``--watch`` sees a new file), since an embedded Chroma store has one writing process.
Each answer under load must be the one given before the reindex or the one given after it: a
request sees one committed snapshot, never a half-written one.

Figures: ``make load`` shows them (``pytest -s``).
"""

from __future__ import annotations

import shutil
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gradio_client import Client

from assistant.evaluation.items import load_items
from tests.helpers import CORPUS, ROOT, running_server

pytestmark = pytest.mark.slow
USERS = 50
REQUESTS_PER_USER = 3
# Users go on asking, past their 3 requests, until the reindex has committed (or this many seconds): on a
# busy machine the watcher's reindex can outlast the 150 requests.
MAX_LOAD_SECONDS = 240
NEW_DOCUMENT = "Protocole Zéphyr\n\nLe protocole Zéphyr prévoit une réunion mensuelle des équipes de terrain.\n"


def _questions() -> list[str]:
    items = load_items(ROOT / "eval" / "questions.jsonl")
    return [i.question for i in items if i.facts and not i.history][:10]


def _ask(client: Client, question: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.predict(question, None, "extractive", api_name="/ask")
    return answer


def _add(path: Path) -> None:
    path.write_text(NEW_DOCUMENT, encoding="utf-8")


def _key(answer: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return answer.get("answer", ""), tuple(c["source"] for c in answer.get("citations", []))


def _load(
    url: str, questions: list[str], begin: Callable[[], None], done: Callable[[], bool]
) -> tuple[list[tuple[str, float, dict[str, Any]]], list[str], float, float]:
    """Every user connects, then ``begin()`` runs once and all ask at once, until ``done()`` after 3 requests."""
    results: list[tuple[str, float, dict[str, Any]]] = []
    errors: list[str] = []
    started: list[float] = []
    barrier = threading.Barrier(USERS, action=lambda: (started.append(time.time()), begin()))

    def user(n: int) -> None:
        try:
            client = Client(url, verbose=False)
            barrier.wait(timeout=120)
            r = 0
            while r < REQUESTS_PER_USER or (not done() and time.time() - started[0] < MAX_LOAD_SECONDS):
                question = questions[(n + r) % len(questions)]
                r += 1
                asked = time.perf_counter()
                answer = _ask(client, question)
                results.append((question, (time.perf_counter() - asked) * 1000, answer))
        except Exception as err:  # every failure is counted, none is hidden
            errors.append(f"user {n}: {err.__class__.__name__}: {err}")

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(USERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600 + MAX_LOAD_SECONDS)
    return results, errors, started[0] if started else time.time(), time.time()


def test_fifty_users_at_once_with_a_reindex_during_the_load(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    questions = _questions()
    with running_server(corpus, tmp_path / "index", "--no-llm", "--watch") as url:
        probe = Client(url, verbose=False)
        before = {q: _key(_ask(probe, q)) for q in questions}
        current = tmp_path / "index" / "CURRENT"
        committed = current.stat().st_mtime
        # Written as the load begins: the server's watcher reindexes while the users ask.
        results, errors, start, end = _load(
            url, questions, lambda: _add(corpus / "zephyr.txt"), lambda: current.stat().st_mtime != committed
        )
        reindexed = current.stat().st_mtime
        after = {q: _key(_ask(probe, q)) for q in questions}
        zephyr = _ask(probe, "Que prévoit le protocole Zéphyr ?")

    latencies = [ms for _, ms, _ in results]
    print(f"\n{len(results)} answers to {USERS} concurrent users, {len(errors)} errors; "
          f"p50 {statistics.median(latencies):.0f} ms, p95 {np.percentile(latencies, 95):.0f} ms, "
          f"wall {end - start:.1f} s; reindex committed {reindexed - start:.1f} s into the load")  # fmt: skip
    assert errors == [] and len(results) >= USERS * REQUESTS_PER_USER
    assert all("error" not in answer for _, _, answer in results)
    assert committed < reindexed and start < reindexed < end, "the reindex did not happen during the load"
    assert "mensuelle" in zephyr["answer"]
    wrong = [(q, a["answer"][:80]) for q, _, a in results if _key(a) not in (before[q], after[q])]
    assert wrong == []
