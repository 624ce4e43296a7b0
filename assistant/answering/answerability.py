"""Can the documents answer? A calibrated probability, from retrieval signals that transfer across corpora.

A cosine threshold does not transfer: e5's scores are squeezed, a large corpus has a near match for
almost anything, and English questions over French text score lower. The signals here are read
against the corpus itself (its background, its vocabulary) and against the language (how rare each
word of the question is, from ``wordfreq``): how much of the question the best passages cover, how
far the best cosine stands above unrelated questions, how strong the BM25 match is against an ideal
one, whether the dense and lexical sides agree. A logistic model fitted on PIAF questions with and
without their article in the index, and on questions over a corpus of another domain
(``assistant calibrate``, :mod:`assistant.evaluation.calibration`), turns them into a probability;
isotonic calibration makes that probability mean what it says on held-out questions.

Example (``engine`` a :class:`~assistant.answering.search.SearchEngine` over the ONPE pages):
    >>> asked = "Qu'est-ce que le réseau EuroCAN ?"
    >>> sure = assess(engine, asked, "fr", engine.search(asked))
    >>> off = "Quelle est la recette de la tarte Tatin ?"
    >>> unsure = assess(engine, off, "fr", engine.search(off))
    >>> sure.confidence > 0.5 > unsure.confidence, unsure.missing
    (True, ['tarte', 'Tatin'])
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Set
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.answering.claims import ACRONYM
from assistant.answering.conversation import asks_nothing
from assistant.answering.types import Hit
from assistant.answering.word_forms import FORM_WORDS, lemma, spelt_alike
from assistant.indexing.lexical import content_words, fold, stems
from assistant.ingest.language import is_supported

if TYPE_CHECKING:
    from assistant.answering.search import SearchEngine
    from assistant.config import Settings

# The signals, in the order the model reads them.
FEATURES = (
    "dense_z",  # the best passage cosine against the corpus's background (indexing.background), in std devs
    "dense_gap",  # that cosine minus the median of the other passages retrieved
    "fused_gap",  # the first fused score minus the second
    "bm25_ratio",  # the best BM25 score over that of an ideal match (capped at 2)
    "cover_top1",  # rarity-weighted share of the question's words found in the best passage
    "cover_top3",  # the same in the three best passages
    "cover_corpus",  # the same anywhere in the corpus
    "missing_info",  # how informative the rarest word missing from the three best passages is (0: none)
    "agree",  # 1 when the best passage by cosine is also the best by BM25
    "cross",  # 1 when the question's language is not the best passage's
    "cross_cover",  # cover_top3 across languages (names carry over, other words do not)
    "sentence_best",  # the best cosine between the question and one sentence of the three best passages
    "sentence_gain",  # that cosine minus the best passage's: one sentence that answers stands out
    "sentence_cover",  # the best rarity-weighted share of the question's words within one sentence
)
# A word's weight is its information in the language: 7 - its Zipf frequency (wordfreq), kept within
# [0.5, 7]. "de" weighs 0.5, "budget" 2.2, "ISPCAN" (unknown) 7.
MAX_INFORMATION = 7.0
MIN_INFORMATION = 0.5
# A word this informative (Zipf ≤ 5: "budget", "registre", any name) that the corpus never uses is
# reported as missing (JSON ``missing``, and named when the answer is "not found"). It does not decide on
# its own: users paraphrase ("Qui est à l'origine…", "Que signifie le sigle…"), and on the ONPE set a hard
# rule refused 10 of 46 answerable questions. Across languages only names are looked for
# (NAME_INFORMATION: Zipf ≤ 2, or unknown to the language).
KEY_INFORMATION = 2.0
NAME_INFORMATION = 5.0
# A question needs one word at least this informative (Zipf ≤ 5.5: "event" passes; "since", "city",
# "year" do not) to be looked for at all: "Since when?" alone has nothing a passage could answer.
CONTENT_INFORMATION = 1.5
# An English question's word is looked for in French text when it is a French word too (Zipf ≥ 3: "budget"),
# about as common there (Zipf at most 1 lower: "sit" is 4.9 in English but 3.3 in French, a borrowing).
SHARED_WORD = MAX_INFORMATION - 3.0
SHARED_GAP = 1.0
# How much closer the best sentence must come to the question once a word is dropped for that word to be
# off its topic. A trade-off, swept on the calibration fit split (eval/sweep_off_topic.py, 1,583 questions):
# 0.0 would name a missing word for 6 points more near-fact questions but wrongly for 5.5 % of answerable ones;
# 0.005 keeps that to 2.8 % (held-out split: 3.0 %, near-fact 0.26, near-domain 0.59 abstained or warned).
OFF_TOPIC = 0.005
TOP = 3
MODEL_FILE = "answerability.json"
# The words shown beside a confidence: high from 0.85, medium from 0.6, low below.
HIGH_CONFIDENCE = 0.85
MEDIUM_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Term:
    """A content word of the question, its stem (what passages are matched on), and its weight."""

    word: str
    stem: str
    weight: float


@lru_cache(maxsize=50_000)
def information(word: str, language: str) -> float:
    """How much ``word`` says in ``language``: rare words and names say much, common ones little.

    >>> information("de", "fr"), information("ispcan", "fr")
    (0.5, 7.0)
    """
    from wordfreq import zipf_frequency

    return min(MAX_INFORMATION, max(MIN_INFORMATION, MAX_INFORMATION - zipf_frequency(word, language)))


def question_terms(text: str, language: str) -> list[Term]:
    """The question's content words, one per stem (the first written), each with its weight."""
    words = content_words(text)
    terms: dict[str, Term] = {}
    for word, stem in zip(words, stems(words), strict=True):
        terms.setdefault(stem, Term(word, stem, information(word, language if language in ("fr", "en") else "fr")))
    return list(terms.values())


