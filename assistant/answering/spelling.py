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

import numpy as np

from assistant.answering.answerability import MAX_INFORMATION, information
from assistant.indexing.lexical import LexicalIndex, best_of, content_words, fold, stems

# Shorter words are too often one letter away from another real word.
MIN_LENGTH = 5
# Words of one question whose spelling is looked for in the whole corpus.
MAX_CORPUS_LOOKUPS = 3


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


def unknown_word(word: str) -> bool:
    """Whether ``word`` is long enough and in no French or English dictionary (wordfreq knows it in neither: the
    most information a word can carry)."""
    lowered = word.lower()
    return len(lowered) >= MIN_LENGTH and min(information(lowered, "fr"), information(lowered, "en")) >= MAX_INFORMATION


def misspelling_of(word: str, words: Iterable[str]) -> str | None:
    """The word of ``words`` that ``word`` mistypes, if ``word`` is in no dictionary (:func:`unknown_word`) and is
    one edit away from it; else None."""
    if not unknown_word(word):
        return None
    return next((w for w in words if one_edit(word.lower(), w.lower())), None)


def corpus_spelling(
    word: str, index: LexicalIndex, text_of: Callable[[int], str], allowed: np.ndarray | None = None
) -> str | None:
    """The word the indexed texts (``text_of(position)``; with ``allowed``, a mask over them, only those) write that
    ``word`` mistypes, looked for in the whole corpus: the most used term one typing slip from it, in a form
    of it the typed word slips from (accents aside).

    For a mistyped word the question hinges on (« Combien coûte le joural ? »), the passages found are about
    something else, so :func:`respell` cannot find its spelling among them. Only a word typed in lower case: a
    name the documents do not hold is more often another name than a typo.
    """
    if not word.islower() or not unknown_word(word):
        return None
    typed = stems([word])[0]
    near = {t for t in index.terms() if abs(len(t) - len(typed)) <= 1 and one_edit(typed, t)}
    if not near:
        return None

    # Scored in the readable texts only: which term wins must not depend on what the others hold.
    scores = {
        t: index.scores_of([t]) if allowed is None else np.where(allowed, index.scores_of([t]), 0.0) for t in near
    }
    for term in sorted(near, key=lambda t: (-int(np.count_nonzero(scores[t] > 0)), t)):
        best = best_of(scores[term], 5)
        # Of its forms (« journal », « journaux »), one the typed word slips from, accents aside: stems one slip
        # apart can be words two apart (« lenac » / « menacé »).
        written = [w for p, _ in best for w in content_words(text_of(p)) if stems([w])[0] == term]
        if form := next((w for w in written if one_edit(fold(word), fold(w))), None):
            return form
    return None


def respell(
    query: str,
    passages: Iterable[str],
    known: Callable[[set[str]], set[str]],
    elsewhere: Callable[[str], str | None] | None = None,
) -> tuple[str, list[str]]:
    """``query`` with each word the corpus never uses (``known``: the stems it does) and that mistypes a word of
    ``passages`` (or, when they hold none, the word ``elsewhere`` gives: :func:`corpus_spelling`) written as that
    word, and the words replaced, each as ``"typed → written"``.

    >>> respell("Quelles sont les missions de l'obsevatoire ?", ["L'observatoire a deux missions."], lambda s: set())
    ("Quelles sont les missions de l'observatoire ?", ['obsevatoire → observatoire'])
    """
    words = content_words(query)
    written = stems(words)
    used = known(set(written))
    unknown = list(dict.fromkeys(w for w, stem in zip(words, written, strict=True) if stem not in used))
    held = {w for text in passages for w in content_words(text)} if unknown else set()
    replaced = []
    lookups = MAX_CORPUS_LOOKUPS  # each scans the corpus's terms: a question of made-up words must stay cheap
    for word in unknown:
        fix = misspelling_of(word, held)
        typed = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", query, flags=re.IGNORECASE)
        if not fix and elsewhere and typed and lookups and typed.group(0).islower() and unknown_word(word):
            lookups -= 1
            fix = elsewhere(typed.group(0))
        if fix:
            query = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", fix, query, flags=re.IGNORECASE)
            replaced.append(f"{word} → {fix}")
    return query, replaced
