"""Check a generated answer against its passages before anyone sees it.

Every sentence must cite passages it was given, and be supported by them: its content words
found there (lexical support), or its meaning close to one of their sentences (embedding
support), every number it states written there (counting what its sentence counts: not « 300 espèces »
over « 300 hectares et 50 espèces »), and every acronym it names known to the corpus.
Its key items — names, acronyms, numbers — must be stated together in one cited sentence (read with
the list introduction it belongs to, and the sentence before it when it opens with a pronoun), not
merely somewhere in the passage:
"The AFMJF presented Laurence Rossignol's roadmap" joins two sentences that never meet. A yes or a
no needs one sentence that states it. A claim that leaves out what its supporting sentence attaches to
the fact — a condition (« uniquement si »), an approximation (« près de 2000 »), a share (« la majorité
des »), an aim (« dans l’objectif d’obtenir »), a report (« selon X, elle aurait ») — is ``partial``, with the
reason; a restatement of the question adds nothing and is dropped, as is a cause that says its effect again. Each
claim gets a status: ``supported``, ``partial`` or ``unsupported`` (dropped, never shown as a fact).
A sentence that cites nothing, or cites the wrong passage, is re-attached to a passage that
supports it when one does; otherwise it is dropped. Markers are renumbered to the passages
actually used, in order of first use.

Example (``embeddings`` the index's embedder):
    >>> from assistant.ingest.chunks import Chunk
    >>> chunks = [Chunk("a", "d.txt", "T", "", 0, 29, "Les Assises ont lieu à Paris."),
    ...           Chunk("b", "d.txt", "T", "", 30, 60, "L’ONPE est membre d’EUSARF.")]
    >>> checked = Grounder(chunks, embeddings, known=lambda terms: terms).check(
    ...     "L’ONPE est membre d’EUSARF [2]. Il a été fondé en 1999 [2].")
    >>> checked.text, checked.used, checked.dropped
    ('L’ONPE est membre d’EUSARF [1].', [1], ['Il a été fondé en 1999.'])
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from assistant.answering.answer_type import capitalised
from assistant.answering.answerability import KEY_INFORMATION, coverage, information, question_terms, shared_word
from assistant.answering.claims import (
    ACRONYM,
    CAUSE,
    PARTIAL,
    SUPPORTED,
    Checked,
    Claim,
    collapse_repeats,
    defined_as,
    miscounted,
    named_more,
    renumber,
    restated_cause,
    said_once,
    split_claims,
    swapped,
    ungroup,
)
from assistant.answering.qualifiers import dropped_qualifier
from assistant.answering.types import MARKER, NOT_FOUND_MARK
from assistant.indexing.lexical import tokenize
from assistant.ingest.chunks import Chunk, Span, label, opens_with_pronoun
from assistant.ingest.language import detect_language
from assistant.models.embeddings import SentenceTransformerEmbeddings

_NUMBER = re.compile(r"\d+")
_PASSAGE_REF = re.compile(r"\bpassages?\s+\d+", re.IGNORECASE)  # "see passage 1" states no fact
# A capitalised word whose information is at most this in French or English (Zipf ≥ 4: "State", « Justice »)
# is a common word written with a capital, not a name.
COMMON_CAPITAL = 3.0
# Capitalised words in a row, small linking words allowed between them: a name of several words
# ("Journal de l'Action Sociale", "Defense of Rights").
_NAME_RUN = re.compile(
    r"(?<![\w’'-])[A-ZÀ-Ý][\w’'-]+(?:\s+(?:(?:of|the|for|and|on|de|des|du|la|le|et|d['’]|l['’])\s*)*[A-ZÀ-Ý][\w’'-]+)+"
)
# English writes months and days with a capital: not names.
_CALENDAR = re.compile(
    r"(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    re.IGNORECASE,
)
_YES_NO = re.compile(r"^\W*(oui|non|yes|no)\b", re.IGNORECASE)
_YES_NO_WORDS = {"oui", "non", "yes", "no"}
# Support rules, set on true and false claims about ONPE passages (README, "Grounding"): e5's
# cosines are compressed (an unrelated French sentence scores ~0.84), so cosine alone must be high.
LEXICAL_ALONE = 0.5  # share of the sentence's content words found in the cited passages
EMBEDDING_ALONE = 0.88  # cosine with the closest sentence of a cited passage
LEXICAL_WITH_EMBEDDING = (0.25, 0.835)


# A claim in the passages' language may add at most one content word of its own (a verb of its own, an
# article's paraphrase): with two, or one name, it says more than its source. A claim of at most three content
# words is a bare answer: the sentence stating it must hold half the question's key words. Both set on 55
# generated answers read by hand (2026-12-02): they drop 14 of the 17 claims wrongly kept there, and one right
# one (« AFMJF », whose sentence lacks the question's words); measured on another sample (README, "Grounding").
OWN_WORDS = 2
BARE_ANSWER = 3
BARE_ANSWER_COVER = 0.5


class Grounder:
    """Checks claims against passages with the index's own embedder and tokenizer."""

    def __init__(
        self,
        chunks: list[Chunk],
        embeddings: SentenceTransformerEmbeddings,
        known: Callable[[set[str]], set[str]],
        sentence_vectors: Callable[[list[str]], np.ndarray] | None = None,
        intros: list[int | None] | None = None,
    ) -> None:
        """``known`` returns the terms the corpus contains (``LexicalIndex.known``); ``sentence_vectors``
        embeds passage sentences (the search engine's cache: quote choice embedded most of them already);
        ``intros`` gives, for each passage that is a list member, the passage introducing its list
        (:func:`assistant.answering.lists.list_intros`)."""
        self.chunks = chunks
        self._intros = intros or [None] * len(chunks)
        self.known = known
        self.embeddings = embeddings
        self._sentences: list[list[Span]] = [c.sentences() for c in chunks]
        texts = [self._text(i, span) for i, spans in enumerate(self._sentences) for span in spans]
        embed = sentence_vectors or embeddings.embed_array
        self._vectors = embed(texts) if texts else np.zeros((0, embeddings.dimension))
        self._tokens = [set(tokenize(c.text)) for c in chunks]
        self._numbers = [ungroup(c.text) for c in chunks]  # « 2 000 » read as « 2000 », once per passage
        # What check() was given: the answer's language, the question, its words and language.
        self._language = chunks[0].language if chunks else "fr"
        self._question, self._asked, self._question_language = "", set[str](), self._language

    def _text(self, i: int, span: Span) -> str:
        return self.chunks[i].slice(*span)

    def _best_sentence(self, i: int, vector: np.ndarray) -> tuple[float, Span]:
        offset = sum(len(s) for s in self._sentences[:i])
        sims = self._vectors[offset : offset + len(self._sentences[i])] @ vector
        best = int(np.argmax(sims))
        return float(sims[best]), self._sentences[i][best]

    def support(self, claim: str, cites: list[int], vector: np.ndarray) -> tuple[dict[int, Span], str] | None:
        """Supporting sentence per cited passage and what the claim leaves out of it (:func:`dropped_qualifier`:
        ``""`` when nothing), or None when the cited passages do not back the claim."""
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
        # Across languages shared words are names and look-alikes ("non", "international"): never enough alone.
        same_language = all(self.chunks[i].language == self._language for i in cites)
        alone = lexical >= LEXICAL_ALONE and same_language
        if not (alone or cosine >= EMBEDDING_ALONE or (lexical >= low_lex and cosine >= low_cos)):
            return None
        # In the passages' language a claim adds no words of its own; across it, no name or look-alikes of its own.
        across = not same_language and (self._translated(claim, cites) or self._brings(claim, cites))
        if across or (same_language and self._adds(claim, words, cites)):
            return None
        together = self._together(claim, words, {i: span for i, (_, span) in best.items()})
        if together is None or not self._one_cause(claim, together[0]) or not self._answers(claim, together[0]):
            return None
        return None if swapped(claim, [self._text(i, span) for i, span in together[0].items()]) else together

    def _adds(self, claim: str, words: set[str], cites: list[int]) -> bool:
        """Whether a claim says what neither its passages nor their titles say: two content words of its own, or one
        name (« Pierre-Jakez Hélias exerce professeur à Rennes » over a passage without Rennes) or one class it puts
        its subject in (:func:`~assistant.answering.claims.defined_as`).

        The question's words count as the claim's own: a small model grafts the question's subject or verb onto a
        sentence about something else (« Elizabeth décide de cacher… » for « Qu'est-ce qu'Elizabeth décide de
        cacher ? » over « Elizabeth brûle… »). Only in the passages' language: across languages every word is the
        model's own.
        """
        own = words - self._given(cites, asked=False)
        bare = MARKER.sub(" ", claim)
        names = set(tokenize(" ".join(capitalised(bare)))) - self._pronoun_subject(bare, cites)
        return len(own) >= OWN_WORDS or bool(own & (names | defined_as(bare)))

    def _given(self, cites: list[int], *, asked: bool = True) -> set[str]:
        """The words a claim citing ``cites`` may use: the passages', their titles', their list introductions', yes /
        no, and (``asked``) the question's."""
        given = (self._asked if asked else set()) | _YES_NO_WORDS
        for i in cites:
            given |= self._tokens[i] | set(tokenize(label(self.chunks[i].title, self.chunks[i].section)))
            given |= self._tokens[intro] if (intro := self._intros[i]) is not None else set()
        return given

    def _translated(self, claim: str, cites: list[int]) -> bool:
        """Whether a claim across languages writes a name of several words that neither its passages (titles and
        list introductions included) nor the question write: a translated name ("the Defense of Rights" for « le
        Défenseur des droits ») is not the documents' name, and the reader cannot find it in them."""
        given = self._given(cites)
        for run in _NAME_RUN.finditer(MARKER.sub(" ", claim).strip()):
            named = re.findall(r"\b[A-ZÀ-Ý][\w’'-]*", run.group())
            # A sentence's first word is capitalised whatever it is ("The Observatory…" is one word, not a name of
            # two); English capitalises months.
            named = [w for n, w in enumerate(named) if not (n == 0 and run.start() == 0) and not _CALENDAR.fullmatch(w)]
            if len(named) >= 2 and set(tokenize(" ".join(named))) - given:
                return True
        return False

    def _brings(self, claim: str, cites: list[int]) -> bool:
        """Whether a claim across languages writes two words the passages' language writes as they are ("continent",
        "unique"; French words copied, « préfet », « région ») that neither its passages nor the question write.
        A translation carries such words over; an addition brings them ("…the African continent has conferred a
        unique identity" over a sentence on masks and dances). One is not enough: false friends ("content" for
        « contenu »). Two can still drop a faithful claim ("The main event takes place…" for « L'événement
        principal a lieu… »): its quotes then stand in for it, a lesser harm than an added fact kept."""
        other = next((self.chunks[i].language for i in cites if self.chunks[i].language != self._language), None)
        if {self._language, other} != {"fr", "en"}:
            return False  # word frequencies for French and English only
        given = self._given(cites)
        # Numbers are not words here: _facts_ok reads them (« 2 000 » as "2000").
        terms = question_terms(MARKER.sub(" ", claim), self._language)
        own = [t for t in terms if t.stem not in given and not _NUMBER.search(t.word)]
        return sum(shared_word(t.word, t.weight, str(other)) for t in own) >= OWN_WORDS

    def _pronoun_subject(self, claim: str, cites: list[int]) -> set[str]:
        """The name a claim opens with, when a cited sentence opens with a pronoun it may stand for and the
        corpus knows it ("L'Observatoire participe au réseau EUSARF" over « Il participe au réseau EUSARF. »)."""
        if not any(opens_with_pronoun(self._text(i, span)) for i in cites for span in self._sentences[i]):
            return set()
        opening = set(tokenize(" ".join(capitalised(" ".join(claim.split()[:3])))))
        return self.known(opening)

    def _answers(self, claim: str, chosen: dict[int, Span]) -> bool:
        """A bare answer ("18 ans", "Martin Rohmer") is the question's answer only if the sentence that states it
        is about what the question asks: it holds half the question's key words (by information). "18 ans" for
        an age in 1815, quoted from a sentence about 1974, is not. (Counting the document's title too kept
        « AFMJF » for « Quelle association de magistrats soutient les Assises ? » but also two wrong bare
        answers of 55 read by hand: a dropped claim leaves the quotes, which still show the fact.) It must also
        hold the question's rarest key word: « 95,1 % » for the share of Chinese without drinking water, taken
        from a sentence on literacy that holds « proportion » and « Chinois », is not the answer.

        Only when the question and the passages share a language (across it words cannot be compared).
        """
        if len(set(tokenize(claim))) > BARE_ANSWER or not self._asked:
            return True
        i = next(iter(chosen))
        if self.chunks[i].language != self._question_language:
            return True
        keys = [t for t in question_terms(self._question, self._question_language) if t.weight >= KEY_INFORMATION]
        spans = self._sentences[i]
        stated = set(tokenize(self._context(i, spans.index(chosen[i]))))
        rarest = max(keys, key=lambda t: t.weight, default=None)
        return rarest is None or (coverage(keys, stated) >= BARE_ANSWER_COVER and rarest.stem in stated)

    def _one_cause(self, claim: str, chosen: dict[int, Span]) -> bool:
        """A claim "X because Y" needs X and Y stated in one place: the sentence closest to X (among every
        passage given) must be the one supporting the claim, or next to it; and Y must not say X again.

        "The atmosphere of the Assises is friendly because they are organised by the Journal de l'Action
        Sociale" glues the sentence about the organisers to a question about the atmosphere. "The event moves
        to a different city every year because it is held in a different city every year" gives no cause.
        """
        cause = CAUSE.search(claim)
        stated = claim[: cause.start()].strip(" ,") if cause else ""
        if not stated:
            return True
        if restated_cause(claim):
            return False
        effect = self.embeddings.embed_array([stated])[0]
        i, j = self._closest(effect)
        spans = self._sentences[i]
        return i in chosen and abs(spans.index(chosen[i]) - j) <= 1

    def _closest(self, vector: np.ndarray) -> tuple[int, int]:
        """The (passage, sentence) pair closest in meaning to ``vector`` among every passage given."""
        sims = self._vectors @ vector
        flat = int(np.argmax(sims))
        for i, spans in enumerate(self._sentences):
            if flat < len(spans):
                return i, flat
            flat -= len(spans)
        raise ValueError("no sentence to compare with")

    def _context(self, i: int, j: int) -> str:
        """Sentence ``j`` of passage ``i``, read with the list introductions above it (in the passage, or the
        passage introducing it), and with the sentence before it when it opens with a pronoun ("Il participe
        au réseau EUSARF.")."""
        spans = self._sentences[i]
        sentence = self._text(i, spans[j])
        before = [self._text(i, spans[j - 1])] if j and opens_with_pronoun(sentence) else []
        above = [t for k in range(j - len(before)) if (t := self._text(i, spans[k])).rstrip().endswith(":")]
        intro = [self.chunks[n].text] if (n := self._intros[i]) is not None else []
        return " ".join([*intro, *above, *before, sentence])

    def _together(self, claim: str, words: set[str], best: dict[int, Span]) -> tuple[dict[int, Span], str] | None:
        """One sentence per cited passage that states the claim's key items together (else None), and the qualifier
        they attach that the claim leaves out (``""`` when none).

        The sentence holding most key items is taken in each passage (the closest in meaning when none holds
        any); across the cited passages those sentences must hold them all. A yes or a no also needs those
        sentences to hold half the claim's words.
        """
        names, numbers = key_items(claim)
        chosen: dict[int, Span] = {}
        contexts: list[str] = []
        for i, closest in best.items():
            spans = self._sentences[i]
            texts = [ungroup(self._context(i, j)) for j in range(len(spans))]
            held = [len(names & set(tokenize(t))) + sum(n in t for n in numbers) for t in texts]
            j = max(range(len(spans)), key=lambda k: (held[k], spans[k] == closest))
            chosen[i] = spans[j] if held[j] else closest
            contexts.append(texts[j] if held[j] else self._context(i, spans.index(closest)))
        stated = " ".join(contexts)
        tokens = set(tokenize(stated))
        if not names <= tokens or not all(n in stated for n in numbers):
            return None
        same_language = all(self.chunks[i].language == self._language for i in chosen)
        if same_language and (miscounted(claim, stated) or named_more(claim, names, contexts)):
            return None
        if _YES_NO.match(claim) and not self._states(claim, tokens, next(iter(best))):
            return None
        sources = " ".join(self._text(i, span) for i, span in chosen.items())
        return chosen, dropped_qualifier(claim, sources)

    def _facts_ok(self, claim: str, cites: list[int]) -> bool:
        """Numbers must be in the cited passages; acronyms at least somewhere in the corpus."""
        numbers = _NUMBER.findall(ungroup(_PASSAGE_REF.sub("", claim)))
        if not all(any(n in self._numbers[i] for i in cites) for n in numbers):
            return False
        acronyms = {t for a in ACRONYM.findall(claim) for t in tokenize(a)}
        return self.known(acronyms) == acronyms

    def check(self, text: str, question: str = "") -> Checked:
        """Keep the supported claims of ``text`` (an answer to ``question``), renumbered; see the module docstring."""
        if NOT_FOUND_MARK in text:
            return Checked("", [], {}, [], not_found=True)
        claims = said_once(split_claims(collapse_repeats(text)))
        bare = [c.text.lstrip(",;: ") for c in claims]
        vectors = self.embeddings.embed_array(bare) if claims else np.zeros((0, 1))
        asked = set(tokenize(question))
        self._asked, self._question = asked, question
        self._question_language = detect_language(question) if question else self._language
        # A claim made only of the question's words, or of them and a passage's title (a small model may copy the
        # ``## title`` line), says nothing the reader did not know.
        titles = [asked | set(tokenize(label(c.title, c.section))) for c in self.chunks] or [asked]
        # The answer's language, read once on the whole answer (a list item alone is too short to tell).
        self._language = detect_language(MARKER.sub(" ", text))
        kept: list[Claim] = []
        dropped: list[str] = []
        for claim, words, vector in zip(claims, bare, vectors, strict=True):
            cites = sorted({n - 1 for n in claim.cites if 1 <= n <= len(self.chunks)})
            stated = set(tokenize(words))
            # "Les Assises sont organisées." for « Qui organise les Assises ? » says nothing the question did not.
            empty = any(stated <= title for title in titles)
            supported = None if empty else self.support(words, cites, vector) or self._reattach(words, vector)
            if supported:
                quotes, reason = supported
                kept.append(
                    Claim(claim.text, sorted(quotes), claim.sentence, quotes, PARTIAL if reason else SUPPORTED, reason)
                )
            else:
                dropped.append(words)
        return renumber(kept, dropped)

    def _states(self, claim: str, tokens: set[str], passage: int) -> bool:
        """Whether the source sentences (``tokens``) state a yes or a no: every key word of the claim is there.

        "Oui, un site peut réutiliser les informations du RCS" needs a sentence that says « réutiliser ».
        Across languages only the embedding check (in :meth:`support`) can judge.
        """
        language = detect_language(claim)
        if language != self.chunks[passage].language:
            return True
        return all(t.stem in tokens for t in question_terms(claim, language) if t.weight >= KEY_INFORMATION)

    def _reattach(self, claim: str, vector: np.ndarray) -> tuple[dict[int, Span], str] | None:
        """Passages that support an uncited or mis-cited claim: those naming its acronyms, else the best one."""
        named = [i for i, c in enumerate(self.chunks) if any(a in c.text for a in ACRONYM.findall(claim))]
        if named and (quotes := self.support(claim, named, vector)):
            return quotes
        ranked = sorted(range(len(self.chunks)), key=lambda i: -self._best_sentence(i, vector)[0])
        return next((q for i in ranked[:3] if (q := self.support(claim, [i], vector))), None)


def key_items(claim: str) -> tuple[set[str], list[str]]:
    """The claim's names (acronyms, and capitalised words not common in French or English: "Rossignol", not
    "State" nor « Association ») as search stems,
    and its numbers: what must be stated together in one source sentence.

    >>> names, numbers = key_items("L’AFMJF a présenté en 2015 la feuille de route de Laurence Rossignol [1].")
    >>> sorted(names), numbers
    (['afmjf', 'laurenc', 'rossignol'], ['2015'])
    """
    bare = ungroup(_PASSAGE_REF.sub("", MARKER.sub("", claim)))
    names = {
        word
        for word in capitalised(bare)
        if ACRONYM.fullmatch(word)
        or min(information(word.lower(), "fr"), information(word.lower(), "en")) > COMMON_CAPITAL
    }
    return set(tokenize(" ".join(names))), _NUMBER.findall(bare)
