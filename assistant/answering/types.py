"""What answering produces and passes around: hits, citations, answers, and what retrieval found.

An :class:`Answer` is what every interface shows (CLI text and ``--json``, web chat, ``/ask`` API);
each ``[n]`` marker in its text has the :class:`Citation` numbered ``n``.

Example:
    >>> answer = Answer("Qui ?", "D’après les documents : « L’ONPE est membre d’ESN. » [1]", False, "extractive", "fr")
    >>> markers(answer.answer), answer.as_json()["abstained"]
    ({1}, False)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.ingest.chunks import Chunk, Span

NOT_FOUND = {
    "fr": "Je n’ai pas trouvé la réponse dans les documents.",
    "en": "The answer is not in the documents.",
}
# When the search was limited to documents the user chose.
NOT_FOUND_CHOSEN = {
    "fr": "Je n’ai pas trouvé la réponse dans les documents choisis.",
    "en": "The answer is not in the chosen documents.",
}
# The same, naming the question's key words that the documents never use.
NOT_MENTIONED = {
    "fr": "Je n’ai pas trouvé la réponse dans les documents : ils ne mentionnent pas {words}.",
    "en": "The answer is not in the documents: they do not mention {words}.",
}
# Before an answer whose passages never use some of the question's key words.
PARTIAL = {
    "fr": "Les documents ne mentionnent pas {words} ; voici ce qu’ils disent de plus proche.",
    "en": "The documents do not mention {words}; here is what they say that comes closest.",
}
# The same when the passages hold the question's other key words: what they are about, then what they lack.
PARTIAL_ABOUT = {
    "fr": "Les documents parlent de {about} mais ne mentionnent pas {words} ; voici ce qu’ils en disent.",
    "en": "The documents speak of {about} but do not mention {words}; here is what they say.",
}
# Before an answer given although the documents more likely than not do not answer (calibrated confidence
# below one half): what follows may be near the question without answering it.
UNSURE = {
    "fr": "Réponse incertaine : les documents ne répondent peut-être pas à cette question ; "
    "voici ce qui s’en approche.",
    "en": "Uncertain answer: the documents may not answer this question; here is what comes closest.",
}
QUOTES = {"fr": "« {} »", "en": "“{}”"}
# Before an answer to a question whose mistyped words were searched as the documents write them.
RESPELLED = {"fr": "Recherche faite avec {pairs}.", "en": "Searched for {pairs}."}
RESPELLED_PAIR = {"fr": "{written} pour {typed}", "en": "{written} (the question writes {typed})"}
# A citation marker in an answer's text: ``[2]``.
MARKER = re.compile(r"\[(\d+)\]")
# What the model writes when the passages do not answer (the system prompt asks for it).
NOT_FOUND_MARK = "NOT_FOUND"


# In an extractive answer a marker follows its quote's closing guillemet: a "[3]" inside a quote is the document's
# own (a footnote, "publié en [1987]"), not a citation.
QUOTE_MARKER = re.compile(r"(?<=» )\[(\d+)\]")


def marker_pattern(mode: str) -> re.Pattern[str]:
    """How citation markers are found in an answer of ``mode`` (see :data:`QUOTE_MARKER`)."""
    return QUOTE_MARKER if mode == "extractive" else MARKER


def markers(text: str, mode: str = "llm") -> set[int]:
    """The citation numbers written in ``text`` (an answer of ``mode``).

    >>> sorted(markers("ESN [1], EUSARF [2][1].")), markers("« Publié en [1987]. » [1]", "extractive")
    ([1, 2], {1})
    """
    return {int(n) for n in marker_pattern(mode).findall(text)}


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with the evidence for it."""

    chunk: Chunk
    dense: float  # cosine similarity to the question
    lexical: float  # BM25 score (0 when no question word matches)
    score: float  # fused score in [0, 1], what hits are ordered by


# A quoted span: the chunk it lies in, its document offsets, and the score of the hit it came from.
Quote = tuple[Chunk, int, int, float]


