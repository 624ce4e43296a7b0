r"""HTML and Markdown for the web chat. Every piece of document or user text is escaped here.

Citation markers become links ``#cite-<answer>-<n>``; a small script (:data:`CITATION_SCRIPT`)
turns a click on one into "show that passage in the viewer, highlighted, scrolled into view",
without a round trip to the server.

Example:
    >>> answer = Answer("q", "« <b>ESN</b> » [1] [7]", False, "extractive", "fr",
    ...                 [Citation(1, "a.txt", "T", "", "<b>ESN</b>", 0, 10, 1.0, 0, 10)], confidence=0.7)
    >>> answer_markdown(answer, 3)
    '« &lt;b&gt;ESN&lt;/b&gt; » [\\[1\\]](#cite-3-1) \\[7\\]\n\n*Confiance moyenne (0,70)*'
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from assistant.answering.answerability import level
from assistant.answering.types import Answer, Citation, marker_pattern
from assistant.ingest.chunks import label
from assistant.ingest.cleaning import Document

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
LEVELS = {"high": "élevée", "medium": "moyenne", "low": "faible"}
# Characters of context shown around a passage in the viewer, each side.
VIEWER_CONTEXT = 1200


def escape_markdown(text: str) -> str:
    """Text shown literally by a Markdown renderer: HTML escaped, Markdown syntax neutralised."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


# The discreet mark after each checked claim of a generated answer (extractive quotes are the documents' own):
# by status, and for a partial claim by what its source attaches that the claim leaves out.
CLAIM_MARKS = {
    "supported": " ✓",
    "translated": " ≈ *(passage dans une autre langue : à relire)*",
    "partial": " ⚠ *(la source nuance ce point)*",
    "condition": " ⚠ *(la source pose une condition)*",
    "approximation": " ⚠ *(la source donne une valeur approchée)*",
    "share": " ⚠ *(la source ne le dit que d’une partie)*",
    "aim": " ⚠ *(la source parle d’un objectif, pas d’un résultat)*",
    "reported": " ⚠ *(la source rapporte un propos, sans l’affirmer)*",
}
_MARK = "\x00{}\x00"
_MARKER_RUN = re.compile(r"(?:\s*\[\d+\])+")


# The chat is in French; the answering layer's refusals are in English (CLI, API): said again in French here.
_IN_FRENCH = (
    (re.compile(r"^the question is empty$"), "la question est vide"),
    (re.compile(r"^the question must be text$"), "la question doit être du texte"),
    (re.compile(r"^the question is too long \((\d+) characters; the limit is (\d+)\)$"),
     r"la question est trop longue (\1 caractères ; la limite est \2)"),
    (re.compile(r"^no indexed document matches (.*)$"), r"aucun document indexé ne correspond à \1"),
)  # fmt: skip


# Why a file was left out of the index (ingest: CLI and JSON in English), said again in French in the library.
_REASONS_IN_FRENCH = (
    (re.compile(r"^empty file$"), "fichier vide"),
    (re.compile(r"^permission denied$"), "accès refusé"),
    (re.compile(r"^no text after cleaning$"), "aucun texte une fois nettoyé"),
    (re.compile(r"^not a regular file$"), "pas un fichier ordinaire"),
    (re.compile(r"^binary content, not text$"), "contenu binaire, pas du texte"),
    (re.compile(r"^undecodable text \(unknown encoding\)$"), "texte illisible (encodage inconnu)"),
    (re.compile(r"^undecodable text \(invalid (.+)\)$"), r"texte illisible (\1 invalide)"),
    (re.compile(r"^encrypted PDF \(a password is needed to read it\)$"),
     "PDF chiffré (il faut un mot de passe pour le lire)"),
    (re.compile(r"^symbolic link to a directory: not followed$"), "lien symbolique vers un dossier : non suivi"),
    (re.compile(r"^symbolic link leading outside the corpus: not followed$"),
     "lien symbolique qui sort du corpus : non suivi"),
    (re.compile(r"^unsupported file type \(no extension\)$"), "type de fichier non pris en charge (sans extension)"),
    (re.compile(r"^unsupported file type \((\S+)\): save it as (\S+) to index it$"),
     r"type de fichier non pris en charge (\1) : enregistrez-le en \2 pour l’indexer"),
    (re.compile(r"^unsupported file type \((\S+)\)$"), r"type de fichier non pris en charge (\1)"),
    (re.compile(r"^too large \(([\d.]+) MB > ([\d.]+) MB; raise ASSISTANT_MAX_FILE_MB to index it\)$"),
     r"trop volumineux (\1 Mo > \2 Mo ; augmentez ASSISTANT_MAX_FILE_MB pour l’indexer)"),
    (re.compile(r"^not a valid (\S+) file \(not a zip container\)$"), r"fichier \1 non valide (pas une archive zip)"),
    (re.compile(r"^refused: this (\S+) would unpack to (\d+) MB \(a zip bomb\?\)$"),
     r"refusé : ce \1 occuperait \2 Mo une fois décompressé (bombe zip ?)"),
    (re.compile(r"^conversion took more than (\d+) s$"), r"la conversion a pris plus de \1 s"),
    (re.compile(r"^pandoc could not run \((.*)\)$"), r"pandoc n’a pas pu s’exécuter (\1)"),
    (re.compile(r"^unreadable (\S+) \((.*)\)$"), r"\1 illisible (\2)"),
    (re.compile(r"^unreadable \((.*)\)$"), r"illisible (\1)"),
)  # fmt: skip


