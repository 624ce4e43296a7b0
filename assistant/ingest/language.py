"""Which language a question is in (French or English), to answer in kind."""

from __future__ import annotations

import re
from functools import lru_cache

import py3langid

LANGUAGES = ("fr", "en")
# Unmistakable French function words settle short questions the statistical model hesitates on.
_FRENCH_MARKERS = re.compile(
    r"\b(quel(le)?s?|qu['’]|est-ce|où|depuis|combien|pourquoi|comment|les|des|du|une?)\b", re.IGNORECASE
)
_ENGLISH_MARKERS = re.compile(r"\b(what|which|who|when|where|why|how|the|does|is|are)\b", re.I)


@lru_cache(maxsize=1)
def _restrict() -> None:
    py3langid.set_languages(list(LANGUAGES))


def detect_language(text: str) -> str:
    """``"fr"`` or ``"en"``; French when in doubt (the corpus and users are French)."""
    french, english = len(_FRENCH_MARKERS.findall(text)), len(_ENGLISH_MARKERS.findall(text))
    if french != english:
        return "fr" if french > english else "en"
    _restrict()
    language, _ = py3langid.classify(text)
    return language if language in LANGUAGES else "fr"


_WORD = re.compile(r"[^\W\d_]{2,}")
# Share of a question's common words that must be French or English words (Zipf ≥ 3 in either).
KNOWN_SHARE = 0.6


def is_supported(text: str) -> bool:
    """Whether ``text`` reads as French or English; names (capitalised inside the text) are not counted.

    >>> is_supported("Which networks is ONPE a member of?"), is_supported("Wie viele Kinder leben in Heimen?")
    (True, False)
    """
    from wordfreq import zipf_frequency

    found = _WORD.findall(text)
    words = [w.lower() for i, w in enumerate(found) if i == 0 or not w[0].isupper()]
    if len(words) < 3:
        return True
    known = [max(zipf_frequency(w, "fr"), zipf_frequency(w, "en")) >= 3.0 for w in words]
    return sum(known) >= KNOWN_SHARE * len(words)
