"""What several test modules share: the repository's paths, the CLI as a subprocess, a real
``assistant serve`` on a free loopback port, Debian's chromium driven by Playwright, a claim checker over
passages written in the test.

Also used by ``docs/make_screenshots.py``. Fixtures live in ``conftest.py`` (the repository's root
one holds those the docstring examples use too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.answering.grounding import Grounder
from assistant.config import Settings
from assistant.ingest.chunks import Chunk

if TYPE_CHECKING:
    from assistant.answering.claims import Checked
    from assistant.answering.extractive import ExtractiveAnswerer

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def run(
    args: list[str], settings: Settings | None = None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m assistant ARGS`` on ``settings``' corpus and index; never a traceback on its output."""
    env = dict(os.environ) | (env or {})
    if settings:
        env |= {"ASSISTANT_CORPUS": str(settings.corpus), "ASSISTANT_INDEX": str(settings.index_dir)}
    command = [sys.executable, "-m", "assistant", *args]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert "Traceback" not in result.stderr + result.stdout
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chromium_path() -> str:
    """Debian's chromium (``make setup-dev`` installs it with apt-get when missing)."""
    for candidate in (*CHROMIUM_CANDIDATES, shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("chromium is not installed: run `apt-get install chromium` (make setup-dev does)")


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    """Poll ``url`` until it answers; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server at {url} did not start (exit {process.poll()})") from None
            time.sleep(0.5)


@contextlib.contextmanager
def serving(
    command: list[str], ready_url: str, log: Path | None = None, env: dict[str, str] | None = None,
    timeout_s: float = 300,
) -> Iterator[subprocess.Popen[bytes]]:  # fmt: skip
    """Run a server process until ``ready_url`` answers; terminate it (kill if it hangs) afterwards."""
    out = log.open("wb") if log else None
    process = subprocess.Popen(
        command, env=dict(os.environ) | (env or {}), stdout=out or subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        wait_for_http(ready_url, process, timeout_s)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        if out:
            out.close()


@contextlib.contextmanager
def running_server(
    corpus: Path, index: Path, *args: str, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start ``assistant serve`` and yield its URL once it answers; stop it afterwards."""
    port = free_port()
    env = (env or {}) | {"ASSISTANT_CORPUS": str(corpus), "ASSISTANT_INDEX": str(index)}
    command = [sys.executable, "-m", "assistant", "serve", "--port", str(port), *args]
    url = f"http://127.0.0.1:{port}/"
    with serving(command, url, log or index.parent / "serve.log", env):
        yield url


@contextlib.contextmanager
def browser_page(viewport: tuple[int, int] = (1400, 1000)) -> Iterator[Any]:
    """A Playwright page in headless Debian chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        finally:
            browser.close()


def sign_in(page: Any, url: str, name: str, password: str) -> None:
    """Open the chat at ``url`` and sign in on Gradio's login page."""
    page.goto(url)
    page.fill("input[type=text]", name)
    page.fill("input[type=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_selector("#question textarea", timeout=60_000)


# True once the page's load events filled the index line (and with it the picker and the library).
LOADED = "() => document.querySelector('#index-status').innerText.includes('passages')"


# True once the sources panel changed and the send button is back: the answer is final (not the quotes shown
# while the model writes).
ANSWERED = """(before) => {
  const s = document.querySelector('.sources'), send = document.querySelector('#send');
  return s && s.innerHTML !== before && send && send.offsetParent !== null;
}"""


def ask(page: Any, question: str, timeout_s: float = 180) -> None:
    """Type a question, send it, and wait until its answer is final."""
    before = page.locator(".sources").first.inner_html()
    page.fill("#question textarea", question)
    page.click("#send")
    page.wait_for_function(ANSWERED, arg=before, timeout=timeout_s * 1000)


def grounder_over(answerer: ExtractiveAnswerer, *texts: str) -> Grounder:
    """A claim checker over ``texts``, one passage each, with the index's embedder (every term counts as known)."""
    chunks, start = [], 0
    for n, text in enumerate(texts):
        chunks.append(Chunk(f"c{n}", "fiche.txt", "Fiche", "", start, start + len(text), text))
        start += len(text) + 2
    return Grounder(chunks, answerer.engine.embeddings, lambda terms: terms)


def dropped(checked: Checked) -> bool:
    """The answer's one claim is unsupported and no passage is used."""
    return checked.used == [] and checked.claims[0]["status"] == "unsupported"