def coverage(terms: list[Term], found: set[str]) -> float:
    """Rarity-weighted share of ``terms`` whose stem is in ``found`` (0.0 for a question without terms)."""
    total = sum(t.weight for t in terms)
    return sum(t.weight for t in terms if t.stem in found) / total if total else 0.0


@dataclass(frozen=True)
class Assessment:
    """What answerability concluded for one search: the signals, the probability, the missing key words."""

    features: dict[str, float]
    confidence: float
    missing: list[str]
    present: list[str] = field(default_factory=list)
    # Each key word the corpus never uses, with how much nearer the best sentence comes to the question
    # with it than without (below -OFF_TOPIC: reported missing; -inf: other documents use it).
    margins: dict[str, float] = field(default_factory=dict)


def signals(
    engine: SearchEngine,
    query: str,
    language: str,
    hits: list[Hit],
    readable: Set[str] | None = None,
    *,
    elsewhere: Set[str] = frozenset(),
) -> tuple[dict[str, float], dict[str, float], set[str]]:
    """The :data:`FEATURES` of a search for ``query`` (in ``language``), the key words the corpus (the
    ``readable`` documents, when given) never uses with their :func:`topic_margin`, and the stems the best
    passages hold.

    ``elsewhere``: the stems that the documents the asker could have searched use, when they chose some
    (``--source``). A key word those use and the chosen ones do not is missing from the choice as written,
    not paraphrased there.
    """
    terms = question_terms(query, language)
    known = engine.known({t.stem for t in terms}, readable)
    if not hits:
        return dict.fromkeys(FEATURES, 0.0), {t.word: -math.inf for t in terms if t.weight >= KEY_INFORMATION}, set()
    words = [content_words(h.chunk.embedding_text()) for h in hits[:TOP]]  # read once: stems and lemmas below
    passages = [set(stems(w)) for w in words]
    top = set().union(*passages)
    dense = [h.dense for h in hits]
    best_dense = max(range(len(hits)), key=lambda i: dense[i])
    background = engine.snapshot.meta.background
    ideal = engine.snapshot.lexical.ideal(query)
    cross = float(hits[best_dense].chunk.language != language)
    cover_top3 = coverage(terms, top)
    # One passage found (a one-passage corpus, a search limited to a short document): nothing to stand out
    # from, so the gaps say nothing; unknown (NaN) reads as the fitted data's average (Model.raw).
    alone = math.nan if len(hits) < 2 else None
    features = {
        "dense_z": (dense[best_dense] - background.get("mean", 0.0)) / max(background.get("std", 0.0), 0.01)
        if "mean" in background
        else 0.0,
        "dense_gap": dense[best_dense] - float(np.median([d for i, d in enumerate(dense) if i != best_dense]))
        if alone is None
        else alone,
        "fused_gap": hits[0].score - hits[1].score if alone is None else alone,
        "bm25_ratio": min(2.0, max(h.lexical for h in hits) / ideal) if ideal > 0 else 0.0,
        "cover_top1": coverage(terms, passages[0]),
        "cover_top3": cover_top3,
        "cover_corpus": coverage(terms, known),
        "missing_info": max((t.weight for t in terms if t.stem not in top), default=0.0),
        "agree": float(best_dense == max(range(len(hits)), key=lambda i: hits[i].lexical)) if alone is None else alone,
        "cross": cross,
        "cross_cover": cross * cover_top3,
    }
    texts = [h.chunk.slice(s, e) for h in hits[:TOP] for s, e in h.chunk.sentences()]
    vectors = engine.sentence_vectors(texts)
    similarity = vectors @ engine.query_vector(query)
    best = int(np.argmax(similarity))
    features |= {
        "sentence_best": float(similarity[best]),
        "sentence_gain": float(similarity[best]) - dense[best_dense],
        "sentence_cover": max(coverage(terms, set(stems(content_words(text)))) for text in texts),
    }
    # A word written as an acronym (FOO, ADF) is a name in any language, whatever its frequency as a word.
    names = {m.lower() for m in ACRONYM.findall(query)}
    unknown = [
        t for t in terms
        if t.stem not in known and (t.word in names or _checkable(t, hits[best_dense].chunk.language, bool(cross)))
    ]  # fmt: skip
    if unknown:
        # « entretiennent » where the passages write « entretient »: another form of a word they use, not a new word.
        held_lemmas = {lemma(w) for passage in words for w in passage}
        held_words = {fold(w) for passage in words for w in passage} if cross else set()
        unknown = [
            t for t in unknown
            if lemma(t.word) not in held_lemmas and t.word not in FORM_WORDS and not spelt_alike(t.word, held_words)
        ]  # fmt: skip
    margins = {
        t.word: -math.inf if t.stem in elsewhere else topic_margin(engine, query, t.word, vectors[best])
        for t in unknown
    }
    return features, margins, top