def in_french(message: str, table: tuple[tuple[re.Pattern[str], str], ...] = _IN_FRENCH) -> str:
    """A refusal of the question (or, with ``table``, another message), in the chat's language; unknown ones as
    they are.

    >>> in_french("the question is too long (5000 characters; the limit is 2000)")
    'la question est trop longue (5000 caractères ; la limite est 2000)'
    """
    for pattern, french in table:
        if pattern.match(message):
            return pattern.sub(french, message)
    return message


def reason_in_french(reason: str) -> str:
    """Why a file was left out (or read in part), in French; several reasons joined by "; " each said so.

    >>> reason_in_french("empty file"), reason_in_french("unsupported file type (.doc): save it as .docx to index it")
    ('fichier vide', 'type de fichier non pris en charge (.doc) : enregistrez-le en .docx pour l’indexer')
    """
    whole = in_french(reason, _REASONS_IN_FRENCH)
    if whole != reason or "; " not in reason:
        return whole
    return " ; ".join(in_french(part, _REASONS_IN_FRENCH) for part in reason.split("; "))


def _marked(answer: Answer) -> str:
    """The answer's text with a placeholder after each claim's markers, for :data:`CLAIM_MARKS`."""
    text = answer.answer
    if answer.mode != "llm":
        return text
    position = 0
    for claim in answer.claims:
        found = text.find(claim["text"].rstrip(".!?…;:, "), position)
        mark = claim.get("reason") or ("translated" if "across_languages" in claim else claim["status"])
        if claim["status"] == "unsupported" or mark not in CLAIM_MARKS or found < 0:
            continue
        end = found + len(claim["text"].rstrip(".!?…;:, "))
        run = _MARKER_RUN.match(text, end)
        end = run.end() if run else end
        text = text[:end] + _MARK.format(mark) + text[end:]
        position = end
    return text


def answer_markdown(answer: Answer, answer_id: int) -> str:
    r"""The answer as chat Markdown: escaped text, ``[n]`` as links to the viewer, notice in italics, and after
    each claim of a generated answer its mark (✓ supported, ⚠ partial: what the source attaches to it; ≈ checked
    against a passage in another language, a weaker check).

    >>> answer = Answer("q", "Oui, c’est possible [1].", False, "llm", "fr", confidence=0.9, claims=[
    ...     {"text": "Oui, c’est possible.", "status": "partial", "citations": [1], "reason": "condition"}])
    >>> answer_markdown(answer, 1).splitlines()[0]
    'Oui, c’est possible \\[1\\] ⚠ *(la source pose une condition)*.'
    >>> answer.answer = "2000 professionals attend [1]."
    >>> answer.claims = [{"text": "2000 professionals attend.", "status": "partial", "citations": [1],
    ...                   "reason": "approximation"}]
    >>> answer_markdown(answer, 1).splitlines()[0]
    '2000 professionals attend \\[1\\] ⚠ *(la source donne une valeur approchée)*.'
    >>> answer.claims = [{"text": "2000 professionals attend.", "status": "supported", "citations": [1],
    ...                   "across_languages": True}]
    >>> answer_markdown(answer, 1).splitlines()[0]
    '2000 professionals attend \\[1\\] ≈ *(passage dans une autre langue : à relire)*.'

    A bracketed number inside a quote is the document's own, not a link to a citation:

    >>> cited = Citation(1, "a.txt", "T", "", "L’album est publié en [1].", 0, 26, 1.0, 0, 26)
    >>> quoted = Answer("q", "« L’album est publié en [1]. » [1]", False, "extractive", "fr", [cited])
    >>> answer_markdown(quoted, 2).splitlines()[0]
    '« L’album est publié en \\[1\\]. » [\\[1\\]](#cite-2-1)'
    """
    numbers = {c.n for c in answer.citations}
    parts, position = [], 0
    text = _marked(answer)
    for match in marker_pattern(answer.mode).finditer(text):  # a "[3]" inside a quote is the document's
        parts.append(escape_markdown(text[position : match.start()]))
        n = int(match.group(1))
        marker = f"\\[{n}\\]"
        parts.append(f"[{marker}](#cite-{answer_id}-{n})" if n in numbers else marker)
        position = match.end()
    parts.append(escape_markdown(text[position:]))
    body = "".join(parts)
    for key, mark in CLAIM_MARKS.items():
        body = body.replace(_MARK.format(key), mark)
    if answer.notice:
        body = f"*{escape_markdown(answer.notice)}*\n\n{body}"
    if not answer.abstained:
        body += f"\n\n*{confidence_label(answer.confidence)}*"
    return body


