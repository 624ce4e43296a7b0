"""Misspelt words: a question's word no dictionary knows, one typing slip away from a word the passages use.

Real questions carry typos (« éseau ferroviaire », « obsevatoire »). Such a word is the passages' word mistyped,
not a subject the documents never mention: the search misses it (BM25 knows no such word) and naming it as
missing would send the reader away. The question is searched again with the passages' word.

Example:
    >>> misspelling_of("éseau", {"réseau", "ferroviaire"}), misspelling_of("Bresse", {"Brest"})
    ('réseau', None)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from assistant.answering.answerability import MAX_INFORMATION, information
from assistant.indexing.lexical import content_words, stems

# Shorter words are too often one letter away from another real word.
MIN_LENGTH = 5


def one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter added, removed, replaced, or two neighbours swapped.

    >>> one_edit("supermachés", "supermarchés"), one_edit("reseau", "resaeu"), one_edit("poste", "postes")
    (True, True, True)
    >>> one_edit("zodiac", "zodiaque"), one_edit("abc", "abc")
    (False, False)
    """
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    if len(a) == len(b):
        swapped = a[start + 2 :] == b[start + 2 :] and a[start : start + 2] == b[start : start + 2][::-1]
        return a[start + 1 :] == b[start + 1 :] or swapped
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[start + 1 :] == shorter[start:]


def misspelling_of(word: str, words: Iterable[str]) -> str | None:
    """The word of ``words`` that ``word`` mistypes, if ``word`` is in no French or English dictionary
    (wordfreq knows it in neither: the most information a word can carry) and is one edit away from it; else
    None."""
    lowered = word.lower()
    if len(lowered) < MIN_LENGTH or min(information(lowered, "fr"), information(lowered, "en")) < MAX_INFORMATION:
        return None
    return next((w for w in words if one_edit(lowered, w.lower())), None)


def respell(query: str, passages: Iterable[str], known: Callable[[set[str]], set[str]]) -> tuple[str, list[str]]:
    """``query`` with each word the corpus never uses (``known``: the stems it does) and that mistypes a word of
    ``passages`` written as that word, and the words replaced, each as ``"typed → written"``.

    >>> respell("Quelles sont les missions de l'obsevatoire ?", ["L'observatoire a deux missions."], lambda s: set())
    ("Quelles sont les missions de l'observatoire ?", ['obsevatoire → observatoire'])
    """
    words = content_words(query)
    written = stems(words)
    used = known(set(written))
    unknown = [w for w, stem in zip(words, written, strict=True) if stem not in used]
    held = {w for text in passages for w in content_words(text)} if unknown else set()
    replaced = []
    for word in unknown:
        if fix := misspelling_of(word, held):
            query = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", fix, query, flags=re.IGNORECASE)
            replaced.append(f"{word} → {fix}")
    return query, replaced
