"""Claims: a generated answer split into pieces that each carry their citation markers, and the checked answer
rebuilt from the claims kept, markers renumbered to the passages used; and what can be read from a claim's own
wording: a model looping (:func:`collapse_repeats`, :func:`said_once`, :func:`looping`), a number counting
another thing than its source does (:func:`miscounted`), a name written more often than its source writes it
(:func:`named_more`), giving its own words again as a cause (:func:`restated_cause`), the class it puts its
subject in (:func:`defined_as`); and which claims were
checked across languages (:func:`across_languages`). What a source attaches to a fact and a claim leaves out is
read in :mod:`assistant.answering.qualifiers`.

Example:
    >>> [(c.text, c.cites) for c in split_claims("L’ONPE est membre d’ESN [1], d’EUSARF [2]. Il publie [1].")]
    [('L’ONPE est membre d’ESN', [1]), (', d’EUSARF.', [2]), ('Il publie.', [1])]
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from assistant.answering.answer_type import capitalised
from assistant.answering.types import MARKER
from assistant.indexing.lexical import tokenize
from assistant.ingest.chunks import Span, sentence_spans

# Names with two capitals or more: ESN, EuroCAN, ISPCAN.
ACRONYM = re.compile(r"\b[A-Z][A-Za-z0-9]{0,8}[A-Z][A-Za-z0-9]{0,8}\b")
SUPPORTED, PARTIAL, UNSUPPORTED = "supported", "partial", "unsupported"


@dataclass
class Claim:
    """A piece of the answer ending with its markers (a sentence, or a list item inside one)."""

    text: str
    cites: list[int]  # marker numbers as written (1-based) until checked, then passage indices
    sentence: int  # which sentence it belongs to, to rebuild the text
    quotes: dict[int, Span] = field(default_factory=dict)
    status: str = SUPPORTED
    reason: str = (
        ""  # why a claim is partial: what its source attaches that it leaves out (qualifiers.dropped_qualifier)
    )


@dataclass
class Checked:
    """The answer as shown: supported claims, renumbered markers, what was dropped."""

    text: str
    used: list[int]  # passage indices (0-based), in the order of the new numbers
    quotes: dict[int, Span]  # passage index -> document offsets of the supporting sentence
    dropped: list[str]
    not_found: bool = False
    # Each claim as shown (``{"text", "status", "citations"}``, citations in the new numbers, and ``"reason"`` when
    # partial), then those dropped.
    claims: list[dict[str, Any]] = field(default_factory=list)


# A number and the word right after it: what it counts ("2000 professionnels", "300 hectares").
_COUNTED = re.compile(r"(\d+)\s+([^\W\d_][\w’'-]*)")
# « 2 000 » (with a space, a no-break or a narrow no-break space) and « 2000 » are one number.
_GROUPS = re.compile(r"(?<=\d)[ \u00a0\u202f](?=\d{3}\b)")
_MARKER_RUN = re.compile(rf"(?:\s*{MARKER.pattern})+")
# A small model decoding greedily may loop on a phrase ("the EuroCAN network, the EuroCAN network, the EuroCAN
# network"): said once is enough.
_PHRASE = r"(?<!\w)([^\W\d][^,;.!?\n]{7,}?)"
_REPEATED = re.compile(rf"{_PHRASE}(?:\s*[,;]\s*(?:and |et )?\1(?!\w))+")
# The same, said a third time at the end of what is written so far (sentences too, or with no comma: « en le
# faisant mourir en le faisant mourir… » ran for 36 s): the model is looping.
# (One optional separator, so that a run of spaces splits one way only: no backtracking blow-up.)
_LOOPING = re.compile(rf"{_PHRASE}(?:\s*(?:[,;.]\s*)?(?:and |et )?\1(?!\w)){{2,}}[,;.]?\s*$")
LOOP_WINDOW = 600


def ungroup(text: str) -> str:
    """The text with its numbers' digit groups joined: « 2 000 » is « 2000 ».

    >>> ungroup("près de 2 000 professionnels, 1\u202f500 enfants en 2015")
    'près de 2000 professionnels, 1500 enfants en 2015'
    """
    return _GROUPS.sub("", text)


def collapse_repeats(text: str) -> str:
    """``text`` with a phrase repeated in a row, separated by commas, said once.

    >>> collapse_repeats("It is in the EuroCAN network, the EuroCAN network, the EuroCAN network, and ISPCAN.")
    'It is in the EuroCAN network, and ISPCAN.'
    >>> collapse_repeats("Il participe à EuroCAN, à EUSARF, à ESN.")
    'Il participe à EuroCAN, à EUSARF, à ESN.'
    """
    return _REPEATED.sub(r"\1", text)


def looping(text: str) -> bool:
    """Whether ``text`` (a reply being written) ends with a phrase or a sentence said three times in a row.

    >>> looping("Il est membre d’ESN [1]. Il est membre d’ESN [1]. Il est membre d’ESN [1]")
    True
    >>> looping("Il participe à EuroCAN, à EUSARF, à ESN")
    False
    >>> looping("Romulus tue Remus en le faisant mourir en le faisant mourir en le faisant mourir ")
    True
    """
    return _LOOPING.search(text[-LOOP_WINDOW:]) is not None


def split_claims(text: str) -> list[Claim]:
    """The answer's claims with the marker numbers each carries.

    A sentence is split after each run of markers followed by more text ("ESN [1], EUSARF [2].")
    so that each item is checked against its own passage; markers after a full stop belong to
    the sentence before.
    """
    claims: list[Claim] = []
    sentence = 0
    for raw in text.splitlines():
        line = raw.strip().lstrip("-*• ").strip()
        for start, end in sentence_spans(line):
            piece, position = line[start:end], 0
            if not any(ch.isalnum() for ch in MARKER.sub("", piece)):  # markers left alone after a full stop
                if claims:
                    claims[-1].cites.extend(int(n) for n in MARKER.findall(piece))
                continue
            for run in _MARKER_RUN.finditer(piece):
                _add(claims, piece[position : run.start()], MARKER.findall(run.group()), sentence)
                position = run.end()
            _add(claims, piece[position:], [], sentence)
            sentence += 1
    return claims


def _add(claims: list[Claim], text: str, numbers: list[str], sentence: int) -> None:
    if any(ch.isalnum() for ch in text):
        claims.append(Claim(text.strip(), [int(n) for n in numbers], sentence))
    elif claims and claims[-1].sentence == sentence:  # trailing punctuation of the sentence
        claims[-1].text += text.strip()


def renumber(claims: list[Claim], dropped: list[str]) -> Checked:
    used: list[int] = []
    quotes: dict[int, Span] = {}
    sentences: dict[int, str] = {}
    for claim in claims:
        for i in claim.cites:
            if i not in used:
                used.append(i)
                quotes[i] = claim.quotes[i]
            else:  # claims citing one passage from different sentences: its quote runs from the first to the last
                quotes[i] = (min(quotes[i][0], claim.quotes[i][0]), max(quotes[i][1], claim.quotes[i][1]))
        markers = "".join(f"[{used.index(i) + 1}]" for i in claim.cites)
        text = claim.text if claim.sentence in sentences else claim.text.lstrip(",;: ")
        end = text[-1] if text[-1] in ".!?…;:," else ""
        piece = f"{text[: len(text) - len(end)].rstrip()} {markers}{end}"
        before = sentences.get(claim.sentence)
        sentences[claim.sentence] = piece if before is None else before + ("" if piece[0] in ",;:" else " ") + piece
    rebuilt = [body if body[-1] in ".!?…" else body.rstrip(",;:") + "." for body in sentences.values()]
    shown = [
        {"text": c.text.lstrip(",;: "), "status": c.status, "citations": [used.index(i) + 1 for i in c.cites]}
        | ({"reason": c.reason} if c.reason else {})
        for c in claims
    ]
    unsupported = [{"text": text, "status": UNSUPPORTED, "citations": []} for text in dropped]
    return Checked(" ".join(rebuilt), used, quotes, dropped, claims=shown + unsupported)


def across_languages(claims: list[dict[str, Any]], languages: list[str], language: str) -> list[dict[str, Any]]:
    """The claims shown (:attr:`Checked.claims`), each kept one whose cited passages are all in another language
    than ``language`` (the answer's) marked ``"across_languages": True``.

    Words cannot be compared across languages, so such a claim passed a weaker check: read by hand, English
    claims over French passages were wrong several times as often as French ones (README, "The claim check,
    read by hand"). ``languages`` are the passages' languages by citation number (``languages[0]`` is ``[1]``'s).

    >>> shown = [{"text": "ONPE is a member of EuroCAN.", "status": "supported", "citations": [1]},
    ...          {"text": "It publishes.", "status": "unsupported", "citations": []}]
    >>> [c.get("across_languages", False) for c in across_languages(shown, ["fr"], "en")]
    [True, False]
    >>> [c.get("across_languages", False) for c in across_languages(shown, ["fr"], "fr")]
    [False, False]
    """
    return [
        c | {"across_languages": True}
        if c["status"] != UNSUPPORTED and c["citations"] and all(languages[n - 1] != language for n in c["citations"])
        else c
        for c in claims
    ]


def said_once(claims: list[Claim]) -> list[Claim]:
    """The claims without those saying again, word for word, what an earlier one said (a model looping)."""
    said: set[str] = set()
    kept = []
    for claim in claims:
        words = " ".join(tokenize(claim.text))
        if not words or words not in said:
            said.add(words)
            kept.append(claim)
    return kept


def miscounted(claim: str, stated: str) -> bool:
    """Whether the claim counts with a number something its source sentences (``stated``) never count with it:
    « Le parc abrite 300 espèces » over « Le parc couvre 300 hectares et abrite 50 espèces ». Each number the claim
    writes right before a content word must come right before a word of the same stem in the sources.

    >>> miscounted("Le parc abrite 300 espèces [1].", "Le parc couvre 300 hectares et abrite 50 espèces.")
    True
    >>> miscounted("Il couvre 300 hectares, en 2006 la ville…", "En 2006, le parc couvrait 300 hectares.")
    False
    >>> miscounted("2 000 professionnels y viennent.", "Elles réunissent 2000 professionnels.")
    False
    """
    counted = {(n, stem) for n, word in _COUNTED.findall(ungroup(stated)) for stem in tokenize(word)}
    pairs = _COUNTED.findall(ungroup(MARKER.sub(" ", claim)))
    return any((n, unit[0]) not in counted for n, word in pairs if (unit := tokenize(word)))


def named_more(claim: str, names: set[str], sentences: list[str]) -> bool:
    """Whether the claim writes one of its ``names`` (stems) more often than the sentence stating it (of
    ``sentences``, the one holding most of them) does: the name then plays a part of its own, usually a subject
    grafted onto what someone else did.

    >>> named_more("L'UNESCO a estimé les publications de l'UNESCO comme une ingérence.", {"unesco"},
    ...            ["Estimant les publications de l'UNESCO comme une ingérence, l'Afrique du Sud l'a quittée."])
    True
    >>> named_more("L'ONPE est membre d'ESN.", {"onpe", "esn"}, ["L'ONPE est membre d'ESN (European Social Network)."])
    False
    """
    stating = max(sentences, key=lambda t: len(names & set(tokenize(t))), default="")
    said, source = Counter(tokenize(claim)), Counter(tokenize(stating))
    return any(said[n] > source[n] >= 1 for n in names)


# A claim that joins a fact to another by cause ("X because Y") states that link: both must come from one place.
# ("since" and « depuis » are left out: mostly about time.)
CAUSE = re.compile(
    r"\b(because|due to|thanks to|as a result of|parce qu(e\b|['’])|grâce (à|au|aux)\b|en raison d(e|u|es)\b"
    r"|puisqu(e\b|['’]))",
    re.IGNORECASE,
)
# Of the 9 distinct cause claims kept on six LLM runs of 2026-12-06, the one tautology's cause shares 4 of its 7
# content words with its effect, the next claim's 1 of 4.
RESTATED_CAUSE = 0.5


def restated_cause(claim: str) -> bool:
    """Whether a claim "X because Y" gives as its cause what X already says: Y shares two content words or more with X
    (numbers aside), and half of its own. A cause of one repeated word, or of none, is left to the other checks.

    >>> restated_cause("The event moves to a different city every year because it is held in a different city "
    ...                "every year.")
    True
    >>> restated_cause("The Assises are popular because the Assises are large.")
    False
    >>> restated_cause("La loi est votée en 2004 grâce à une loi de 2004."), restated_cause("Il part parce que.")
    (False, False)
    """
    cause = CAUSE.search(claim)
    if cause is None:
        return False
    because = set(tokenize(claim[cause.end() :]))
    shared = {word for word in because & set(tokenize(claim[: cause.start()])) if not word.isdigit()}
    return len(shared) >= 2 and len(shared) >= RESTATED_CAUSE * len(because)


# « X est un Y », "X is a Y": the class a claim puts its subject in, past a word or two that come before a noun.
COPULA = re.compile(r"\b(?:est|sont|était|étaient|is|are|was|were)\s+(?:un|une|des|a|an)\s+(\w+)(?:\s+(\w+))?", re.I)
_BEFORE_NOUN = frozenset({
    "peu", "grand", "grande", "grands", "grandes", "petit", "petite", "seul", "seule", "véritable", "vrai", "vraie",
    "nouveau", "nouvel", "nouvelle", "autre", "certain", "certaine", "lot", "bit", "few", "kind", "type", "sort",
    "part", "little", "large", "small", "great", "big", "new", "other", "real", "true", "single", "major",
})  # fmt: skip


def defined_as(claim: str) -> set[str]:
    """What a claim says its subject is, as stems: a class the source never names makes the claim the model's own,
    even when it is the claim's only new word (« Les Lettres sont un livre qui montrent… » over « "Les Lettres" nous
    montrent… »).

    >>> defined_as("Les Lettres sont un livre qui montrent une complicité."), defined_as("EUSARF is an association.")
    ({'livr'}, {'associ'})
    >>> defined_as("L’ONPE est membre d’ESN."), defined_as("C'est un grand réseau.")
    (set(), {'reseau'})
    """
    nouns = [next((w for w in pair if w and w.lower() not in _BEFORE_NOUN), "") for pair in COPULA.findall(claim)]
    return set(tokenize(" ".join(nouns)))


def _subject(text: str) -> str | None:
    """The name a sentence opens with (within its first three words: « L’Observatoire est… »), as a stem."""
    names = tokenize(" ".join(capitalised(" ".join(MARKER.sub(" ", text).split()[:3]))))
    return names[0] if names else None


def swapped(claim: str, sources: list[str]) -> bool:
    """Whether the claim turns a source sentence's subject into its object: « L’ONPE est membre de
    l’Observatoire » over « L’Observatoire est membre d’ESN » (who did what to whom, reversed).

    Only for a claim from one sentence whose own subject that sentence never names: a list ("ONPE is a member of
    ESN, EuroCAN and ISPCAN") names the subjects of the sentences it gathers, and « Agnès Gindt-Ducros dirige
    l’ONPE » over « L’ONPE est dirigé par Agnès Gindt-Ducros » only turns the sentence around.
    """
    subject = _subject(claim)
    if len(sources) != 1 or subject is None or subject in tokenize(sources[0]):
        return False
    later = set(tokenize(" ".join(capitalised(" ".join(MARKER.sub(" ", claim).split()[3:])))))
    return (source := _subject(sources[0])) is not None and source != subject and source in later
