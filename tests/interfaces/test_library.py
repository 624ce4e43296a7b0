"""The document library: uploads, deletions and downloads through the chat service (real embedder, real Chroma
store on disk), every hostile case the issue lists, and the « Documents » tab driven in Debian's chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.answering.conversation import Question
from assistant.config import Settings
from assistant.errors import UsageError
from assistant.web import library
from assistant.web.pages import page_html
from assistant.web.render import reason_in_french, viewer_html
from assistant.web.service import ChatService
from tests.helpers import ask, browser_page, running_server
from tests.ingest import files

MakeSettings = Callable[..., Settings]
NOTE = "Protocole Zéphyr\n\nLe protocole Zéphyr prévoit une réunion mensuelle des équipes de protection.\n"


@pytest.fixture
def service(corpus_copy: Path, make_settings: MakeSettings) -> ChatService:
    from assistant.indexing.sync import sync

    settings = make_settings(corpus_copy)
    sync(settings, progress=False)
    return ChatService(settings, load_llm=False)


def _upload(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = tmp_path / f"browser-{time.monotonic_ns()}"
    folder.mkdir()
    (folder / name).write_bytes(data)
    return folder / name


def test_an_upload_is_indexed_and_a_disguised_file_is_listed_with_its_reason(
    service: ChatService, tmp_path: Path
) -> None:
    files.docx(tmp_path / "partenaires.docx")
    uploads = [
        tmp_path / "partenaires.docx",
        _upload(tmp_path, "page.docx", b"<html><body>pas un document Word</body></html>"),
        _upload(tmp_path, "outil.exe", b"MZ\x90\x00"),
        _upload(tmp_path, ".txt", b"un fichier sans nom"),  # Gradio's type check left the tab in error
    ]
    summary = service.upload(uploads)
    assert "Ajouté(s) : partenaires.docx, page.docx." in summary and "outil.exe : type .exe non accepté" in summary
    assert "- refusé : txt : type" in summary  # a file named ".txt": refused alone, with its reason
    assert not (service.settings.corpus / "outil.exe").exists()
    table = {row[1]: row for row in service.library_rows()}
    assert table["partenaires.docx"][0] == "Partenaires de l’observatoire" and table["partenaires.docx"][4] >= 1
    assert table["page.docx"][6] == "ignoré : fichier DOCX non valide (pas une archive zip)", table["page.docx"]
    answer = service.answer(Question.parse("Depuis quand l’observatoire est-il membre d’EUSARF ?"), "extractive")
    assert "2012" in answer.answer and "partenaires.docx" in {c.source for c in answer.citations}


def test_hostile_names_sizes_and_a_read_only_library(service: ChatService, tmp_path: Path) -> None:
    corpus = service.settings.corpus
    note = _upload(tmp_path, "note.txt", NOTE.encode())
    assert library.store_upload(corpus, note, "../../etc/passwd.docx.txt", 10**6) == "passwd.docx.txt"
    assert (corpus / "passwd.docx.txt").is_file() and not (tmp_path / "etc").exists()
    assert library.store_upload(corpus, note, "..\\..\\<script>x.txt", 10**6) == "_script_x.txt"
    with pytest.raises(UsageError, match="nom de fichier inutilisable"):
        library.store_upload(corpus, note, "../../.", 10**6)
    with pytest.raises(UsageError, match="plus que les"):
        library.store_upload(corpus, note, "note.txt", 10)
    assert not list(corpus.glob(".upload-*"))  # no half-written file left behind
    read_only = ChatService(service.settings.with_(read_only_library=True), load_llm=False)
    assert "lecture seule" in read_only.upload([note]) and "lecture seule" in read_only.delete("note.txt")


def test_two_uploads_of_one_name_at_once_keep_both(service: ChatService, tmp_path: Path) -> None:
    first, second = _upload(tmp_path, "agenda.txt", b"Version A.\n"), _upload(tmp_path, "agenda.txt", b"Version B.\n")
    names: list[str] = []
    threads = [threading.Thread(target=lambda p=p: names.append(
        library.store_upload(service.settings.corpus, p, "agenda.txt", 10**6))) for p in (first, second)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(names) == ["agenda (2).txt", "agenda.txt"]
    texts = {(service.settings.corpus / n).read_text(encoding="utf-8") for n in names}
    assert texts == {"Version A.\n", "Version B.\n"}


def test_an_upload_during_a_reindex_waits_and_is_indexed(service: ChatService, tmp_path: Path) -> None:
    service._reindex_lock.acquire()  # a reindex (the « Réindexer » button) is running
    threading.Timer(2.0, service._reindex_lock.release).start()
    start = time.monotonic()
    summary = service.upload([_upload(tmp_path, "zephyr.txt", NOTE.encode())])
    assert time.monotonic() - start >= 1.9 and "1 ajouté(s)" in summary
    assert "zephyr.txt" in service.engine.snapshot.documents


def test_deleting_a_document_its_answer_cites(service: ChatService, tmp_path: Path) -> None:
    service.upload([_upload(tmp_path, "zephyr.txt", NOTE.encode())])
    answer = service.answer(Question.parse("Que prévoit le protocole Zéphyr ?"), "extractive")
    assert answer.citations and answer.citations[0].source == "zephyr.txt"
    copy = service.download("zephyr.txt")
    assert copy.read_text(encoding="utf-8") == NOTE and service.settings.corpus not in copy.parents
    summary = service.delete("zephyr.txt")
    assert "Supprimé : zephyr.txt." in summary and "1 supprimé(s)" in summary
    assert not (service.settings.corpus / "zephyr.txt").exists()
    documents = service.engine.snapshot.documents
    assert "zephyr.txt" not in documents
    # The earlier answer still shows, from its own citation text; nothing is read from the deleted file.
    viewer = viewer_html([(0, answer)], documents, lambda c: page_html(service.settings.corpus, documents, c))
    assert "réunion mensuelle" in viewer
    with pytest.raises(UsageError, match="not a document of the corpus"):
        service.download("zephyr.txt")
    with pytest.raises(UsageError, match="not a document of the corpus"):
        service.download("../index/CURRENT")
    assert "not a document" in service.delete("../../etc/passwd")


@pytest.mark.slow
def test_browser_documents_tab_uploads_downloads_and_deletes(corpus_copy: Path, tmp_path: Path) -> None:
    files.paged_pdf(tmp_path / "rapport.pdf")
    with running_server(corpus_copy, tmp_path / "index", "--no-llm") as url, browser_page() as page:
        page.goto(url)
        page.get_by_role("tab", name="Documents").click()
        # A file named ".txt" beside it: Gradio's own type check refused the batch and left the tab in error.
        (tmp_path / "nameless").mkdir()
        (tmp_path / "nameless" / ".txt").write_text("sans nom", encoding="utf-8")
        page.set_input_files(
            "#upload input[type=file]", [str(tmp_path / "rapport.pdf"), str(tmp_path / "nameless" / ".txt")]
        )
        page.wait_for_timeout(1000)
        page.click("#add-documents")
        page.wait_for_function("() => document.querySelector('#library-status').innerText.includes('Ajouté')",
                               timeout=120_000)  # fmt: skip
        assert "non accepté" in page.locator("#library-status").inner_text()
        assert "Rapport annuel 2024" in page.locator("#library-table").inner_text()
        # Every column fits the window (the state column was off to the right at 1400 px).
        right = page.evaluate(
            "() => document.querySelector('#library-table th:last-child').getBoundingClientRect().right"
        )
        assert right <= page.evaluate("() => document.documentElement.clientWidth")
        # The new document answers, its citation names the page, and the viewer shows that page, quote marked.
        page.get_by_role("tab", name="Conversation").click()
        page.check("#mode input[value='extractive']")
        ask(page, "Qui publie la revue Child Abuse and Neglect ?")
        assert "ISPCAN" in page.locator("#chat .bot").last.inner_text()
        assert "rapport.pdf · p. 4" in page.locator("#sources").inner_text()
        page.locator("#sources .source", has_text="rapport.pdf").locator("a.cite").first.click()
        shown = page.locator(".doc-view:not([hidden])")
        assert shown.locator("img.page-image").is_visible()
        assert "Page originale, p. 4" in shown.locator("figcaption").inner_text()
        assert "non retrouvé" not in shown.locator("figcaption").inner_text()
        # The conversation exported as Markdown: the question, the answer, its note with the page.
        page.click("#export-md")
        page.wait_for_selector("#exported a", timeout=30_000)
        with page.expect_download() as exported:
            page.locator("#exported a").first.click()
        text = Path(exported.value.path()).read_text(encoding="utf-8")
        assert "## Qui publie la revue Child Abuse and Neglect ?" in text and "p. 4 \\(rapport.pdf, indexé le" in text
        page.get_by_role("tab", name="Documents").click()
        page.click("#library-document input")
        page.keyboard.type("rapport.pdf")
        page.keyboard.press("Enter")
        with page.expect_download() as download:
            page.wait_for_timeout(1000)
            page.click("#download")
        assert Path(download.value.path()).read_bytes() == (tmp_path / "rapport.pdf").read_bytes()
        page.click("#delete-document")  # not confirmed: nothing happens but a notice
        page.wait_for_function("() => document.querySelector('#library-status').innerText.includes('Cochez')")
        assert (corpus_copy / "rapport.pdf").exists()
        page.check("#confirm-delete input")
        page.click("#delete-document")
        page.wait_for_function("() => document.querySelector('#library-status').innerText.includes('Supprimé')",
                               timeout=120_000)  # fmt: skip
        assert "rapport.pdf" not in page.locator("#library-table").inner_text()
        assert not (corpus_copy / "rapport.pdf").exists()


def test_left_out_files_are_never_downloaded_and_a_link_is_removed_not_its_target(
    service: ChatService, tmp_path: Path
) -> None:
    corpus = service.settings.corpus
    (corpus / "id_rsa").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    (corpus / "rapports").mkdir()
    (corpus / "rapports" / "2024.md").write_text("# Bilan\n\nLe bilan 2024 est publié.", encoding="utf-8")
    (corpus / "dernier.md").symlink_to(corpus / "rapports" / "2024.md")
    service.reindex(wait=True)
    assert "id_rsa" not in {row[1] for row in service.library_rows(skipped=False)}
    with pytest.raises(UsageError, match="not a document of the corpus"):
        service.download("id_rsa")
    assert "Supprimé" in service.delete("dernier.md")
    assert not (corpus / "dernier.md").exists() and (corpus / "rapports" / "2024.md").is_file()
    assert "Supprimé" in service.delete("id_rsa")  # an editor may still remove a left-out file
    (corpus / "[vide](javascript:x).txt").write_text("", encoding="utf-8")
    summary = service.reindex(wait=True)
    assert "\\[vide\\]\\(javascript:x\\).txt" in summary  # file names are shown as text, not as Markdown links


@pytest.mark.parametrize(
    ("reason", "french"),
    [
        ("empty file", "fichier vide"),
        ("binary content, not text", "contenu binaire, pas du texte"),
        ("undecodable text (invalid UTF-16)", "texte illisible (UTF-16 invalide)"),
        ("encrypted PDF (a password is needed to read it)", "PDF chiffré (il faut un mot de passe pour le lire)"),
        ("unsupported file type (.exe)", "type de fichier non pris en charge (.exe)"),
        ("unsupported file type (no extension)", "type de fichier non pris en charge (sans extension)"),
        (
            "too large (12.5 MB > 10 MB; raise ASSISTANT_MAX_FILE_MB to index it)",
            "trop volumineux (12.5 Mo > 10 Mo ; augmentez ASSISTANT_MAX_FILE_MB pour l’indexer)",
        ),
        (
            "refused: this DOCX would unpack to 900 MB (a zip bomb?)",
            "refusé : ce DOCX occuperait 900 Mo une fois décompressé (bombe zip ?)",
        ),
        ("unreadable PPTX (KeyError)", "PPTX illisible (KeyError)"),
        ("unreadable (Is a directory)", "illisible (Is a directory)"),
        ("empty file; binary content, not text", "fichier vide ; contenu binaire, pas du texte"),
        ("a message nobody translated", "a message nobody translated"),
    ],
)
def test_why_a_file_was_left_out_is_said_in_french(reason: str, french: str) -> None:
    """The ingest layer's reasons (CLI and JSON, in English) are said in French in the library and the reindex
    summary; one not in the table stays as it is rather than vanish."""
    assert reason_in_french(reason) == french
