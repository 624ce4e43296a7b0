"""Loading and cleaning: formats, junk removal, and every kind of bad file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.ingest.cleaning import normalize
from assistant.ingest.corpus import load_corpus
from tests.helpers import CORPUS


def _load(root: Path) -> tuple[dict[str, object], dict[str, str]]:
    documents, skipped = load_corpus(root, max_file_mb=1)
    return {d.source: d for d in documents}, {s.source: s.reason for s in skipped}


def test_seed_pages_get_their_real_titles_and_lose_web_junk() -> None:
    docs, skipped = _load(CORPUS)
    assert skipped == {}
    titles = {d.title for d in docs.values()}  # type: ignore[attr-defined]
    assert titles == {
        "Les partenariats et réseaux internationaux",
        "Les Assises nationales de la protection de l'enfance",
    }
    for doc in docs.values():
        text = doc.text  # type: ignore[attr-defined]
        assert "[shortmenu" not in text and "menu_anchor_color" not in text
        assert "Accueil >" not in text
        assert "  " not in text and "\u00a0" not in text
        blocks = [doc.block_text(b) for b in doc.blocks]  # type: ignore[attr-defined]
        assert all(normalize(block) == block for block in blocks)


def test_blocks_locate_headings_paragraphs_and_items() -> None:
    docs, _ = _load(CORPUS)
    doc = docs["onpe-partenariats-et-reseaux-internationaux.txt"]
    kinds = {doc.block_text(b): b.kind for b in doc.blocks}  # type: ignore[attr-defined]
    assert kinds["À l'international"] == "heading"
    assert kinds["Dynamique de réseaux"] == "heading"
    assert kinds["La communauté scientifique"] == "item"
    assert any(k == "paragraph" and t.startswith("L’Observatoire est membre d’ESN") for t, k in kinds.items())


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(
        "<html><head><title>Ma page</title><style>p{color:red}</style><script>alert('x')</script></head>"
        "<body><nav>Accueil | Menu</nav><h1>Titre</h1><p>Texte <b>visible</b> ici.</p>"
        "<ul><li>un</li><li>deux</li></ul><img src=x onerror=alert(1)><!-- secret --></body></html>",
        encoding="utf-8",
    )
    docs, skipped = _load(tmp_path)
    doc = docs["page.html"]
    assert skipped == {}
    assert doc.title == "Ma page"  # type: ignore[attr-defined]
    assert doc.text == "Titre\n\nTexte visible ici.\n\nun\ndeux"  # type: ignore[attr-defined]


def test_markdown_headings_and_front_matter(tmp_path: Path) -> None:
    text = "---\ntitle: Note\n---\n# Partie\n\nUn paragraphe.\n\n- a\n- b\n"
    (tmp_path / "note.md").write_text(text, encoding="utf-8")
    docs, _ = _load(tmp_path)
    doc = docs["note.md"]
    assert doc.title == "Note"  # type: ignore[attr-defined]
    assert [b.kind for b in doc.blocks] == ["heading", "paragraph", "item", "item"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ('<i><span class="lang-en" lang="en">Captain America</span></i>', "Captain America"),
        ("Lieux de <i>La Roue du temps</i>", "Lieux de La Roue du temps"),
        ("a < b et c > d", "a < b et c > d"),
    ],
)
def test_inline_tags_are_dropped_from_titles(tmp_path: Path, title: str, expected: str) -> None:
    (tmp_path / "page.txt").write_text(f"---\ntitle: {title}\n---\nTexte.\n", encoding="utf-8")
    docs, _ = _load(tmp_path)
    assert docs["page.txt"].title == expected  # type: ignore[attr-defined]


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(tmp_path / "rapport.pdf"))
    pdf.setTitle("Rapport annuel")
    pdf.drawString(72, 720, "Le rapport annuel présente les chiffres de la protection de l'enfance.")
    pdf.save()
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    docs, skipped = _load(tmp_path)
    assert "chiffres de la protection" in docs["rapport.pdf"].text  # type: ignore[attr-defined]
    assert docs["rapport.pdf"].title == "Rapport annuel"  # type: ignore[attr-defined]
    assert "broken.pdf" in skipped


def test_bad_files_are_reported_not_fatal(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("SECRET outside the corpus", encoding="utf-8")
    (root / "good.txt").write_text("Un bon document sur la protection de l'enfance.", encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("   \n\n  ", encoding="utf-8")
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (root / "latin1.txt").write_bytes("Les Assises réunissent des élus à Périgueux, été 2015.".encode("latin-1"))
    (root / "huge.txt").write_bytes(b"a" * 1_200_000)
    (root / "image.png").write_bytes(b"\x89PNG")
    (root / "link.txt").symlink_to(outside)
    (root / "dirlink").symlink_to(tmp_path, target_is_directory=True)
    (root / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    os.mkfifo(root / "pipe.txt")
    (root / "folder.txt").mkdir()
    (root / "scripts.html").write_text("<p>Texte</p><script>document.cookie</script>", encoding="utf-8")
    docs, skipped = _load(root)
    assert set(docs) == {"good.txt", "latin1.txt", "scripts.html"}
    assert "folder.txt" not in skipped  # a directory named like a file is just a directory
    assert "élus à Périgueux" in docs["latin1.txt"].text  # type: ignore[attr-defined]
    assert "cookie" not in docs["scripts.html"].text  # type: ignore[attr-defined]
    assert skipped["empty.txt"] == "empty file"
    assert skipped["blank.md"] == "empty file"
    assert "binary" in skipped["binary.txt"]
    assert "too large" in skipped["huge.txt"] and "ASSISTANT_MAX_FILE_MB" in skipped["huge.txt"]
    assert "unsupported" in skipped["image.png"]
    assert "outside the corpus" in skipped["link.txt"]
    assert "not followed" in skipped["dirlink"]
    assert "outside the corpus" in skipped["dangling.txt"]
    assert "not a regular file" in skipped["pipe.txt"]
    assert all("SECRET" not in d.text for d in docs.values())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # Windows' code page: a short text that a guesser may read as Mac Roman (« síappelle »).
        ("windows.txt", "Le directeur s’appelle Jean « Dupont » — depuis 2019.".encode("cp1252")),
        # Notepad's "Unicode" (UTF-16 with a byte-order mark), NUL bytes and all; UTF-32 and UTF-8 with a mark.
        ("notepad.txt", "Le directeur s’appelle Jean « Dupont » — depuis 2019.".encode("utf-16")),
        ("wide.md", "Le directeur s’appelle Jean « Dupont » — depuis 2019.".encode("utf-32")),
        ("marked.txt", "Le directeur s’appelle Jean « Dupont » — depuis 2019.".encode("utf-8-sig")),
    ],
)
def test_legacy_and_unicode_encodings_are_read_verbatim(tmp_path: Path, name: str, data: bytes) -> None:
    (tmp_path / name).write_bytes(data)
    docs, skipped = _load(tmp_path)
    assert not skipped
    assert "s’appelle Jean « Dupont » — depuis 2019." in docs[name].text  # type: ignore[attr-defined]


def test_cyrillic_legacy_text_is_not_read_as_windows_1252(tmp_path: Path) -> None:
    (tmp_path / "ru.txt").write_bytes("Привет, мир! Как дела? Всё хорошо, спасибо.".encode("cp1251"))
    docs, _ = _load(tmp_path)
    assert "Всё хорошо" in docs["ru.txt"].text  # type: ignore[attr-defined]


def test_undecodable_text_is_reported(tmp_path: Path) -> None:
    import random

    rng = random.Random(4)
    (tmp_path / "noise.txt").write_bytes(bytes(rng.randrange(128, 256) for _ in range(4000)))
    docs, skipped = _load(tmp_path)
    # Random high bytes either decode as some legacy encoding or are refused: never a crash.
    assert set(docs) | set(skipped) == {"noise.txt"}
    if "noise.txt" in skipped:
        assert "undecodable" in skipped["noise.txt"]


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked.txt").write_text("texte", encoding="utf-8")
    (tmp_path / "ok.txt").write_text("texte lisible", encoding="utf-8")
    real_open = Path.open

    def guarded(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        # Tests run as root, where chmod 000 does not stop reads: refuse this one file instead.
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", guarded)
    docs, skipped = _load(tmp_path)
    assert set(docs) == {"ok.txt"}
    assert skipped == {"locked.txt": "permission denied"}


def test_twenty_megabyte_files_are_reported_with_the_default_limit(tmp_path: Path) -> None:
    """A 20 MB text and a 20 MB HTML page: refused by size (stat only), the rest of the corpus indexed."""
    (tmp_path / "ok.txt").write_text("Un document ordinaire.", encoding="utf-8")
    (tmp_path / "big.txt").write_bytes(b"Une phrase longue et banale. " * 700_000)
    (tmp_path / "big.html").write_bytes(b"<p>" + b"x" * 20_000_000 + b"</p>")
    documents, skipped = load_corpus(tmp_path, Settings().max_file_mb)
    assert [d.source for d in documents] == ["ok.txt"]
    reasons = {s.source: s.reason for s in skipped}
    assert set(reasons) == {"big.txt", "big.html"}
    assert all("too large (20." in r and "> 10 MB" in r for r in reasons.values()), reasons
