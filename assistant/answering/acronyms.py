"""Acronyms as the corpus defines them: « Observatoire national de l’Action Sociale (Odas) », « ESN (European
Social Network) ». A sentence that writes the expansion names the acronym, and the other way round.

Example:
    >>> found = definitions(["organisées avec l’Observatoire national de l’Action Sociale (Odas) et l’ADF.",
    ...                      "L’Observatoire est membre d’ESN (European Social Network)."])
    >>> found["odas"], found["esn"]
    ('Observatoire national de l’Action Sociale', 'European Social Network')
    >>> aliases = {acronym: alias_stems(expansion) for acronym, expansion in found.items()}
    >>> sorted(mentions({"observatoir", "national", "action", "social", "reunion"}, {"odas", "budget"}, aliases))
    ['odas']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.indexing.lexical import content_words, fold, stems, tokenize

# An acronym in parentheses after its expansion, or an expansion in parentheses after its acronym.
_AFTER = re.compile(r"\((?P<acronym>[A-ZÀ-Ý][A-Za-zÀ-ÿ]{1,9})\)")
_BEFORE = re.compile(r"\b(?P<acronym>[A-ZÀ-Ý][A-Za-zÀ-ÿ]{1,9})\s+\((?P<expansion>[^()]{3,120})\)")
_WORD = re.compile(r"[\w’'-]+")
# Words an acronym skips: « Observatoire national de l’Action Sociale » is Odas, not « Ondlas ».
_SKIPPED = frozenset("de du des la le les l d et en pour à au aux of the and for in on".split())  # noqa: SIM905
MAX_WORDS = 10
# A sentence names an acronym through its expansion when it writes this share of the expansion's words.
ALIAS_SHARE = 0.75


def _is_acronym(word: str) -> bool:
    return sum(ch.isupper() for ch in word) >= 2


def _initials(words: list[str]) -> str:
    kept = [w.split("’")[-1].split("'")[-1] for w in words]
    return "".join(w[0].lower() for w in kept if w and fold(w) not in _SKIPPED)


def _expansion_before(text: str, acronym: str) -> str | None:
    """The fewest words just before ``(acronym)``, back to the last punctuation, that begin with its first
    letter, hold half its other letters as initials, and are about as many as its letters."""
    text = re.split(r"[(),;:.«»]", text)[-1]
    written = _WORD.findall(text)[-MAX_WORDS:]
    words = [w.split("’")[-1].split("'")[-1] for w in written]
    letters = fold(acronym)
    for k in range(2, len(words) + 1):
        first, initials = words[-k], _initials(words[-k:])
        if fold(first) in _SKIPPED or fold(first[:1]) != letters[0] or len(initials) < max(2, len(letters) - 2):
            continue
        if 2 * sum(ch in initials for ch in letters[1:]) >= len(letters) - 1:
            return text[text.rindex(written[-k]) :].strip().removeprefix(written[-k][: len(written[-k]) - len(first)])
        return None
    return None


def _key(acronym: str) -> str:
    return next(iter(tokenize(acronym)), fold(acronym))


def definitions(texts: Iterable[str]) -> dict[str, str]:
    """Acronym (as a search stem) → expansion, as first defined in ``texts``."""
    found: dict[str, str] = {}
    for text in texts:
        for match in _AFTER.finditer(text):
            # « (Odas) » has one capital: the initials before it are the evidence.
            acronym = match.group("acronym")
            if _key(acronym) not in found:
                expansion = _expansion_before(text[max(0, match.start() - 300) : match.start()], acronym)
                if expansion:
                    found[_key(acronym)] = expansion
        for match in _BEFORE.finditer(text):
            acronym, expansion = match.group("acronym"), match.group("expansion").strip()
            inside = _WORD.findall(expansion)
            starts = len(inside) >= 2 and _initials(inside)[:1] == fold(acronym)[:1]
            if _is_acronym(acronym) and _key(acronym) not in found and starts:
                found[_key(acronym)] = expansion
    return found


def alias_stems(expansion: str) -> set[str]:
    """The stems of an expansion's content words (what a sentence must write to name the acronym)."""
    return set(stems(content_words(expansion)))


def names_it(tokens: set[str], alias: set[str]) -> bool:
    """Whether a text of stems ``tokens`` writes most of an expansion's stems ``alias``."""
    return bool(alias) and len(alias & tokens) >= ALIAS_SHARE * len(alias)


def mentions(tokens: set[str], focus: set[str], aliases: dict[str, set[str]]) -> set[str]:
    """The ``focus`` stems a text of stems ``tokens`` names: as written, or through an acronym's expansion
    (``aliases``: acronym stem → its expansion's stems), in either direction."""
    named = focus & tokens
    for acronym in (focus | tokens) & aliases.keys():
        alias = aliases[acronym]
        if acronym in focus and names_it(tokens, alias):
            named.add(acronym)
        if acronym in tokens and names_it(focus, alias):
            named |= alias & focus
    return named
