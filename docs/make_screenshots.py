"""Screenshots of the web chat's main states, taken with the browser harness of the tests.

    make screenshots      # or: .venv/bin/python docs/make_screenshots.py

Starts a real ``assistant serve`` on a copy of the corpus and drives Debian's chromium.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import LOADED, ask, browser_page, running_server  # noqa: E402
from tests.ingest import files  # noqa: E402

OUT = ROOT / "docs" / "screenshots"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ASSISTANT_DATA"] = str(Path(tmp) / "data")  # no earlier run's saved conversations
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        with running_server(corpus, Path(tmp) / "index") as url, browser_page((1400, 950)) as page:
            page.goto(url)
            page.wait_for_selector("#question textarea")
            page.wait_for_function(LOADED)
            page.screenshot(path=OUT / "1-accueil.png")
            ask(page, "Qu'est-ce que le réseau EuroCAN ?")
            page.wait_for_timeout(1000)  # the saved conversations' list catches up
            page.screenshot(path=OUT / "2-reponse-citations.png")
            links = page.locator('#chat a[href^="#cite-"]')
            (links.nth(1) if links.count() > 1 else links.first).click()
            page.locator(".doc-view:not([hidden]) mark.passage").scroll_into_view_if_needed()
            page.screenshot(path=OUT / "3-passage-dans-le-document.png")
            page.evaluate("window.scrollTo(0, 0)")
            ask(page, "Quelle est la météo à Brest demain ?")
            page.screenshot(path=OUT / "4-pas-dans-les-documents.png")
            _library_and_page_view(page, Path(tmp))
            _saved_and_admin(page)
    print(f"screenshots written to {OUT.relative_to(ROOT)}/")


def _library_and_page_view(page: Any, tmp: Path) -> None:
    """A PDF added from the « Documents » tab, then asked about: the cited page, quote highlighted."""
    files.paged_pdf(tmp / "rapport.pdf", extra_pages=6)
    page.get_by_role("tab", name="Documents").click()
    page.set_input_files("#upload input[type=file]", [str(tmp / "rapport.pdf")])
    page.wait_for_timeout(1000)
    page.click("#add-documents")
    page.wait_for_function(
        "() => document.querySelector('#library-status').innerText.includes('Ajouté')", timeout=120_000
    )
    page.screenshot(path=OUT / "5-bibliotheque.png")
    page.get_by_role("tab", name="Conversation").click()
    page.check("#mode input[value='extractive']")
    ask(page, "Qui publie la revue Child Abuse and Neglect ?")
    page.locator("#sources .source", has_text="rapport.pdf").locator("a.cite").first.click()
    page.locator(".doc-view:not([hidden]) img.page-image").scroll_into_view_if_needed()
    page.screenshot(path=OUT / "6-page-originale.png")


def _saved_and_admin(page: Any) -> None:
    """The first conversation reopened from the sidebar; the Administration tab (no accounts: everyone is admin)."""
    page.click("#new-conversation")
    page.locator("#saved label").last.click()
    page.wait_for_function("() => document.querySelector('#chat').innerText.includes('réseau EuroCAN')")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=OUT / "7-conversation-rouverte.png")
    page.get_by_role("tab", name="Administration").click()
    page.wait_for_function("() => document.querySelector('#audit-table').innerText.includes('Brest')")
    page.click("#audit-verify")
    page.wait_for_function("() => document.querySelector('#audit-status').innerText.includes('intacte')")
    page.screenshot(path=OUT / "8-administration.png")


if __name__ == "__main__":
    main()
