"""Claims: a generated answer split into pieces that each carry their citation markers, and the checked answer
rebuilt from the claims kept, markers renumbered to the passages used; and what can be read from a claim's own
wording: a model looping (:func:`collapse_repeats`, :func:`said_once`, :func:`looping`), a number counting
another thing than its source does (:func:`miscounted`).

Example:
    >>> [(c.text, c.cites) for c in split_claims("L’ONPE est membre d’ESN [1], d’EUSARF [2]. Il publie [1].")]
    [('L’ONPE est membre d’ESN', [1]), (', d’EUSARF.', [2]), ('Il publie.', [1])]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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


@dataclass
class Checked:
    """The answer as shown: supported claims, renumbered markers, what was dropped."""

    text: str
    used: list[int]  # passage indices (0-based), in the order of the new numbers
    quotes: dict[int, Span]  # passage index -> document offsets of the supporting sentence
    dropped: list[str]
    not_found: bool = False
    # Each claim as shown (``{"text", "status", "citations"}``, citations in the new numbers), then those dropped.
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
# The same, said a third time at the end of what is written so far (sentences too): the model is looping.
_LOOPING = re.compile(rf"{_PHRASE}(?:\s*[,;.]\s*(?:and |et )?\1(?!\w)){{2,}}[,;.]?\s*$")
LOOP_WINDOW = 600


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
        markers = "".join(f"[{used.index(i) + 1}]" for i in claim.cites)
        text = claim.text if claim.sentence in sentences else claim.text.lstrip(",;: ")
        end = text[-1] if text[-1] in ".!?…;:," else ""
        piece = f"{text[: len(text) - len(end)].rstrip()} {markers}{end}"
        before = sentences.get(claim.sentence)
        sentences[claim.sentence] = piece if before is None else before + ("" if piece[0] in ",;:" else " ") + piece
    rebuilt = [body if body[-1] in ".!?…" else body.rstrip(",;:") + "." for body in sentences.values()]
    shown = [
        {"text": c.text.lstrip(",;: "), "status": c.status, "citations": [used.index(i) + 1 for i in c.cites]}
        for c in claims
    ]
    unsupported = [{"text": text, "status": UNSUPPORTED, "citations": []} for text in dropped]
    return Checked(" ".join(rebuilt), used, quotes, dropped, claims=shown + unsupported)


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
    counted = {(n, stem) for n, word in _COUNTED.findall(_GROUPS.sub("", stated)) for stem in tokenize(word)}
    pairs = _COUNTED.findall(_GROUPS.sub("", MARKER.sub(" ", claim)))
    return any((n, unit[0]) not in counted for n, word in pairs if (unit := tokenize(word)))
