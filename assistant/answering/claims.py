"""Claims: a generated answer split into pieces that each carry their citation markers, and the checked answer
rebuilt from the claims kept, markers renumbered to the passages used; and what can be read from a claim's own
wording: a model looping (:func:`collapse_repeats`, :func:`said_once`, :func:`looping`), a number counting
another thing than its source does (:func:`miscounted`), a name written more often than its source writes it
(:func:`named_more`), giving its own words again as a cause
(:func:`restated_cause`), or leaving out what the source attaches to a fact
(:func:`dropped_qualifier`); and which claims were checked across languages (:func:`across_languages`).

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
    reason: str = ""  # why a claim is partial: what its source attaches that it leaves out (dropped_qualifier)


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


def named_more(claim: str, names: set[str], stating: str) -> bool:
    """Whether the claim writes one of its ``names`` (stems) more often than the sentence stating it does, which
    names it: the name then plays a part of its own, usually a subject grafted onto what someone else did.

    >>> named_more("L'UNESCO a estimé les publications de l'UNESCO comme une ingérence.", {"unesco"},
    ...            "Estimant les publications de l'UNESCO comme une ingérence, l'Afrique du Sud l'a quittée.")
    True
    >>> named_more("L'ONPE est membre d'ESN.", {"onpe", "esn"}, "L'ONPE est membre d'ESN (European Social Network).")
    False
    """
    said, source = Counter(tokenize(claim)), Counter(tokenize(stating))
    return any(said[n] > source[n] >= 1 for n in names)


# What a source may attach to what it states; a claim that leaves it out says more than the source.
_CONDITION = re.compile(
    r"\b(uniquement|seulement) (si|lorsque|quand|dans|pour|en cas)\b|\bsous (certaines )?(conditions?|réserve)\b"
    r"|\bà (la )?condition\b|\bsauf\b|\bexcept(é|ion)?\b|\bonly (if|when|for|in)\b|\bunless\b|\bprovided that\b"
    r"|\bsubject to\b",
    re.IGNORECASE,
)
# A number given as an approximation or a bound (« près de 2000 », "more than 300").
_APPROXIMATE = re.compile(
    r"\b(près d[e'’]|environ|presque|quelque|plus d[e'’]|moins d[e'’]|au moins|au plus|jusqu['’]à|about|around"
    r"|approximately|nearly|almost|roughly|some|over|more than|less than|fewer than|at least|at most|up to|under)"
    r"\s+(\d+)",
    re.IGNORECASE,
)
_APPROXIMATE_SAID = re.compile(r"\b(environ|approximately|about|roughly|or so)\b", re.IGNORECASE)
# A share of a whole (« la majorité des coutumes », "most countries"): a claim about the noun that keeps no share
# word says it of all. Not « plusieurs », "many" (several of a kind, not a part of a whole), nor "the most", "at most".
_SHARE = re.compile(
    r"\b(?:la plupart|la majorité|une partie|une minorité|certaine?s|(?<!the )(?<!at )most"
    r"|(?:a|the) (?:majority|minority)|some)\s+(?:d(?:es|e|u)\s+(?:la\s+|l['’])?|d['’]|of(?: the)?\s+)?(\w+)",
    re.IGNORECASE,
)
_SHARE_SAID = re.compile(
    r"\b(plupart|majorité|partie|minorité|certaine?s|quelques|most|majority|minority|some|part|few)\b", re.IGNORECASE
)
# An aim, not a result: what follows it (up to the sentence's end) was sought, not necessarily obtained.
_AIM = re.compile(
    r"\b(dans l['’]objectif d|dans le but d|afin d|en vue d|vis(e|ent|ait|aient|ant) à|cherch(e|ent|ait|aient|ant) à"
    r"|a pour (objectif|but) d|ont pour (objectif|but) d|in order to|aim(s|ed|ing)? (to|at)"
    r"|with the (aim|goal|purpose) of|seek(s|ing)? to|sought to)",
    re.IGNORECASE,
)
_AIM_SAID = re.compile(
    r"\b(afin|objectifs?|but|vis\w*|cherch\w*|tent\w*|souhait\w*|aim\w*|goals?|purpose|intend\w*|seek\w*|sought"
    r"|tr(y|ies|ied)|attempt\w*|wanted|(in order|so as) to)\b|\bpour\s+(\w+['’])?\w+(er|ir|re)\b",
    re.IGNORECASE,
)
# Reported, not asserted: « Selon Madame Campan, la reine aurait déclaré… »; a claim must keep who says it.
_REPORTED = re.compile(
    r"\bselon\b|^\W*d['’]après\b|\b(according to|reportedly|allegedly|supposedly|(is|are|was|were) said to)\b",
    re.IGNORECASE,
)
_REPORTED_SAID = re.compile(
    r"\b(selon|d['’]après|according|reportedly|allegedly|supposedly|said to|claim\w*|affirm\w*|rapport\w*|report\w*)\b",
    re.IGNORECASE,
)
# Someone's view given as reported speech (« L’IASP explique notamment que la douleur devrait… »): a claim stating
# what follows « que » as the text's own leaves out who holds it (sample 7, 2026-12-07). Opinion verbs only: « indique
# que », « prévoit que » are how a procedure or a law states its own rules.
_SPEECH = r"(?:\s+(?:notamment|aussi|également|alors|also|further))?\s+(?:that\b|qu(?:e\b|['’]))"
# Not a noun (« l’estime que », « la pensée que »), nor the text's own voice (« ce qui explique que »,
# « on estime que »).
_REPORTED_SPEECH = re.compile(
    r"(?<!l['’])(?<!\bla )(?<!\bune )(?<!\bcette )(?<!\bce qui )(?<!\bcela )(?<!\bceci )(?<!\bqui )(?<!\bon )"
    r"\b(?:expliqu|estim|affirm|déclar|considèr|considér|pens|prétend)(?:e|es|ent|ait|aient|é)?" + _SPEECH,
    re.IGNORECASE,
)
# A claim that keeps the report says who speaks: "He stated that…", « elle a déclaré que… ».
_SPEECH_SAID = re.compile(
    r"\b(?:sa(?:y|ys|id)|stat|declar|explain|claim|argu|believ|consider|think|thought|recogni[sz]|admit|acknowledg"
    r"|assert|insist|note|writ|wrote|dit|dis|expliqu|estim|affirm|consid|pens|prétend|reconn|admet|écri|soulign"
    r"|assur)\w*" + _SPEECH,
    re.IGNORECASE,
)
# Hypothetical, not asserted (« elle aurait déclaré »): the claim must keep some doubt.
_HYPOTHETICAL = re.compile(r"\b(aurai(t|ent)|serai(t|ent)|pourrai(t|ent)|(may|might|could) have)\b", re.IGNORECASE)
_DOUBT_SAID = re.compile(
    r"\b(aurai\w*|serai\w*|pourrai\w*|peut-être|probablement|possible\w*|may|might|could|would|possibly|perhaps"
    r"|probably|likely)\b",
    re.IGNORECASE,
)


def dropped_qualifier(claim: str, sources: str) -> str:
    """What the source sentences attach to the fact the claim states and the claim leaves out: ``"condition"``,
    ``"approximation"``, ``"share"``, ``"aim"``, ``"reported"``; ``""`` when nothing. Either language on either
    side, except for aims: the claim must reuse two words of what was sought.

    >>> dropped_qualifier("2000 professionals attend [1].", "Elles réunissent près de 2 000 professionnels.")
    'approximation'
    >>> dropped_qualifier("About 2000 professionals attend.", "Elles réunissent près de 2 000 professionnels.")
    ''
    >>> coutumes = "La majorité des coutumes reconnaissent que la cour doit compter quatre vassaux."
    >>> [dropped_qualifier(c, coutumes) for c in ("Les coutumes reconnaissent que la cour doit compter quatre "
    ...     "vassaux.", "La plupart des coutumes exigent quatre vassaux.")]
    ['share', '']
    >>> dropped_qualifier("La population n’a pas accès à l’eau.", "Une partie de la population n’a pas accès à l’eau.")
    'share'
    >>> [dropped_qualifier("It is an important network.", "It is the most important network in Europe."),
    ...  dropped_qualifier("Members serve 5 years.", "Members serve at most 5 years.")]
    ['', 'approximation']
    >>> dropped_qualifier("La Société a obtenu une réforme du parlement.",
    ...                   "Il crée la Société dans l’objectif d’obtenir une réforme du parlement.")
    'aim'
    >>> dropped_qualifier("La Société a été créée en 1791.", "Il crée la Société en 1791 afin d’obtenir une réforme.")
    ''
    >>> dropped_qualifier("La reine a déclaré que l’argent serait mieux dépensé.",
    ...                   "Selon Madame Campan, la reine aurait déclaré que l’argent serait mieux dépensé.")
    'reported'
    >>> iasp = "L’IASP explique notamment que la douleur chronique devrait être considérée en tant que maladie."
    >>> dropped_qualifier("La douleur chronique devrait être considérée en tant que maladie.", iasp)
    'reported'
    >>> dropped_qualifier("The IASP explains that chronic pain should be considered a disease.", iasp)
    ''
    >>> dropped_qualifier("Le dossier doit être déposé avant le 1er mars.", "Le décret indique que le dossier doit "
    ...                   "être déposé avant le 1er mars.")
    ''
    >>> [dropped_qualifier(c, s) for c, s in [
    ...     ("300 000 enfants sont suivis.", "On estime que 300 000 enfants sont suivis."),
    ...     ("Le retard vient du froid.", "Le froid, ce qui explique que le retard soit long."),
    ...     ("Elle lui porte de l’estime.", "C’est l’estime que je lui porte."),
    ...     ("Le budget est voté.", "Le ministre déclare que la loi est juste. Le budget est voté.")]]
    ['', '', '', '']
    """
    claim = MARKER.sub(" ", claim)
    if _CONDITION.search(sources) and not _CONDITION.search(claim):
        return "condition"
    flat = ungroup(claim)
    hedged = {m.group(2) for m in _APPROXIMATE.finditer(ungroup(sources))}
    bare = set(re.findall(r"\d+", flat)) - {m.group(2) for m in _APPROXIMATE.finditer(flat)}
    if hedged & bare and not _APPROXIMATE_SAID.search(flat):  # « 2000 professionnels environ » keeps it
        return "approximation"
    words = set(tokenize(claim))
    shared = {t for m in _SHARE.finditer(sources) for t in tokenize(m.group(1))}
    if shared & words and not _SHARE_SAID.search(claim):
        return "share"
    for aim in _AIM.finditer(sources):
        sought = re.split(r"[.;:!?]", sources[aim.end() :], maxsplit=1)[0]
        if len(words & set(tokenize(sought))) >= 2 and not _AIM_SAID.search(claim):
            return "aim"
    reported = _REPORTED.search(sources) and not _REPORTED_SAID.search(claim)
    # Reported speech counts when the claim states what was said (two of its words) without who says it.
    said = (re.split(r"[.;!?]", sources[m.end() :], maxsplit=1)[0] for m in _REPORTED_SPEECH.finditer(sources))
    reported = reported or (
        any(len(words & set(tokenize(part))) >= 2 for part in said) and not _SPEECH_SAID.search(claim)
    )
    return "reported" if reported or (_HYPOTHETICAL.search(sources) and not _DOUBT_SAID.search(claim)) else ""


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