def _checkable(term: Term, passage_language: str, cross: bool) -> bool:
    """Whether the corpus could be expected to write ``term`` as the question does (same language, or a name)."""
    if term.weight < KEY_INFORMATION:
        return False
    if not cross or term.weight >= NAME_INFORMATION:
        return True
    return shared_word(term.word, term.weight, passage_language)


def shared_word(word: str, weight: float, other: str) -> bool:
    """Whether ``word`` (of ``weight``, its :func:`information` in its own language) is a word of the ``other``
    language too, about as common there ("budget", "international"), not one it borrows now and then ("sit").

    >>> [shared_word(w, information(w, "en"), "fr") for w in ("international", "sit", "academics")]
    [True, False, False]
    """
    return information(word, other) <= min(SHARED_WORD, weight + SHARED_GAP)


def topic_margin(engine: SearchEngine, query: str, word: str, sentence: np.ndarray) -> float:
    """How much nearer ``sentence`` comes to the question with ``word`` than without it.

    Users paraphrase (``existent`` for ``depuis 2006``): a word the corpus never uses is reported only
    when the passage found is, in meaning too, not about it (a margin below ``-OFF_TOPIC``). A question that
    is nothing but that word ("FOO") has nothing else a passage could be about: -inf.
    """
    without = re.sub(rf"\b{re.escape(word)}\b", " ", query, flags=re.IGNORECASE)
    if not content_words(without):
        return -math.inf
    return float(sentence @ engine.query_vector(query) - sentence @ engine.query_vector(without))


class Model:
    """A logistic model over standardised :data:`FEATURES`, then an isotonic map to calibrated probabilities.

    Stored as JSON (no pickle): means, scales, coefficients, intercept, and the isotonic map's points.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"the answerability model reads {data['features']}, not {list(FEATURES)}: refit it")
        self.data = data
        self.mean = np.asarray(data["mean"], dtype=np.float64)
        self.scale = np.asarray(data["scale"], dtype=np.float64)
        self.coef = np.asarray(data["coef"], dtype=np.float64)
        self.intercept = float(data["intercept"])
        self.curve_x = np.asarray(data["calibration"]["x"], dtype=np.float64)
        self.curve_y = np.asarray(data["calibration"]["y"], dtype=np.float64)

    def raw(self, features: dict[str, float]) -> float:
        """The logistic model's probability, before calibration."""
        x = (np.asarray([features[name] for name in FEATURES]) - self.mean) / self.scale
        x = np.nan_to_num(x, nan=0.0)  # an unknown signal: the average, no evidence either way
        return 1.0 / (1.0 + math.exp(-float(x @ self.coef + self.intercept)))

    def probability(self, features: dict[str, float]) -> float:
        """The calibrated probability that the documents answer (0 to 1)."""
        return float(np.interp(self.raw(features), self.curve_x, self.curve_y))


