"""Forms of a word that are the same word: its French dictionary form, its spelling in the other language, and
the words that ask about a name's form rather than its subject. The missing-word check
(:mod:`assistant.answering.answerability`) reads them so as not to report a word the passages do use.

Example:
    >>> lemma("entretiennent") == lemma("entretient"), spelt_alike("zodiac", {"zodiaque"})
    (True, True)
"""

from __future__ import annotations

import math
from collections.abc import Set
from functools import lru_cache

from assistant.indexing.lexical import fold

# Across languages, the first letters a word and its spelling in the other language share at least: five, and
# four fifths of the word ("zodiac", « zodiaque »; not "interview", « intervenants »); the other spelling is at
# most three letters longer (-ic / -ique; not "Macron", « macroéconomique »).
COGNATE_PREFIX = 5
COGNATE_SHARE = 0.8
COGNATE_LONGER = 3


def spelt_alike(word: str, held: Set[str]) -> bool:
    """Whether one of the ``held`` words (accents folded) is ``word`` spelt the other language's way.

    >>> held = {"zodiaque", "intervenants", "montre", "macroeconomique"}
    >>> [spelt_alike(w, held) for w in ("zodiac", "interview", "Montreal", "Macron")]
    [True, False, False, False]
    """
    folded = fold(word.lower())
    need = max(COGNATE_PREFIX, math.ceil(COGNATE_SHARE * len(folded)))
    return len(folded) >= COGNATE_PREFIX and any(
        h[:need] == folded[:need] and need <= len(h) <= len(folded) + COGNATE_LONGER for h in held
    )


# Words asking what a name's letters stand for (« Que signifie le sigle ISPCAN ? »): documents write the name and
# its expansion, not the word itself.
FORM_WORDS = frozenset({"sigle", "acronyme", "abréviation", "initiales", "acronym", "abbreviation", "initials"})


@lru_cache(maxsize=100_000)
def lemma(word: str) -> str:
    """The French dictionary form of ``word`` (simplemma's tables: offline, no model), accents folded.

    >>> lemma("entretiennent"), lemma("entretient"), lemma("salariés")
    ('entretenir', 'entretenir', 'salarie')
    """
    import simplemma

    return fold(simplemma.lemmatize(word, lang="fr"))
