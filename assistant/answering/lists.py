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

import re

from assistant.answering.claims import ACRONYM, SUPPORTED, Checked
from assistant.answering.conversation import LIST_QUESTION
from assistant.answering.types import MARKER
from assistant.answering.word_forms import lemma
from assistant.indexing.lexical import content_words, stems
from assistant.ingest.chunks import Chunk, Span

_WORD = re.compile(r"\w+")
# Words between « quels » and what it asks for (« quels autres réseaux », "what are the main networks").
_VAGUE = frozenset({
    "autre", "autres", "différents", "différentes", "divers", "diverses", "plusieurs", "principaux", "principales",
    "grands", "grandes", "deux", "trois", "quatre", "cinq", "other", "others", "main", "various", "several",
    "different", "major", "two", "three", "four", "five",
})  # fmt: skip
# Roman numerals are not names (« Louis XIV », « XVIIe siècle »); CDC or CLIC are.
_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})(?:e|er|ème)?")
# A member's name follows the word of its kind in the same sentence, at most this many words after it, none of them
# a preposition, article or "and" (« au réseau EUSARF », « réseau européen EUSARF »; « le réseau du CNRS » names the
# CNRS's network, not a network called CNRS; « le réseau EUSARF et ONPE » names one network), or comes just before
# it ("the EUSARF network").
_KIND_GAP = 2
_LINKS = frozenset({
    "de", "du", "des", "d", "l", "la", "le", "les", "au", "aux", "à", "avec", "sur", "et", "ou", "of", "the", "a",
    "an", "un", "une", "for", "pour", "par", "by", "in", "en", "dans", "with", "on", "to", "from", "and", "or",
})  # fmt: skip
# "Which" asks the question only at its start or after a preposition ("In which networks…?"); elsewhere it is
# relative ("the network which funds EuroCAN").
_WHICH_AFTER = frozenset({"in", "to", "of", "with", "for", "on", "from", "at", "by", "into", "among"})


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


def asked_kind(question: str) -> str | None:
    """What a list question asks for, or None: the first content word after « quels », "which"…, past words such
    as « autres » or "main", unless it is an acronym of the question (its subject). "Which" asks for one thing as
    often as for several: only a word ending in -s after it asks for a list ("which networks", not "which
    network"), and only where "which" asks the question (see ``_WHICH_AFTER``).

    >>> [asked_kind(q) for q in ("L'observatoire fait partie de quels réseaux européens ?", "Which networks?",
    ...  "Quels sont les deux autres partenaires ?", "Which ESN groups?", "Qui organise les Assises ?",
    ...  "Which network funds EuroCAN?", "What is the network which funds EuroCAN?", "In which bodies?")]
    ['réseaux', 'networks', 'partenaires', None, None, None, None, 'bodies']
    """
    match = LIST_QUESTION.search(question)
    words = [w for w in content_words(question[match.end() :]) if w not in _VAGUE] if match else []
    if match is None or not words or any(a.lower() == words[0] for a in ACRONYM.findall(question)):
        return None
    if match.group().lower() == "which":
        before = question[: match.start()].lower().split()
        if not words[0].endswith("s") or (before and before[-1] not in _WHICH_AFTER):
            return None
    return words[0]


def named_kind(chunks: list[Chunk], question: str) -> list[dict[str, Span]]:
    """For each passage, the members of the kind a list question asks for that it names by an acronym beside that
    word, each with the sentence naming it so. Pages state members one sentence each (« Il participe au réseau
    EUSARF. ») as often as under a ``tels que :``. An acronym of the question itself is its subject, not a member.

    >>> from assistant.ingest.chunks import Chunk
    >>> texts = ["L'ONPE participe au réseau européen EUSARF et au réseau EuroCAN.", "Le réseau du CNRS.",
    ...          "Le roi Louis XIV.", "ONPE joined the ESN network.", "EUSARF publie. Il rejoint le réseau EUSARF."]
    >>> chunks = [Chunk(str(n), "d", "T", "S", 0, len(t), t) for n, t in enumerate(texts)]
    >>> named = named_kind(chunks, "À quels réseaux participe-t-il ?")
    >>> [list(n) for n in named], chunks[4].slice(*named[4]["EUSARF"])
    ([['EUSARF', 'EuroCAN'], [], [], [], ['EUSARF']], 'Il rejoint le réseau EUSARF.')
    >>> [list(n) for n in named_kind(chunks, "Which networks?") + named_kind(chunks, "Quels rois ?")]
    [[], [], [], ['ESN'], [], [], [], [], [], []]
    """
    kind, subject = asked_kind(question), set(ACRONYM.findall(question))
    forms = None if kind is None else _forms(kind)
    return [{} if forms is None else _members(chunk, forms, subject) for chunk in chunks]


