"""Qualifiers: what a source sentence attaches to the fact it states — a condition, an approximation or a bound,
a share of a whole, an aim, a report — and a claim leaves out, which makes the claim ``partial``.

Example:
    >>> dropped_qualifier("Les coutumes exigent quatre vassaux.", "La plupart des coutumes exigent quatre vassaux.")
    'share'
"""

from __future__ import annotations

import re

from assistant.answering.claims import ungroup
from assistant.answering.types import MARKER
from assistant.indexing.lexical import tokenize

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
