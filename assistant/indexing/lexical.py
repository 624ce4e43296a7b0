"""Lexical side of retrieval: BM25 (bm25s) over French-stemmed, accent-folded tokens.

Questions come in French or English while documents are French; names and acronyms (ESN,
EUSARF, Odas…) are what BM25 catches best, so both languages' stopwords are removed and the
French Snowball stemmer is applied to everything.

Example:
    >>> lex = LexicalIndex.build(["Il participe au réseau EUSARF.", "Les Assises de Rennes."])
    >>> lex.top("réseaux EUSARF", 1)[0][0]
    0
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

_TOKEN = re.compile(r"\w+", re.UNICODE)
# Elided articles (l’ONPE, d’enfants) carry no meaning of their own.
_ELISION = re.compile(r"\b[cdjlmnst]['’]", re.I)
# Question words say what kind of answer is wanted, not what it is about.
_QUESTION_WORDS = frozenset(
    "what which who whom whose when where why how does do did can could would tell list name "  # noqa: SIM905
    "quel quelle quels quelles qui quoi quand où comment pourquoi combien lequel laquelle lesquels lesquelles "
    "est-ce".split()
)
_STOPWORDS = frozenset(STOPWORDS_FRENCH) | frozenset(STOPWORDS_EN) | _QUESTION_WORDS
# Less term saturation and length normalisation than bm25s' defaults (1.5 / 0.75): measured
# better on PIAF in the hybrid (README, "How the settings were chosen").
BM25_PARAMS = {"k1": 0.9, "b": 0.4}
# Stored in the snapshot: an index built with other tokenization or parameters gets its BM25 rebuilt.
VERSION = f"bm25s-lucene-k1={BM25_PARAMS['k1']}-b={BM25_PARAMS['b']}-snowball-fr-ligatures"
# French writes « sœur », « œuvre », « ex æquo »; people type « soeur » (no key for œ): both must match.
# NFD leaves ligatures whole, so they are spelt out first.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
# What ``bm25s.BM25.save`` writes (numpy backend).
_SAVED_FILES = ("params.index.json", "vocab.index.json", "data.csc.index.npy", "indices.csc.index.npy",
                "indptr.csc.index.npy")  # fmt: skip


def fold(text: str) -> str:
    """Lowercase without accents or ligatures: ``Réseaux`` → ``reseaux``, ``Sœur`` → ``soeur``."""
    decomposed = unicodedata.normalize("NFD", text.lower().translate(_LIGATURES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def content_words(text: str) -> list[str]:
    """The words of ``text`` that carry meaning: lowercased, no stopwords, question words or elided articles.

    >>> content_words("Quel est le budget de l’ONPE ?")
    ['budget', 'onpe']
    """
    return [w for w in _TOKEN.findall(_ELISION.sub(" ", text.lower())) if w not in _STOPWORDS and len(w) > 1]


def stems(words: list[str]) -> list[str]:
    """``words`` stemmed (French Snowball) then accent-folded, in order; « œuvres » and « oeuvres » alike.

    >>> stems(["œuvres", "oeuvres", "Sœur", "soeur"])
    ['oeuvr', 'oeuvr', 'soeur', 'soeur']
    """
    return [fold(stem) for stem in _stemmer().stemWords([w.lower().translate(_LIGATURES) for w in words])]


def tokenize(text: str) -> list[str]:
    """Content words of ``text``, stemmed (French Snowball) then accent-folded."""
    return stems(content_words(text))


class LexicalIndex:
    """A BM25 index over a fixed list of texts; positions are the texts' order.

    Build it with :meth:`build`, persist it with :meth:`save`, reopen it with :meth:`load`.
    """

    def __init__(self, bm25: bm25s.BM25, size: int) -> None:
        self._bm25 = bm25
        self.size = size
        self._terms: list[str] | None = None

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        bm25 = bm25s.BM25(**BM25_PARAMS)
        # An empty corpus cannot be indexed by bm25s; one empty document keeps the shape valid.
        bm25.index([tokenize(text) for text in texts] or [[]], show_progress=False)
        return cls(bm25, len(texts))

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), show_progress=False)

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        bm25 = bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
        if int(bm25.scores["num_docs"]) != max(size, 1):  # built over other texts: stale
            raise ValueError(f"BM25 index over {bm25.scores['num_docs']} texts, expected {size}")
        return cls(bm25, size)

    @staticmethod
    def saved_size(directory: Path) -> int | None:
        """How many texts the index saved in ``directory`` covers, without loading it; None when damaged."""
        try:
            if not all((directory / name).is_file() for name in _SAVED_FILES):
                return None
            return int(json.loads((directory / "params.index.json").read_text(encoding="utf-8"))["num_docs"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def known(self, terms: set[str], allowed: np.ndarray | None = None) -> set[str]:
        """Which of ``terms`` (already tokenized) occur somewhere in the indexed texts (with ``allowed``, a mask over
        the texts: somewhere in those)."""
        found = {t for t in terms if t in self._bm25.vocab_dict}
        if allowed is None:
            return found
        return {t for t in found if bool(np.any(self.scores_of([t])[allowed] > 0))}

    def terms(self) -> list[str]:
        """Every indexed term (stems, as :func:`tokenize` writes them); listed once (the index never changes)."""
        if self._terms is None:
            self._terms = list(self._bm25.vocab_dict)
        return self._terms

    def scores_of(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every text for ``tokens``, all known."""
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)[: self.size]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for ``query`` (zeros when no query word is known)."""
        tokens = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not tokens or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return self.scores_of(tokens)

    def translated_scores(self, words: list[tuple[str, frozenset[str]]]) -> np.ndarray:
        """What words of another language add to their own BM25 score when each may also be matched as one of
        its translations: per word (its own stem, its translations' stems), the best-scoring of them counts
        instead of its own stem, as one word would (one match, not one per sense, nor the word twice).

        >>> lex = LexicalIndex.build(["Le comité de pilotage.", "Un état des lieux.", "Rien."])
        >>> (lex.translated_scores([("committe", frozenset({"comit"})), ("stat", frozenset({"etat"}))]) > 0).tolist()
        [True, True, False]
        >>> lex.translated_scores([("comit", frozenset({"comit", "etat"}))]).round(2).tolist()
        [0.0, 0.5, 0.0]
        """
        total = np.zeros(self.size, dtype=np.float32)
        for own, translated in words:
            known = [s for s in translated | {own} if s in self._bm25.vocab_dict]
            if not known or not self.size:
                continue
            best = np.max(np.stack([self.scores_of([s]) for s in known]), axis=0)
            total += best - (self.scores_of([own]) if own in self._bm25.vocab_dict else 0.0)
        return total

    def ideal(self, query: str) -> float:
        """The score of a text of average length holding each query word once.

        A reference for how strong a match is, independent of what else the corpus holds. In
        bm25s' Lucene variant one occurrence at average length scores idf / (1 + k1).
        """
        ids = [self._bm25.vocab_dict[t] for t in set(tokenize(query)) if t in self._bm25.vocab_dict]
        if not ids:
            return 0.0
        indptr = self._bm25.scores["indptr"]
        n = self._bm25.scores["num_docs"]
        df = np.asarray([indptr[i + 1] - indptr[i] for i in ids], dtype=np.float64)
        return float(np.log1p((n - df + 0.5) / (df + 0.5)).sum() / (1 + BM25_PARAMS["k1"]))

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` best (position, score) pairs with a positive score, best first."""
        return best_of(self.scores(query), k)


def best_of(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (position, score) pairs of ``scores`` with a positive score, best first.

    >>> best_of(np.array([0.0, 2.0, 1.0]), 5)
    [(1, 2.0), (2, 1.0)]
    """
    if k <= 0 or not scores.size:
        return []
    k = min(k, scores.size)
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.argsort(-scores[best], kind="stable")]
    return [(int(i), float(scores[i])) for i in best if scores[i] > 0]
