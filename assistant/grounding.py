"""Check a generated answer against its passages before anyone sees it.

Every sentence must cite passages it was given, and be supported by them: its content words
found there (lexical support), or its meaning close to one of their sentences (embedding
support), every number it states written there, and every acronym it names known to the corpus.
A sentence that cites nothing, or cites the wrong passage, is re-attached to a passage that
supports it when one does; otherwise it is dropped. Markers are renumbered to the passages
actually used, in order of first use.

Example:
    >>> checked = check_answer("ONPE est membre d'EUSARF [2].", chunks, embeddings)  # doctest: +SKIP
    >>> checked.text, checked.used  # doctest: +SKIP
    ("ONPE est membre d'EUSARF [1].", [1])
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.chunks import Chunk, sentence_spans
from assistant.embeddings import SentenceTransformerEmbeddings
from assistant.lexical import tokenize
from assistant.prompting import NOT_FOUND_MARK

_MARKER = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d+")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,9}\b")
# Support rules, set on true and false claims about ONPE passages (README, "Grounding"): e5's
# cosines are compressed (an unrelated French sentence scores ~0.84), so cosine alone must be high.
LEXICAL_ALONE = 0.5  # share of the sentence's content words found in the cited passages
EMBEDDING_ALONE = 0.88  # cosine with the closest sentence of a cited passage
LEXICAL_WITH_EMBEDDING = (0.25, 0.835)


@dataclass
class Claim:
    """One sentence of the answer, with the passages it cites (0-based) and its support."""

    text: str
    cites: list[int]
    quotes: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Checked:
    """The answer as shown: supported claims, renumbered markers, what was dropped."""

    text: str
    used: list[int]  # passage indices (0-based), in the order of the new numbers
    quotes: dict[int, tuple[int, int]]  # passage index -> document offsets of the supporting sentence
    dropped: list[str]
    not_found: bool = False


def split_claims(text: str) -> list[tuple[str, list[int]]]:
    """Sentences of ``text`` with the marker numbers each carries (markers after the full stop count)."""
    claims: list[tuple[str, list[int]]] = []
    for raw in text.splitlines():
        line = raw.strip().lstrip("-*• ").strip()
        for start, end in sentence_spans(line):
            piece = line[start:end]
            numbers = [int(n) for n in _MARKER.findall(piece)]
            bare = _MARKER.sub("", piece).strip()
            if not any(ch.isalnum() for ch in bare) and claims:  # a marker left alone after a full stop
                claims[-1][1].extend(numbers)
            elif bare:
                claims.append((bare, numbers))
    return claims


class Grounder:
    """Checks claims against passages with the index's own embedder and tokenizer."""

    def __init__(
        self, chunks: list[Chunk], embeddings: SentenceTransformerEmbeddings, known: Callable[[set[str]], set[str]]
    ) -> None:
        """``known`` returns the terms the corpus contains (``LexicalIndex.known``)."""
        self.chunks = chunks
        self.known = known
        self.embeddings = embeddings
        self._sentences: list[list[tuple[int, int]]] = [
            sentence_spans(c.text, c.start) or [(c.start, c.end)] for c in chunks
        ]
        texts = [self._text(i, span) for i, spans in enumerate(self._sentences) for span in spans]
        self._vectors = embeddings.embed_array(texts) if texts else np.zeros((0, embeddings.dimension))
        self._tokens = [set(tokenize(c.text)) for c in chunks]

    def _text(self, i: int, span: tuple[int, int]) -> str:
        chunk = self.chunks[i]
        return chunk.text[span[0] - chunk.start : span[1] - chunk.start]

    def _best_sentence(self, i: int, vector: np.ndarray) -> tuple[float, tuple[int, int]]:
        offset = sum(len(s) for s in self._sentences[:i])
        sims = self._vectors[offset : offset + len(self._sentences[i])] @ vector
        best = int(np.argmax(sims))
        return float(sims[best]), self._sentences[i][best]

    def support(self, claim: str, cites: list[int], vector: np.ndarray) -> dict[int, tuple[int, int]] | None:
        """Supporting sentence per cited passage, or None when the cited passages do not back the claim."""
        if not cites:
            return None
        words = set(tokenize(claim))
        found = set().union(*(self._tokens[i] for i in cites))
        lexical = len(words & found) / len(words) if words else 1.0
        if not self._facts_ok(claim, cites):
            return None
        best = {i: self._best_sentence(i, vector) for i in cites}
        cosine = max(score for score, _ in best.values())
        low_lex, low_cos = LEXICAL_WITH_EMBEDDING
        backed = lexical >= LEXICAL_ALONE or cosine >= EMBEDDING_ALONE or (lexical >= low_lex and cosine >= low_cos)
        return {i: span for i, (_, span) in best.items()} if backed else None

    def _facts_ok(self, claim: str, cites: list[int]) -> bool:
        """Numbers must be in the cited passages; acronyms at least somewhere in the corpus."""
        if not all(any(n in self.chunks[i].text for i in cites) for n in _NUMBER.findall(claim)):
            return False
        acronyms = {t for a in _ACRONYM.findall(claim) for t in tokenize(a)}
        return self.known(acronyms) == acronyms

    def check(self, text: str) -> Checked:
        """Keep the supported claims of ``text``, renumbered; see the module docstring."""
        if NOT_FOUND_MARK in text:
            return Checked("", [], {}, [], not_found=True)
        raw = split_claims(text)
        vectors = self.embeddings.embed_array([c for c, _ in raw]) if raw else np.zeros((0, 1))
        kept: list[Claim] = []
        dropped: list[str] = []
        for (claim, numbers), vector in zip(raw, vectors, strict=True):
            cites = sorted({n - 1 for n in numbers if 1 <= n <= len(self.chunks)})
            quotes = self.support(claim, cites, vector) or self._reattach(claim, vector)
            if quotes:
                kept.append(Claim(claim, sorted(quotes), quotes))
            else:
                dropped.append(claim)
        return _renumber(kept, dropped)

    def _reattach(self, claim: str, vector: np.ndarray) -> dict[int, tuple[int, int]] | None:
        """The single passage that best supports an uncited or mis-cited claim, if any does."""
        ranked = sorted(range(len(self.chunks)), key=lambda i: -self._best_sentence(i, vector)[0])
        return next((q for i in ranked[:3] if (q := self.support(claim, [i], vector))), None)


def _renumber(claims: list[Claim], dropped: list[str]) -> Checked:
    used: list[int] = []
    quotes: dict[int, tuple[int, int]] = {}
    sentences = []
    for claim in claims:
        for i in claim.cites:
            if i not in used:
                used.append(i)
                quotes[i] = claim.quotes[i]
        markers = "".join(f"[{used.index(i) + 1}]" for i in claim.cites)
        body = claim.text if claim.text[-1:] in ".!?…" else claim.text + "."
        sentences.append(f"{body[:-1]} {markers}{body[-1]}")
    return Checked(" ".join(sentences), used, quotes, dropped)
