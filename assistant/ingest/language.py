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