def _members(chunk: Chunk, kind: frozenset[str], subject: set[str]) -> dict[str, Span]:
    """The names standing beside a word of ``kind`` in one of the passage's sentences (see ``_KIND_GAP``), in order,
    each with the first such sentence."""
    found: dict[str, Span] = {}
    for span in chunk.sentences():
        words: list[str] = _WORD.findall(chunk.slice(*span))
        at = [j for j, word in enumerate(words) if not kind.isdisjoint(_forms(word))]
        for i, word in enumerate(words):
            beside = i + 1 in at or any(_follows(words[j + 1 : i]) for j in at if j < i)
            if beside and _is_name(word) and word not in subject:
                found.setdefault(word, span)
    return found


def _follows(between: list[str]) -> bool:
    return len(between) <= _KIND_GAP and not any(w.lower() in _LINKS for w in between)


def _forms(word: str) -> frozenset[str]:
    """A word's stem and dictionary form: « réseaux » and « réseau », « rois » and « roi » share one of them (stemmer
    and dictionary disagree on some plurals)."""
    lower = word.lower()
    return frozenset({"stem:" + stems([lower])[0], "lemma:" + lemma(lower)})


def _is_name(word: str) -> bool:
    """An acronym-like name, mostly capitals (EUSARF, EuroCAN; not McDonald nor a Roman numeral)."""
    capitals = sum(c.isupper() for c in word)
    return bool(ACRONYM.fullmatch(word)) and not _ROMAN.fullmatch(word) and 2 * capitals >= len(word)


_ALSO_LISTED = {
    "en": "The list in the documents also names: {items}.",
    "fr": "La liste des documents cite aussi : {items}.",
}
_ALSO_NAMED = {
    "en": "The documents also name: {items}.",
    "fr": "Les documents citent aussi : {items}.",
}


def complete_list(
    checked: Checked,
    chunks: list[Chunk],
    is_item: list[bool],
    language: str,
    named: list[dict[str, Span]] | None = None,
) -> Checked:
    """Append the list members a small model left out, each named once and cited with the sentence naming it.

    - ``is_item``: members of a list the document introduces (``…tels que :``), named by their first acronym
      that the passages outside the list do not use;
    - ``named``: members named beside the word the list question asks for (see :func:`named_kind`).

    A member the answer already names is not appended; a passage adds one member (one quote a passage).
    """
    named = named or [{} for _ in chunks]
    if not checked.used or (not any(is_item) and not any(named)):
        return checked
    used, quotes, items, seen = list(checked.used), dict(checked.quotes), [], set()
    # The list's subject (named in its introduction) is not one of its members.
    subject = " ".join(c.text for c, item in zip(chunks, is_item, strict=True) if not item)
    from_list = True
    for i, (chunk, members) in enumerate(zip(chunks, named, strict=True)):
        names = [n for n in ACRONYM.findall(chunk.text) if n not in subject] if is_item[i] else []
        name = names[0] if names else next((n for n in members if not _says(checked.text, n) and n not in seen), None)
        if i in used or name is None or _says(checked.text, name) or name in seen:
            continue
        seen.add(name)
        used.append(i)
        quotes[i] = _naming(chunk, name) if names else members[name]
        items.append(f"{name} [{len(used)}]")
        from_list = from_list and bool(names)
    if not items:
        return checked
    said = _ALSO_LISTED if from_list else _ALSO_NAMED
    extra = said.get(language, said["en"]).format(items=", ".join(items))
    claim = {"text": extra, "status": SUPPORTED, "citations": [int(n) for n in MARKER.findall(extra)]}
    return Checked(f"{checked.text} {extra}", used, quotes, checked.dropped, claims=[*checked.claims, claim])


def _says(text: str, name: str) -> bool:
    """Whether ``text`` names ``name`` as a word (« ESN » is not in « ESNA »)."""
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def _naming(chunk: Chunk, name: str) -> Span:
    """The passage's first sentence that holds ``name`` (its first sentence if none does)."""
    spans = chunk.sentences()
    return next((s for s in spans if name in chunk.slice(*s)), spans[0])