@lru_cache(maxsize=1)
def shipped_model() -> Model:
    """The model fitted by ``assistant calibrate``, shipped in the package."""
    text = resources.files("assistant.answering").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return Model(json.loads(text))


def assess(
    engine: SearchEngine,
    query: str,
    language: str,
    hits: list[Hit],
    readable: Set[str] | None = None,
    *,
    elsewhere: Set[str] = frozenset(),
) -> Assessment:
    """How likely the passages ``hits`` found for ``query`` answer it, and which key words they lack (judged on
    the ``readable`` documents only, when given; ``elsewhere``: see :func:`signals`)."""
    features, margins, held = signals(engine, query, language, hits, readable, elsewhere=elsewhere)
    terms = question_terms(query, language)
    missing = [as_written(word, query) for word, margin in margins.items() if margin < -OFF_TOPIC]
    # What a partial answer is about: the names held, else the one most informative key word ("organise" no).
    held_terms = sorted((t for t in terms if t.weight >= KEY_INFORMATION and t.stem in held), key=lambda t: -t.weight)
    about = [t for t in held_terms if t.weight >= NAME_INFORMATION] or held_terms[:1]
    present = [as_written(t.word, query) for t in about]
    # Nothing to look for (only stop words, a lone letter, "Since when?", thanks), or a language the signals were
    # not fitted on: no passage can be said to answer.
    nothing = all(t.weight < CONTENT_INFORMATION for t in terms) or asks_nothing(query)
    if not hits or nothing or not is_supported(query):
        return Assessment(features, 0.0, missing, present, margins)
    return Assessment(features, shipped_model().probability(features), missing, present, margins)


def as_written(word: str, text: str) -> str:
    """``word`` (lowercased) as ``text`` writes it: names keep their capitals, a sentence's first word does not.

    >>> as_written("ispcan", "Qui préside l'ISPCAN ?"), as_written("budget", "Budget de l'ONPE ?")
    ('ISPCAN', 'budget')
    """
    found = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
    if found is None or (found.start() == 0 and not found.group(0).isupper()):
        return word
    return found.group(0)


# The cosine-based relevance of earlier versions, still reported in the JSON ("relevance"): the best
# cosine + COVERAGE_WEIGHT × share of question terms known to the corpus + CROSS_LINGUAL_BONUS across languages.
COVERAGE_WEIGHT = 0.05
CROSS_LINGUAL_BONUS = 0.05


def relevance(hits: list[Hit], terms: set[str], known: set[str], language: str) -> float:
    """The best cosine, corrected for vocabulary and language (reported; decisions use the confidence)."""
    if not hits:
        return 0.0
    best = max(hits, key=lambda h: h.dense)
    coverage_share = len(known) / len(terms) if terms else 0.0
    cross = CROSS_LINGUAL_BONUS if best.chunk.language != language else 0.0
    return best.dense + COVERAGE_WEIGHT * coverage_share + cross


def min_confidence(settings: Settings) -> float:
    """The confidence below which both modes abstain: the setting, else the value chosen at fitting."""
    if settings.min_confidence is not None:
        return settings.min_confidence
    return float(shipped_model().data["min_confidence"])


def answerable(confidence: float, threshold: float) -> bool:
    """Whether a question is answered at all (else both modes abstain)."""
    return confidence >= threshold


def level(confidence: float) -> str:
    """``high``, ``medium`` or ``low``: the confidence as a word, for people.

    >>> level(0.95), level(0.7), level(0.3)
    ('high', 'medium', 'low')
    """
    return "high" if confidence >= HIGH_CONFIDENCE else "medium" if confidence >= MEDIUM_CONFIDENCE else "low"


# When the documents more likely than not answer (calibrated). Below, an answer given all the same begins by
# saying it is uncertain (types.UNSURE). Above, the small model's "not found" gives way to the quotes, with a
# notice: it often misses a French passage answering an English question.
CLEAR_CONFIDENCE = 0.5


def clearly_answerable(confidence: float) -> bool:
    """Whether retrieval is sure enough to answer without saying it is uncertain, and to show quotes when the
    language model says "not found"."""
    return confidence >= CLEAR_CONFIDENCE
