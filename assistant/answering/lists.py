"""Lists in the passages: which passage is a member of a list another passage introduces, and the members a
small model left out of its answer.

On a web page the members of a list often never repeat what the list is about (« Il participe au réseau
EuroCAN. » under « L’ONPE inscrit son activité … dans plusieurs réseaux, tels que : »): the prompt notes the
structure for the model, and the claim check reads a member with its introduction.

Example:
    >>> from assistant.ingest.chunks import Chunk
    >>> chunks = [Chunk("a", "d", "T", "S", 0, 20, "Elle a des réseaux, tels que :"),
    ...           Chunk("b", "d", "T", "S", 21, 40, "Il participe à EUSARF."),
    ...           Chunk("c", "e", "U", "", 0, 10, "Autre chose.")]
    >>> list_intros(chunks)
    [None, 0, None]
"""

from __future__ import annotations

from assistant.answering.claims import ACRONYM, SUPPORTED, Checked
from assistant.answering.types import MARKER
from assistant.ingest.chunks import Chunk


def list_intros(chunks: list[Chunk]) -> list[int | None]:
    """For each passage, the index of the list introduction (``…such as:``) it follows in the same
    document section, or None."""
    intros: list[int | None] = []
    intro: int | None = None
    for n, chunk in enumerate(chunks):
        follows = intro is not None and (chunks[intro].source, chunks[intro].section) == (chunk.source, chunk.section)
        intros.append(intro if follows else None)
        if chunk.text.rstrip().endswith(":"):
            intro = n
        elif not follows:
            intro = None
    return intros


_ALSO_LISTED = {
    "en": "The list in the documents also names: {items}.",
    "fr": "La liste des documents cite aussi : {items}.",
}


def complete_list(checked: Checked, chunks: list[Chunk], is_item: list[bool], language: str) -> Checked:
    """Append the list members a small model left out, each named by its acronym and cited.

    Only passages that are members of a list the document itself introduces (``…tels que :``)
    count, and only when the member names itself by an acronym the answer does not mention.
    """
    if not checked.used or not any(is_item):
        return checked
    used, quotes, items = list(checked.used), dict(checked.quotes), []
    # The list's subject (named in its introduction) is not one of its members.
    subject = " ".join(c.text for c, item in zip(chunks, is_item, strict=True) if not item)
    for i, chunk in enumerate(chunks):
        names = [n for n in ACRONYM.findall(chunk.text) if n not in subject]
        if not is_item[i] or i in used or not names or names[0] in checked.text:
            continue
        used.append(i)
        quotes[i] = chunk.sentences()[0]
        items.append(f"{names[0]} [{len(used)}]")
    if not items:
        return checked
    extra = _ALSO_LISTED.get(language, _ALSO_LISTED["en"]).format(items=", ".join(items))
    claim = {"text": extra, "status": SUPPORTED, "citations": [int(n) for n in MARKER.findall(extra)]}
    return Checked(f"{checked.text} {extra}", used, quotes, checked.dropped, claims=[*checked.claims, claim])
