"""What kind of answer a question asks for — a date, a number, a name — and whether a sentence holds one.

"Quand l'ONPE a-t-il été créé ?" is answered by a sentence with a date, not by any sentence naming
the ONPE; "Combien de salariés… ?" by one with a number. A passage on the question's subject that
holds no such sentence does not answer it: answerability reads this as a signal
(:mod:`assistant.answering.answerability`) and the quote choice prefers the sentence that holds it.
Only the question's wording is read (French and English), never the corpus: it transfers.

Example:
    >>> asked_for("Depuis quand les Assises existent-elles ?"), asked_for("How many professionals attend?")
    ('date', 'number')
    >>> asked_for("Qui organise les Assises ?"), asked_for("Qu'est-ce que le réseau EuroCAN ?")
    ('name', None)
    >>> holds("date", "Depuis 2006, les Assises réunissent 2000 professionnels."), holds("name", "Il participe.")
    (True, False)
"""

from __future__ import annotations

import re

DATE, NUMBER, NAME = "date", "number", "name"

_MONTHS = (
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre|"
    "january|february|march|april|june|july|august|september|october|november|december"
)
# Checked in this order: "Combien…" asks for a number (even "… quand il a faim"), "Depuis quand…" for a date,
# "Qui…", "Où…" for a name.
_ASKS = (
    (NUMBER, re.compile(
        r"\bcombien\b|\bhow (many|much|long|old|far|large|big|tall|high)\b"
        r"|\b(quel|quelle|what|which)(\s+(est|était|is|was))?(\s+(le|la|l['’]|the))?\s*"
        r"(nombre|pourcentage|taux|montant|prix|coût|budget|âge|durée|superficie|population|"
        r"vitesse|distance|hauteur|longueur|poids|température|"
        r"number|percentage|rate|amount|price|cost|age|size|speed|height|length|weight|temperature)\b", re.I)),
    (DATE, re.compile(
        r"\b(quand|when)\b|\b(quelle|which|what) (année|date|époque|décennie|year|date|century|decade)\b"
        r"|\b(en|de|à|dans|in) (quelle|which) (année|date|époque|période|year|century|decade)\b", re.I)),
    (NAME, re.compile(
        r"^\W*(qui|who|whom)\b|\b(qui|who) (est|sont|était|étaient|fut|a|ont|is|was|are|were|has|had|did)\b"
        r"|\b(où|where|whose)\b|\b(quelle|quel|which|what|in which) (ville|pays|région|city|country|region|town)\b",
        re.I)),
)  # fmt: skip
_HOLDS = {
    DATE: re.compile(rf"\b(1[0-9]{{3}}|20[0-9]{{2}})\b|\b({_MONTHS})\b|\bsi[èe]cles?\b|\bcentur(y|ies)\b", re.I),
    # "un", "une", "one" are articles as often as numbers: not counted.
    NUMBER: re.compile(
        r"\d|\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quatorze|quinze|seize|vingt|trente|quarante|cinquante|"
        r"soixante|cents?|mille|millions?|milliards?|dizaines?|douzaines?|centaines?|milliers?|moitié|"
        r"two|three|four|five|seven|eight|nine|ten|twelve|twenty|hundreds?|thousands?|millions?|billions?|dozens?|"
        r"half)\b",
        re.I,
    ),
}
# A name inside a sentence: a capitalised word that does not open it (nor follow a full stop inside it).
_INSIDE = r"(?<![.!?:]\s)(?<=\W)[A-ZÀ-Ý][\w’'-]+"
_NAME_INSIDE = re.compile(_INSIDE)
# Names anywhere: those, and acronyms even where they open a sentence.
_NAME = re.compile(rf"{_INSIDE}|\b[A-ZÀ-Ý]{{2,}}[\w-]*")


def capitalised(text: str) -> list[str]:
    """The names ``text`` writes: capitalised words that do not open a sentence, and acronyms.

    >>> capitalised("L’ONPE et l’Observatoire national de l’Action Sociale. Il siège à Paris.")
    ['ONPE', 'Observatoire', 'Action', 'Sociale', 'Paris']
    """
    return _NAME.findall(text)


# "Qu'est-ce qui…", "ce qui…": a relative "qui", not a question about someone.
_RELATIVE_QUI = re.compile(r"\b(qu['’]est[- ]ce|qu['’]est|ce) qui\b", re.I)


def asked_for(question: str) -> str | None:
    """``date``, ``number`` or ``name`` when the question's wording asks for one; None otherwise.

    >>> asked_for("Qu'est-ce qui a changé en 2000 ?"), asked_for("À quelle vitesse court le guépard quand il a faim ?")
    (None, 'number')
    """
    question = _RELATIVE_QUI.sub(" ", question)
    return next((kind for kind, pattern in _ASKS if pattern.search(question)), None)


def holds(kind: str | None, sentence: str) -> bool:
    """Whether ``sentence`` holds an answer of ``kind`` (always True for a question of no particular kind)."""
    if kind is None:
        return True
    if kind == NAME:
        return _NAME_INSIDE.search(sentence) is not None
    return _HOLDS[kind].search(sentence) is not None


# The plainest ways of asking for a year or a count: "Quand peut-on saisir le juge ?" asks for a condition, and
# "Quel est le coût ?" may be answered « gratuit ».
_PLAIN_ASK = (
    (DATE, re.compile(
        r"\b(en|in|de|of) (quelle|which|what) (année|year)\b|\b(quelle|what|which) (année|year|date)\b"
        r"|\bdepuis quand\b|\bsince when\b|\bwhen (was|were|did)\b", re.I)),
    (NUMBER, re.compile(r"\bcombien\b|\bhow (many|much)\b", re.I)),
)  # fmt: skip


def gives_asked(question: str, answer: list[str], quotes: str) -> bool:
    """Whether an answer made of the claims ``answer`` gives the year or the count ``question`` plainly asks for,
    when the ``quotes`` (the extractive answer) give one; any other question: True.

    >>> quotes = "« Depuis 2006, les Assises réunissent 2000 professionnels. »"
    >>> gives_asked("En quelle année ?", ["Elles ont lieu chaque année."], quotes)
    False
    >>> gives_asked("En quelle année ?", ["En 2006."], quotes), gives_asked("Quand peut-on venir ?", [], quotes)
    (True, True)
    """
    kind = next((kind for kind, pattern in _PLAIN_ASK if pattern.search(question)), None)
    return kind is None or not holds(kind, quotes) or any(holds(kind, claim) for claim in answer)
