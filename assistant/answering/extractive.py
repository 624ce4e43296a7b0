"""Extractive answers: quote the sentences that answer, cite each with [n], or abstain.

No language model: the answer is made of exact quotes from the best passages, framed in the
question's language. Every ``[n]`` marker has its citation (passage, offsets, score).

Example (``engine`` a :class:`~assistant.answering.search.SearchEngine` over the ONPE corpus):
    >>> answerer = ExtractiveAnswerer(engine)
    >>> answer = answerer.ask("Depuis quand les Assises nationales de la protection de l'enfance existent-elles ?")
    >>> answer.mode, answer.abstained, "2006" in answer.answer
    ('extractive', False, True)
    >>> from assistant.answering.types import markers
    >>> markers(answer.answer, answer.mode) == {c.n for c in answer.citations}
    True
    >>> answerer.ask("Quelle est la météo à Brest demain ?").answer
    'Je n’ai pas trouvé la réponse dans les documents : ils ne mentionnent pas « météo », « Brest ».'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.answering.acronyms import alias_stems, definitions, mentions
from assistant.answering.answer_type import asked_for, holds
from assistant.answering.answerability import KEY_INFORMATION, question_terms
from assistant.answering.conversation import Question, is_list_question
from assistant.answering.search import SearchEngine, retrieve
from assistant.answering.types import Answer, Citation, Hit, Quote, Retrieved
from assistant.indexing.lexical import fold, tokenize
from assistant.indexing.snapshot import Snapshot
from assistant.ingest.chunks import Chunk, Span, opens_with_pronoun, overlaps, sentence_spans, sentences_or_whole
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


def select_passages(hits: list[Hit], as_list: bool) -> list[Hit]:
    """The passages worth quoting: those scoring close to the best one."""
    kind = "list" if as_list else "single"
    best = max(h.score for h in hits)
    return [h for h in hits if h.score >= best * KEEP_RATIO[kind]][: MAX_PASSAGES[kind]]


def _best_sentence(
    chunk: Chunk,
    terms: set[str],
    similarity: Callable[[list[str]], list[float]] | None,
    language: str,
    kind: str | None = None,
) -> Span:
    """The sentence(s) that best answer ``terms`` (a question in ``language``).

    In the passage's language, the sentences sharing the most question terms are the candidates,
    and embedding similarity (when given) only breaks their tie: embedding every sentence cost
    ~120 ms per answer on PIAF for +0.05 fact recall there, and lost an ONPE question (README,
    "How the settings were chosen").
    Across languages only names are shared, so every sentence is a candidate, scored by
    similarity plus ``SENTENCE_OVERLAP_WEIGHT`` per shared term.

    A sentence that opens with a pronoun is read, and quoted, with the sentence before it in its paragraph:
    "Elle publie une revue" answers "What journal does ISPCAN publish?" only beside "L’ISPCAN organise…".
    A runner-up whose similarity is within ``SENTENCE_TIE`` joins the quote (as one span from the first to the
    second). The earliest sentence wins a full tie.

    When the question asks for a date, a number or a name (``kind``, :mod:`~assistant.answering.answer_type`),
    the candidates holding one are preferred; if none does, a sentence sharing one term fewer that holds one
    becomes a candidate too ("Depuis quand… ?" is answered by the sentence with the year).
    """
    spans = chunk.sentence_units()
    texts = [chunk.slice(s, e) for s, e in spans]
    shared = [len(terms & set(tokenize(t))) for t in texts]
    top = max(shared) if chunk.language == language else -1
    candidates = [i for i, count in enumerate(shared) if count >= top]
    typed = [i for i, count in enumerate(shared) if count >= top - 1 and holds(kind, texts[i])]
    if kind is not None and typed:
        candidates = [i for i in candidates if i in typed] or typed
    if similarity is None or len(candidates) == 1:
        return spans[max(candidates, key=lambda i: (shared[i], -i))]
    sims = dict(zip(candidates, similarity([texts[i] for i in candidates]), strict=True))
    scores = {i: sims[i] + SENTENCE_OVERLAP_WEIGHT * shared[i] for i in candidates}
    order = sorted(candidates, key=lambda i: (-scores[i], i))
    # Shared names pick the best; closeness in meaning alone decides if the runner-up joins it.
    if sims[order[1]] >= sims[order[0]] - SENTENCE_TIE:
        first, last = sorted(order[:2])
        return spans[first][0], spans[last][1]
    return spans[order[0]]


def _remainder(quote: Quote, taken: list[Quote]) -> Quote | None:
    """``quote`` without the sentences already quoted from its document: its first run of new sentences
    (None when it has none).

    Two passages of a page overlap: the second's best sentence may start inside the first's quote and go
    on with what answers ("L’ISPCAN organise des conférences. Elle publie une revue…"). The part already
    quoted is not repeated; what follows it is kept, the earlier quote giving it its subject.
    """
    chunk, start, end, score = quote
    seen = [(q[1], q[2]) for q in taken if q[0].source == chunk.source]
    if not any(overlaps((start, end), span) for span in seen):
        return quote
    left = [s for s in chunk.sentences() if start <= s[0] and s[1] <= end and not any(overlaps(s, t) for t in seen)]
    if not left:
        return None
    last = left[0]
    for sentence in left[1:]:
        if any(overlaps((left[0][0], sentence[1]), span) for span in seen):
            break
        last = sentence
    return chunk, left[0][0], last[1], score


def carries_subject(
    sentence: str, focus: set[str], before: str = "", aliases: dict[str, set[str]] | None = None
) -> bool:
    """Whether ``sentence``, read after what precedes it in its paragraph (``before``), may be quoted for a
    question whose key words (stems) found in the quotes are ``focus``.

    A sentence whose paragraph, up to it, names none of them answers something else. One that opens its
    paragraph with a pronoun is read after the paragraph before (``before``, :func:`_in_paragraph`), whose
    subject the pronoun stands for; with nothing before it, it is not checked further. An acronym and its
    expansion as the corpus defines it (``aliases``,
    :mod:`~assistant.answering.acronyms`) name the same thing. When no quote holds a key word (a paraphrase,
    a question in another language) there is nothing to check.

    >>> carries_subject("Elle publie une revue.", {"ispcan"}, "L’ISPCAN organise des conférences. ")
    True
    >>> carries_subject("Horaires : 9 h-17 h.", {"ispcan"}), carries_subject("Il participe à EUSARF.", {"ispcan"})
    (False, True)
    >>> carries_subject("Il participe à EUSARF.", {"eurocan"}, "L’ONPE anime deux groupes de travail. ")
    False
    """
    named = bool(mentions(set(tokenize(before + sentence)), focus, aliases or {}))
    return not focus or named or (opens_with_pronoun(sentence) and not before.strip())


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


def _in_paragraph(snap: Snapshot, quote: Quote) -> tuple[str, str]:
    """What precedes the quote in its paragraph (which gives its pronouns their subject), and the quote; for a
    quote that opens its paragraph with a pronoun ("Il participe au réseau EUSARF."), the paragraph before."""
    chunk, start, end, _ = quote
    doc = snap.documents.get(chunk.source)
    if doc is None:
        return "", chunk.slice(start, end)
    opening = min(start, max((b.start for b in doc.blocks if b.start <= start), default=start))
    if opening == start and opens_with_pronoun(doc.text[start:end]):
        earlier = [b for b in doc.blocks if b.start < start]
        return (doc.block_text(earlier[-1]) + " " if earlier else ""), doc.text[start:end]
    return doc.text[opening:start], doc.text[start:end]


def _quote_group(snap: Snapshot, hit: Hit, choose: Callable[[Chunk], Span], as_list: bool) -> list[Quote]:
    """The sentence chosen in ``hit``; after a list introduction, its members (the first one only for a
    question that is not a list question)."""
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


def cut_marks(text: str, start: int, end: int) -> tuple[str, str]:
    """ "… " and " …" for a quote of ``text`` that starts or ends inside one of its sentences: a passage's edge cut
    a sentence too long for one passage (a list of thirty partners), and the quote must not pass for all of it.

    >>> text = "Intro. Les membres : l’ADF, l’Anas, la Cnape et l’Unaf. Fin."
    >>> cut_marks(text, 7, 30), cut_marks(text, 7, 55)
    (('', ' …'), ('', ''))
    """
    paragraph = text.rfind("\n", 0, start) + 1
    stop = text.find("\n", end)
    stop = len(text) if stop < 0 else stop
    spans = sentence_spans(text[paragraph:stop], paragraph)
    head = start != paragraph and start not in {s for s, _ in spans}
    tail = end != stop and end not in {e for _, e in spans}
    return ("… " if head else ""), (" …" if tail else "")


def _section_end(doc: Document, position: int) -> int:
    return next((b.start for b in doc.blocks if b.kind == "heading" and b.start > position), len(doc.text))


class ExtractiveAnswerer:
    """Answers from the search engine's passages, without a language model."""

    mode = "extractive"

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine
        self._defined: tuple[str, dict[str, set[str]]] = ("", {})

    def _aliases(self, snap: Snapshot) -> dict[str, set[str]]:
        """The corpus's acronyms and their expansions' stems, read once per committed snapshot."""
        if self._defined[0] != snap.name:
            found = definitions(doc.text for doc in snap.documents.values())
            self._defined = (snap.name, {acronym: alias_stems(expansion) for acronym, expansion in found.items()})
        return self._defined[1]

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
        return self.quoting(found, self.evidence(found))

    def quoting(self, found: Retrieved, quotes: list[Quote]) -> Answer:
        """The extractive answer made of ``quotes`` (from :meth:`evidence`); none: "not in the documents"."""
        if not quotes:
            return found.abstention(self.mode)
        return found.answered(self._compose(found.question, found.language, quotes))

    def evidence(self, found: Retrieved) -> list[Quote]:
        """The sentences that answer, as (chunk, start, end, score), in document order."""
        as_list = is_list_question(found.question)
        similarity = None if as_list else self._similarity(found.query)

        kind = asked_for(found.query)

        def choose(chunk: Chunk) -> Span:
            return _best_sentence(chunk, found.terms, similarity, found.language, kind)

        focus = {t.stem for t in question_terms(found.query, found.language) if t.weight >= KEY_INFORMATION}
        # One snapshot for the whole answer: a reindex may commit meanwhile.
        snap = self.engine.snapshot
        return self._quotes(snap, select_passages(found.hits, as_list), choose, as_list, (focus, found.language))

    def _similarity(self, query: str) -> Callable[[list[str]], list[float]]:
        def similarity(texts: list[str]) -> list[float]:
            return [float(x) for x in self.engine.sentence_vectors(texts) @ self.engine.query_vector(query)]

        return similarity

    def _quotes(
        self,
        snap: Snapshot,
        hits: list[Hit],
        choose: Callable[[Chunk], Span],
        as_list: bool,
        subject: tuple[set[str], str],
    ) -> list[Quote]:
        """One sentence per passage; a list introduction brings the members that follow it.

        When a list question finds such an introduction, the list alone is the answer. A sentence in the
        question's language is quoted only if it carries the question's subject (:func:`carries_subject`,
        ``subject`` = the key words' stems and the question's language). Across languages only names could
        be compared, and a sentence rarely repeats a name: on the realistic suite the check there cost 3 of
        302 answerable questions their fact (fact recall 0.758 against 0.768).
        """
        groups = [g for hit in hits if (g := _quote_group(snap, hit, choose, as_list))]
        focus, language = subject
        heads = [_in_paragraph(snap, g[0]) for g in groups]
        aliases = self._aliases(snap)
        focus = {t for before, sentence in heads for t in mentions(set(tokenize(before + sentence)), focus, aliases)}
        groups = [
            g
            for g, (before, sentence) in zip(groups, heads, strict=True)
            if g[0][0].language != language or carries_subject(sentence, focus, before, aliases)
        ]
        if as_list and (lists := [g for g in groups if len(g) > 1]):
            groups = lists[:1]
        quotes: list[Quote] = []
        said: set[str] = set()
        for quote in (q for group in groups for q in group):
            if (rest := _remainder(quote, quotes)) is None:
                continue
            # The same sentence in two documents (a file added twice, a page copied) is quoted once.
            text = " ".join(fold(snap.documents[rest[0].source].text[rest[1] : rest[2]]).split())
            if text not in said:
                said.add(text)
                quotes.append(rest)
        # Read in document order, as a person would quote a page.
        return sorted(quotes, key=lambda q: (q[0].source, q[1]))

    def _compose(self, question: str, language: str, quotes: list[Quote]) -> Answer:
        citations, lines = [], []
        documents = self.engine.snapshot.documents
        for n, (chunk, start, end, hit_score) in enumerate(quotes, 1):
            head, tail = cut_marks(documents[chunk.source].text, start, end) if chunk.source in documents else ("", "")
            lines.append(f"« {head}{chunk.slice(start, end)}{tail} » [{n}]")
            citations.append(Citation.of(n, chunk, hit_score, (start, end)))
        body = f" {lines[0]}" if len(lines) == 1 else "".join(f"\n- {line}" for line in lines)
        # A quote is the document's own sentence: supported by construction.
        claims = [{"text": c.text[c.quote_start - c.start : c.quote_end - c.start], "status": "supported",
                   "citations": [c.n]} for c in citations]  # fmt: skip
        return Answer(question, INTRO[language] + body, False, self.mode, language, citations, claims=claims)