@dataclass
class Citation:
    n: int
    source: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float
    quote_start: int
    quote_end: int
    pages: list[int] = field(default_factory=list)  # the quote's page(s), paged formats only
    ocr: bool = False  # the quote was read from a scanned page

    @classmethod
    def of(cls, n: int, chunk: Chunk, score: float, quote: Span) -> Citation:
        """Citation ``[n]`` of ``chunk``, quoting the document span ``quote``."""
        marks = chunk.pages_of(*quote)
        pages, ocr = [page for _, page, _ in marks], any(read for _, _, read in marks)
        return cls(n, chunk.source, chunk.title, chunk.section, chunk.text, chunk.start, chunk.end, score, *quote,
                   pages, ocr)  # fmt: skip

    @property
    def where(self) -> str:
        """« p. 12 » / « p. 12-13 » for a paged document, else "".

        >>> Citation(1, "r.pdf", "R", "", "", 0, 1, 1.0, 0, 1, [12, 13]).where
        'p. 12-13'
        """
        if not self.pages:
            return ""
        return f"p. {self.pages[0]}" + (f"-{self.pages[-1]}" if self.pages[-1] != self.pages[0] else "")

    def as_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "section": self.section,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
            "quote": {"start": self.quote_start, "end": self.quote_end},
            "page": self.pages[0] if self.pages else None,
            "pages": self.pages,
            "ocr": self.ocr,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Citation:
        """The citation that :meth:`as_json` wrote (a saved conversation reopened)."""
        quote = data["quote"]
        return cls(data["n"], data["source"], data["title"], data["section"], data["text"], data["start"],
                   data["end"], data["score"], quote["start"], quote["end"], list(data.get("pages") or []),
                   bool(data.get("ocr")))  # fmt: skip


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    mode: str
    language: str
    citations: list[Citation] = field(default_factory=list)
    relevance: float = 0.0
    # Why the answer is not what the mode promised (LLM unreachable, fallback), for the user.
    notice: str | None = None
    # Generated sentences removed because the passages did not support them.
    dropped: list[str] = field(default_factory=list)
    query: str | None = None
    # The calibrated probability that the documents answer (answering.answerability).
    confidence: float = 0.0
    # Key words of the question that no retrieved passage holds.
    missing: list[str] = field(default_factory=list)
    # Each claim of the answer: {"text", "status": supported | partial | unsupported, "citations": [n]}.
    claims: list[dict[str, Any]] = field(default_factory=list)
    # The documents the search was limited to (patterns); empty: the whole corpus.
    sources: list[str] = field(default_factory=list)
    # Given although the documents more likely than not do not answer (said first: UNSURE).
    uncertain: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "mode": self.mode,
            "language": self.language,
            "relevance": round(self.relevance, 4),
            "confidence": round(self.confidence, 4),
            "citations": [c.as_json() for c in self.citations],
            "notice": self.notice,
            "dropped": self.dropped,
            "query": self.query,
            "missing": self.missing,
            "claims": self.claims,
            "sources": self.sources,
            "uncertain": self.uncertain,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Answer:
        """The answer that :meth:`as_json` wrote.

        >>> Answer.from_json(Answer("q", "a", False, "llm", "fr", confidence=0.5).as_json()).confidence
        0.5
        """
        citations = [Citation.from_json(c) for c in data.get("citations", [])]
        return cls(data["question"], data["answer"], data["abstained"], data["mode"], data["language"], citations,
                   data.get("relevance", 0.0), data.get("notice"), list(data.get("dropped", [])), data.get("query"),
                   data.get("confidence", 0.0), list(data.get("missing", [])), list(data.get("claims", [])),
                   list(data.get("sources", [])), bool(data.get("uncertain", False)))  # fmt: skip


@dataclass
class Retrieved:
    """What retrieval found for a question: the passages and whether they can answer it."""

    question: str
    language: str
    query: str
    hits: list[Hit]
    terms: set[str]
    relevance: float
    answerable: bool
    confidence: float = 0.0
    missing: list[str] = field(default_factory=list)
    # Key words of the question that the best passages do hold (what a partial answer is about).
    present: list[str] = field(default_factory=list)
    # The documents the search was limited to (patterns), if any.
    sources: tuple[str, ...] = ()
    # Answered although the confidence is below one half (answerability.clearly_answerable): said first.
    unsure: bool = False
    # Mistyped words searched as the passages write them (``"pilotgae → pilotage"``): said first.
    respelled: list[str] = field(default_factory=list)

    def abstention(self, mode: str) -> Answer:
        """The honest "not in the documents", in the question's language, naming the key words never used."""
        text = (NOT_FOUND_CHOSEN if self.sources else NOT_FOUND)[self.language]
        if self.missing and not self.sources:
            text = NOT_MENTIONED[self.language].format(words=self._missing_words())
        return Answer(self.question, self._respelled(text), True, mode, self.language, relevance=self.relevance,
                      query=self.query, confidence=self.confidence, missing=self.missing,
                      sources=list(self.sources))  # fmt: skip

    def answered(self, answer: Answer) -> Answer:
        """``answer`` carrying what retrieval concluded (query, relevance, confidence, missing words).

        When the passages never use some key words of the question, the answer says so first: what
        follows is the closest the documents come, not the answer. When they are all there but the documents
        more likely than not do not answer (``unsure``), the answer says that first.
        """
        answer.query, answer.relevance = self.query, self.relevance
        answer.confidence, answer.missing, answer.sources = self.confidence, self.missing, list(self.sources)
        if self.missing:
            words = self._quoted(self.missing)
            if self.present:
                note = PARTIAL_ABOUT[self.language].format(about=self._quoted(self.present), words=words)
            else:
                note = PARTIAL[self.language].format(words=words)
            answer.answer = f"{note}\n{answer.answer}"
        elif self.unsure:
            answer.answer, answer.uncertain = f"{UNSURE[self.language]}\n{answer.answer}", True
        answer.answer = self._respelled(answer.answer)
        return answer

    def _respelled(self, text: str) -> str:
        """``text`` after the words searched as the documents write them, when the question mistyped some."""
        if not self.respelled:
            return text
        pairs = [[QUOTES[self.language].format(w) for w in pair.split(" → ")] for pair in self.respelled]
        said = ", ".join(RESPELLED_PAIR[self.language].format(typed=typed, written=written) for typed, written in pairs)
        return f"{RESPELLED[self.language].format(pairs=said)}\n{text}"

    def _missing_words(self) -> str:
        return self._quoted(self.missing)

    def _quoted(self, words: list[str]) -> str:
        return ", ".join(QUOTES[self.language].format(word) for word in words)


@dataclass(frozen=True)
class Preview:
    """The extractive answer, shown while the language model writes its own (quotes first).

    ``written`` is False when the model's text will not be shown (a confidence below one half, or passages none of
    which is in the question's language: the model only says whether the passages answer, and the quotes stand or
    the answer abstains).
    """

    answer: Answer
    written: bool = True


def final_answer(events: Iterable[str | Preview | Answer]) -> Answer:
    """The :class:`Answer` that ends a stream of text pieces.

    >>> final_answer([Preview(Answer("q", "quotes", False, "extractive", "fr")), "D’après", " les documents",
    ...               Answer("q", "a", True, "llm", "fr")]).answer
    'a'

    Raises:
        ValueError: the stream ended without an answer.
    """
    final = None
    for event in events:
        if isinstance(event, Answer):
            final = event
    if final is None:
        raise ValueError("the answer stream ended without an answer")
    return final