def confidence_label(confidence: float) -> str:
    """The confidence as the chat shows it.

    >>> confidence_label(0.934)
    'Confiance élevée (0,93)'
    """
    return f"Confiance {LEVELS[level(confidence)]} ({confidence:.2f})".replace(".", ",")


def _where(c: Citation) -> str:
    return html.escape(label(c.title, c.section))


def _file_line(c: Citation) -> str:
    """« rapport.pdf · p. 12 · texte lu par OCR »"""
    return " · ".join(filter(None, [c.source, c.where, "texte lu par OCR" if c.ocr else ""]))


def _passage_html(c: Citation) -> str:
    """The passage with the supporting sentence highlighted (offsets are the document's)."""
    rel_start, rel_end = c.quote_start - c.start, c.quote_end - c.start
    text = c.text
    return (
        html.escape(text[:rel_start])
        + f'<mark class="quote">{html.escape(text[rel_start:rel_end])}</mark>'
        + html.escape(text[rel_end:])
    )


def sources_html(answer: Answer | None, answer_id: int) -> str:
    """The sources panel for one answer: title, section, passage, supporting sentence highlighted."""
    if answer is None or not answer.citations:
        note = (
            "Aucune source pour cette réponse." if answer is not None else "Les sources de la réponse apparaîtront ici."
        )
        return f'<div class="sources empty">{note}</div>'
    cards = []
    for c in answer.citations:
        cards.append(
            f'<div class="source" data-n="{c.n}">'
            f'<a class="cite" href="#cite-{answer_id}-{c.n}">[{c.n}]</a> <strong>{_where(c)}</strong>'
            f'<div class="file">{html.escape(_file_line(c))}</div>'
            f'<blockquote class="passage">{_passage_html(c)}</blockquote></div>'
        )
    return '<div class="sources">' + "".join(cards) + "</div>"


def _document_window(doc: Document, c: Citation) -> str:
    start = max(0, c.start - VIEWER_CONTEXT)
    end = min(len(doc.text), c.end + VIEWER_CONTEXT)
    before = ("… " if start else "") + doc.text[start : c.start]
    after = doc.text[c.end : end] + (" …" if end < len(doc.text) else "")
    return f'{html.escape(before)}<mark class="passage">{_passage_html(c)}</mark>{html.escape(after)}'.replace(
        "\n", "<br>"
    )


def viewer_html(
    answers: list[tuple[int, Answer]],
    documents: dict[str, Document],
    original_page: Callable[[Citation], str] | None = None,
) -> str:
    """One hidden section per citation of the conversation; a citation click reveals its own, with the original
    page when ``original_page`` renders one (PDF citations, :func:`assistant.web.pages.page_html`)."""
    sections = []
    for answer_id, answer in answers:
        for c in answer.citations:
            doc = documents.get(c.source)
            body = _document_window(doc, c) if doc is not None else html.escape(c.text)
            sections.append(
                f'<section class="doc-view" id="view-{answer_id}-{c.n}" hidden>'
                f'<h4>[{c.n}] {_where(c)}</h4><div class="file">{html.escape(_file_line(c))}</div>'
                f'<div class="doc-text">{body}</div>{original_page(c) if original_page else ""}</section>'
            )
    hint = '<p class="viewer-hint">Cliquez sur une référence [n] pour afficher le passage dans son document.</p>'
    return f'<div class="viewer">{hint}{"".join(sections)}</div>'


CITATION_SCRIPT = """
<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest ? event.target.closest('a[href^="#cite-"]') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const key = link.getAttribute("href").slice("#cite-".length);
  let shown = null;
  document.querySelectorAll(".doc-view").forEach((section) => {
    const match = section.id === "view-" + key;
    section.hidden = !match;
    section.classList.toggle("active", match);
    if (match) shown = section;
  });
  const hint = document.querySelector(".viewer-hint");
  if (hint) hint.hidden = shown !== null;
  if (shown) (shown.querySelector("mark.passage") || shown).scrollIntoView({block: "center"});
}, true);
</script>
"""

CSS = """
.sources .source { margin-bottom: .8em; }
.sources .file, .doc-view .file { color: #666; font-size: .85em; }
blockquote.passage { margin: .3em 0; padding-left: .6em; border-left: 3px solid #ccc; }
mark.quote { background: #ffe58a; }
mark.passage { background: #e6f0ff; }
.doc-view .doc-text { max-height: 420px; overflow-y: auto; line-height: 1.5; }
.doc-view .page-image { width: 100%; border: 1px solid #ccc; margin-top: .5em; }
.doc-view figcaption, .doc-view .page-note { color: #666; font-size: .85em; }
"""
