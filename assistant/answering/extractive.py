"""Extractive answers: quote the sentences that answer, cite each with [n], or abstain.

No language model: the answer is made of exact quotes from the best passages, framed in the
question's language. Every ``[n]`` marker has its citation (passage, offsets, score).

Example (``engine`` a :class:`~assistant.answering.search.SearchEngine` over the ONPE corpus):
    >>> answerer = ExtractiveAnswerer(engine)
    >>> answer = answerer.ask("Depuis quand les Assises nationales de la protection de l'enfance existent-elles ?")
    >>> answer.mode, answer.abstained, "2006" in answer.answer
    ('extractive', False, True)
    >>> from assistant.answering.types import markers
    >>> markers(answer.answer) == {c.n for c in answer.citations}
    True
    >>> answerer.ask("Quel est le budget annuel de l'ONPE ?").answer
    'Je n’ai pas trouvé la réponse dans les documents.'
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from assistant.answering.conversation import Question, is_list_question
from assistant.answering.search import SearchEngine, retrieve
from assistant.answering.types import Answer, Citation, Hit, Quote, Retrieved
from assistant.indexing.lexical import tokenize
from assistant.ingest.chunks import Chunk, Span, overlaps, sentences_or_whole
from assistant.ingest.cleaning import Document

INTRO = {"fr": "D’après les documents :", "en": "According to the documents:"}
# A passage is kept when its fused score (in [0, 1]) is at least this fraction of the best one.
# Measured on eval/questions.jsonl (README, "How the settings were chosen").
KEEP_RATIO = {"list": 0.50, "single": 0.55}
MAX_PASSAGES = {"list": 5, "single": 3}
MAX_LIST_ITEMS = 6
# In sentence choice across languages, one shared term is worth this much cosine similarity;
# a runner-up this close to the best sentence joins the quote.
SENTENCE_OVERLAP_WEIGHT = 0.01
SENTENCE_TIE = 0.04
SENTENCE_CACHE = 20_000  # sentence vectors kept (~30 MB): a corpus's sentences are quoted again and again


def select_passages(hits: list[Hit], as_list: bool) -> list[Hit]:
    """The passages worth quoting: those scoring close to the best one."""
    kind = "list" if as_list else "single"
    best = max(h.score for h in hits)
    return [h for h in hits if h.score >= best * KEEP_RATIO[kind]][: MAX_PASSAGES[kind]]


def _best_sentence(
    chunk: Chunk, terms: set[str], similarity: Callable[[list[str]], list[float]] | None, language: str
) -> Span:
    """The sentence(s) that best answer ``terms`` (a question in ``language``).

    In the passage's language, the sentences sharing the most question terms are the candidates,
    and embedding similarity (when given) only breaks their tie: embedding every sentence cost
    ~120 ms per answer on PIAF for +0.05 fact recall there, and lost an ONPE question (README,
    "How the settings were chosen").
    Across languages only names are shared, so every sentence is a candidate, scored by
    similarity plus ``SENTENCE_OVERLAP_WEIGHT`` per shared term.

    A runner-up whose similarity is within ``SENTENCE_TIE`` joins the quote (as one span from the first to the
    second): a pronoun sentence often carries the fact its neighbour names the subject of.
    The earliest sentence wins a full tie.
    """
    spans = chunk.sentences()
    texts = [chunk.text[s - chunk.start : e - chunk.start] for s, e in spans]
    shared = [len(terms & set(tokenize(t))) for t in texts]
    top = max(shared) if chunk.language == language else -1
    candidates = [i for i, count in enumerate(shared) if count >= top]
    if similarity is None or len(candidates) == 1:
        return spans[shared.index(max(shared))]
    sims = dict(zip(candidates, similarity([texts[i] for i in candidates]), strict=True))
    scores = {i: sims[i] + SENTENCE_OVERLAP_WEIGHT * shared[i] for i in candidates}
    order = sorted(candidates, key=lambda i: (-scores[i], i))
    # Shared names pick the best; closeness in meaning alone decides if the runner-up joins it.
    if sims[order[1]] >= sims[order[0]] - SENTENCE_TIE:
        first, last = sorted(order[:2])
        return spans[first][0], spans[last][1]
    return spans[order[0]]


def _list_members(doc: Document, after: int, section_end: int) -> list[Span]:
    """First sentence of each block following a list introduction (``…tels que :``)."""
    members: list[Span] = []
    previous_head = ""
    for block in doc.blocks:
        if block.start < after or block.start >= section_end:
            continue
        if block.kind == "heading" or len(members) >= MAX_LIST_ITEMS:
            break
        first = sentences_or_whole(doc.block_text(block), block.start)[0]
        head = doc.text[first[0] : first[1]].split(" ", 1)[0]
        if head != previous_head:  # a second paragraph on the same subject adds no member
            members.append(first)
        previous_head = head
    return members


def _section_end(doc: Document, position: int) -> int:
    return next((b.start for b in doc.blocks if b.kind == "heading" and b.start > position), len(doc.text))


class ExtractiveAnswerer:
    """Answers from the search engine's passages, without a language model."""

    mode = "extractive"

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        # Sentence vectors for quote choice, shared by the web chat's users (hence the lock).
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def forget(self) -> None:
        """Drop cached question and sentence vectors (a benchmark times questions as if new)."""
        self.engine.query_vector.cache_clear()
        with self._cache_lock:
            self._cache.clear()

    def ask(self, question: str | Question, history: Sequence[str] | None = None) -> Answer:
        """Answer ``question`` (raw text is cleaned here; a :class:`Question` is taken as it is).

        Raises:
            QuestionError: empty or over-long question.
        """
        asked = Question.of(question, history, self.engine.settings.max_question_chars)
        return self.answer(retrieve(self.engine, asked))

    def answer(self, found: Retrieved) -> Answer:
        """The extractive answer to what :func:`~assistant.answering.search.retrieve` found."""
        if not found.answerable:
            return found.abstention(self.mode)
        answer = self._compose(found.question, found.language, self.evidence(found), found.relevance)
        answer.query = found.query
        return answer

    def evidence(self, found: Retrieved) -> list[Quote]:
        """The sentences that answer, as (chunk, start, end, score), in document order."""
        as_list = is_list_question(found.question)
        similarity = None if as_list else self._similarity(found.query)

        def choose(chunk: Chunk) -> Span:
            return _best_sentence(chunk, found.terms, similarity, found.language)

        return self._quotes(select_passages(found.hits, as_list), choose, as_list)

    def _similarity(self, query: str) -> Callable[[list[str]], list[float]]:
        def similarity(texts: list[str]) -> list[float]:
            return [float(x) for x in self._sentence_vectors(texts) @ np.asarray(self.engine.query_vector(query))]

        return similarity

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts``, embedding (in one batch) only those not seen lately."""
        with self._cache_lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
            for text in known:
                self._cache.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = dict(zip(missing, self.engine.embeddings.embed_array(missing), strict=True))
            known |= fresh
            with self._cache_lock:
                self._cache.update(fresh)
                while len(self._cache) > SENTENCE_CACHE:
                    self._cache.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def _quotes(self, hits: list[Hit], choose: Callable[[Chunk], Span], as_list: bool) -> list[Quote]:
        """One sentence per passage; a list introduction brings the members that follow it.

        When a list question finds such an introduction, the list alone is the answer.
        """
        groups = [self._quote_group(hit, choose, as_list) for hit in hits]
        if as_list and (lists := [g for g in groups if len(g) > 1]):
            groups = lists[:1]
        quotes: list[Quote] = []
        for quote in (q for group in groups for q in group):
            if not any(q[0].source == quote[0].source and overlaps(q[1:3], quote[1:3]) for q in quotes):
                quotes.append(quote)
        # Read in document order, as a person would quote a page.
        return sorted(quotes, key=lambda q: (q[0].source, q[1]))

    def _quote_group(self, hit: Hit, choose: Callable[[Chunk], Span], as_list: bool) -> list[Quote]:
        snap = self.engine.snapshot
        start, end = choose(hit.chunk)
        spans = [(start, end)]
        doc = snap.documents.get(hit.chunk.source)
        if doc is not None and doc.text[start:end].rstrip().endswith(":"):
            members = _list_members(doc, end, _section_end(doc, start))
            spans += members if as_list else members[:1]
        group: list[Quote] = []
        for s, e in spans:
            inside = hit.chunk.start <= s and e <= hit.chunk.end
            chunk = hit.chunk if inside else snap.chunk_at(hit.chunk.source, s, e)
            if chunk is not None:
                group.append((chunk, s, e, hit.score))
        return group

    def _compose(self, question: str, language: str, quotes: list[Quote], score: float) -> Answer:
        citations, lines = [], []
        for n, (chunk, start, end, hit_score) in enumerate(quotes, 1):
            lines.append(f"« {chunk.text[start - chunk.start : end - chunk.start]} » [{n}]")
            citations.append(Citation.of(n, chunk, hit_score, (start, end)))
        body = f" {lines[0]}" if len(lines) == 1 else "".join(f"\n- {line}" for line in lines)
        return Answer(question, INTRO[language] + body, False, self.mode, language, citations, score)
