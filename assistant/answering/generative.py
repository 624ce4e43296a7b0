"""Generated answers: the language model writes, the grounding check decides what is shown.

Retrieval and abstention are those of :func:`~assistant.answering.search.retrieve`, as in the
extractive mode; the model's own "not found", or a reply of which nothing valid remains, also abstains
unless retrieval is clearly confident (:func:`~assistant.answering.answerability.clearly_answerable`:
then the extractive answer is given instead, with a notice). The model sees only the passages worth
quoting; its answer is checked sentence by sentence (:mod:`assistant.answering.grounding`). Below a
clear confidence, or over passages none of which is in the question's language (words cannot be checked
across languages), its text is not shown: it only decides between the quotes and abstaining (across
languages, its "not found" is only the quotes' notice). When the
model cannot be reached, the extractive answer is given, with a notice.

Usage: ``GenerativeAnswerer(engine, load_chat_model(settings))``; :meth:`GenerativeAnswerer.stream`
yields the model's text as it comes, then the checked :class:`~assistant.answering.types.Answer`.
An unreachable endpoint still answers, extractively:

    >>> from assistant.models.chat import load_chat_model
    >>> down = settings.with_(llm_base_url="http://127.0.0.1:9/v1", llm_timeout=2.0)
    >>> answer = GenerativeAnswerer(engine, load_chat_model(down)).ask("Qu'est-ce que le réseau EuroCAN ?")
    >>> answer.mode, answer.notice.startswith("Le modèle de langage est injoignable")
    ('extractive', True)
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace

from langchain_core.language_models import BaseChatModel

from assistant.answering.answer_type import gives_asked
from assistant.answering.answerability import clearly_answerable
from assistant.answering.claims import UNSUPPORTED, Checked, across_languages, looping
from assistant.answering.conversation import (
    Question,
    is_follow_up,
    is_list_question,
    keeps_question,
    retrieval_query,
)
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.grounding import Grounder
from assistant.answering.lists import complete_list, list_intros, named_kind
from assistant.answering.prompting import (
    answer_messages,
    rewrite_messages,
)
from assistant.answering.search import SearchEngine, retrieve
from assistant.answering.types import (
    MARKER,
    NOT_FOUND_MARK,
    Answer,
    Citation,
    Hit,
    Preview,
    Quote,
    Retrieved,
    final_answer,
)
from assistant.errors import Cancelled, QuestionError, short_message
from assistant.indexing.lexical import tokenize
from assistant.ingest.language import detect_language
from assistant.models.chat import stream_text

log = logging.getLogger(__name__)

# Prefill dominates the wait on 2 cores: a few short passages, not whole chunks.
MAX_LLM_PASSAGES = 6
REWRITE_MAX_TOKENS = 48
# Where a sentence of the reply ends, its markers included: "… EuroCAN [1]. Il" ends after "[1]." once the next
# word begins.
_SENTENCE_END = re.compile(r"[.!?](?:\s*\[\d+\])*(?=\s)|(?<=\S)\n")

NOTICES = {
    "model_not_found": {
        "fr": "Le modèle n’a pas trouvé de réponse directe dans ces passages : voici les plus proches de la question.",
        "en": "The model found no direct answer in these passages: here are the closest ones to the question.",
    },
    "unreachable": {
        "fr": "Le modèle de langage est injoignable ({error}) : réponse extractive.",
        "en": "The language model could not be reached ({error}): extractive answer shown.",
    },
    "stopped": {
        "fr": "Réponse arrêtée : voici les passages qui répondent.",
        "en": "Answer stopped: here are the passages that answer.",
    },
    "unanswered": {
        "fr": "La réponse générée ne donnait pas la date ou le nombre demandé : réponse extractive.",
        "en": "The generated answer did not give the date or number asked for: extractive answer shown.",
    },
    "uncertain": {
        "fr": "Confiance faible : les passages eux-mêmes plutôt qu’une réponse rédigée.",
        "en": "Low confidence: the passages themselves rather than a written answer.",
    },
    "quoted_across": {
        "fr": "Les passages sont dans une autre langue que la question : ils sont cités tels quels, une réponse "
        "rédigée ne pouvant pas être vérifiée mot à mot d’une langue à l’autre.",
        "en": "The passages are in another language than the question: they are quoted as they are, since a written "
        "answer cannot be checked word for word across languages.",
    },
    "across_languages": {
        "fr": "Réponse rédigée d’après des passages dans une autre langue : la vérification ne peut pas comparer "
        "les mots d’une langue à l’autre ; relisez chaque affirmation avec son passage cité.",
        "en": "Answer written from passages in another language: the check cannot compare words across "
        "languages; read each claim against its quoted passage.",
    },
    "unsupported": {
        "fr": "La réponse générée n’était pas appuyée par les passages : réponse extractive.",
        "en": "The generated answer was not supported by the passages: extractive answer shown.",
    },
}


class _CheckFailed(Exception):
    """The claim check failed while the model was writing: that error, not to be taken for the model's."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class GenerativeAnswerer:
    """Answers with a LangChain chat model over :func:`~assistant.answering.search.retrieve`.

    Args:
        engine: the search engine both modes retrieve from.
        chat: any LangChain chat model (the bundled llama.cpp one, or an OpenAI-compatible endpoint).
        extractive: the extractive answerer used for fallbacks and quote choice (one is made when not
            given; pass the one you already have to share its cached sentence vectors).
        across_languages: show the model's answer over passages none of which is in the question's language
            (default: the ``llm_across_languages`` setting; see :meth:`writes`).
    """

    mode = "llm"

    def __init__(
        self,
        engine: SearchEngine,
        chat: BaseChatModel,
        extractive: ExtractiveAnswerer | None = None,
        across_languages: bool | None = None,
    ) -> None:
        self.engine = engine
        self.chat = chat
        self.extractive = extractive or ExtractiveAnswerer(engine)
        self.across_languages = engine.settings.llm_across_languages if across_languages is None else across_languages

    def ask(self, question: str | Question, history: Sequence[str] | None = None) -> Answer:
        """The checked answer (the streamed text discarded)."""
        return final_answer(self.stream(question, history))

    def stream(
        self, question: str | Question, history: Sequence[str] | None = None, cancel: threading.Event | None = None
    ) -> Iterator[str | Preview | Answer]:
        """Yield the extractive answer (a :class:`Preview`: quotes first), the model's text as it comes (only when it
        will be shown: :meth:`writes`), then the checked answer.

        Args:
            question: the question (raw text is cleaned here).
            history: earlier questions of the conversation, oldest first.
            cancel: when set, the answer stops (the bundled model also while it waits or reads its prompt); the
                quotes already shown are the answer, with a notice.

        Raises:
            QuestionError: empty or over-long question.
        """
        asked = Question.of(question, history, self.engine.settings.max_question_chars)
        preview: Answer | None = None
        try:
            standalone = self.rewrite(asked.text, asked.history) or retrieval_query(asked.text, asked.history)
            found = retrieve(self.engine, asked, query=standalone)
            quotes = self.extractive.evidence(found) if found.answerable else []
            if not quotes:  # nothing answers, or no passage carries the question's subject: the model is not asked
                yield found.abstention(self.mode)
                return
            preview = self.extractive.quoting(found, quotes)
            passages = self.passages(found, quotes)
            yield Preview(preview, written=self.writes(found, passages))
            reply, settled = yield from self._read(found, passages, preview, standalone, cancel)
        except _CheckFailed as failed:  # the claim check's own failure, not the model's: raised as it would be after
            raise failed.error from None
        except Cancelled:
            if preview is not None:
                yield replace(preview, notice=NOTICES["stopped"][preview.language])
            return
        except QuestionError:  # the question's own fault (sources that choose no document): not the model's
            raise
        except Exception as err:  # any transport or model failure: the extractive answer still stands
            log.warning("language model failed: %s", err)
            yield self._fallback(preview or self.extractive.ask(asked), "unreachable", short_message(err, 120))
            return
        yield settled or self._checked(found, passages, reply, preview)

    def rewrite(self, question: str, history: Sequence[str]) -> str | None:
        """A standalone version of a follow-up question, written by the model (None if not a follow-up)."""
        if not history or not is_follow_up(question):
            return None
        reply = self.chat.invoke(rewrite_messages(question, history), max_tokens=REWRITE_MAX_TOKENS)
        rewritten = str(reply.content).strip().strip('"«» ').splitlines()
        candidate = rewritten[0].strip() if rewritten else ""
        # A rewrite that lost the question (empty, rambling, another question word or language) or the
        # conversation's subject (no word of the earlier questions) is worse than the heuristic, which
        # borrows the conversation's subject (conversation.retrieval_query).
        earlier = set(tokenize(" ".join(history))) - set(tokenize(question))
        if not candidate or len(candidate) > 3 * len(question) + 200 or not earlier & set(tokenize(candidate)):
            return None
        return candidate if keeps_question(candidate, question, detect_language(question)) else None

    def passages(self, found: Retrieved, quotes: list[Quote] | None = None) -> list[Hit]:
        """What the model reads: the sentences the extractive answer quotes (``quotes``, from
        :meth:`ExtractiveAnswerer.evidence <assistant.answering.extractive.ExtractiveAnswerer.evidence>`),
        merged where they touch.

        The evidence already reads a sentence opening with a pronoun with the one before it, and follows list
        introductions to their members, so a list question gets every member. Prefill is the slow part on a
        CPU: measured on the ONPE set (2026-12-02), adding each quote's previous sentence or the best passage
        whole lengthened prompts (median 292 tokens beyond the system prompt, against 279) for no more facts
        found (0.779 against 0.790).
        """
        snap = self.engine.snapshot
        merged: list[Hit] = []
        chosen = self.extractive.evidence(found) if quotes is None else quotes
        for chunk, q_start, q_end, q_score in sorted(chosen, key=lambda q: (q[0].source, q[1])):
            start, end, score = q_start, q_end, q_score
            last = merged[-1].chunk if merged else None
            if last is not None and last.source == chunk.source and start <= last.end:
                start, end, score = last.start, max(end, last.end), max(score, merged[-1].score)
                merged.pop()
            text = snap.documents[chunk.source].text[start:end]
            window = replace(chunk, id=f"{chunk.id}@{start}", start=start, end=end, text=text)
            merged.append(Hit(window, score, score, score))
        return merged[:MAX_LLM_PASSAGES]

    def writes(self, found: Retrieved, hits: list[Hit]) -> bool:
        """Whether the model's answer over ``hits`` is shown: at or above the clear confidence, and with a passage in
        the question's language unless ``llm_across_languages`` is set. Otherwise the model only says whether the
        passages answer: the quotes stand (across languages its "not found" becomes their notice), or the answer
        abstains.

        Across languages words cannot be compared, so a written claim passes a weaker check: on three samples of the
        realistic suite read by hand, 21-32 % of the bundled model's English claims over French passages were wrong
        (5 % of its French ones), and on four samples the quotes held more of the expected facts (0.725 against 0.550
        on the PIAF questions, 0.775 against 0.713 on the ONPE ones).
        """
        return clearly_answerable(found.confidence) and self._compares(found, hits)

    def _compares(self, found: Retrieved, hits: list[Hit]) -> bool:
        """Whether a passage the model reads is in the question's language (or ``across_languages`` is set)."""
        return self.across_languages or any(h.chunk.language == found.language for h in hits)

    def _read(
        self, found: Retrieved, hits: list[Hit], preview: Answer, standalone: str, cancel: threading.Event | None
    ) -> Generator[str, None, tuple[str, Answer | None]]:
        """The model's reply to ``standalone`` over ``hits``, yielded piece by piece, and the answer it settled early.

        When the answer is not ``written`` (:meth:`writes`) its text is never shown (see :meth:`_checked`): the model
        only says whether the passages answer, so its text is not yielded and it stops once that is settled.
        """
        written = self.writes(found, hits)
        # A follow-up reaches the model in its standalone form, pronouns resolved.
        messages = answer_messages(standalone, found.language, [h.chunk for h in hits])
        reply = ""
        for text in stream_text(self.chat, messages, cancel):
            before, reply = reply, reply + text
            if written:
                yield text
            elif (settled := self._settled(found, hits, before, reply, preview)) is not None:
                return reply, settled
            if looping(reply):  # greedy decoding stuck: what follows would repeat until max_tokens
                break
        return reply, None

    def _settled(self, found: Retrieved, hits: list[Hit], before: str, text: str, preview: Answer) -> Answer | None:
        """When the model's text is not shown (:meth:`writes`), the answer as soon as the reply written so far
        (``text``; ``before`` it was the reply without its last piece) decides it, else None.

        Each time a sentence ends, the reply so far is checked: one supported claim (giving the date or number
        asked for) is enough for the quotes to stand, as in the whole reply; "not found" settles it too (see
        :meth:`_checked`: an abstention, or across languages the quotes' notice). Otherwise the
        model goes on, since a later sentence may be the supported one.
        """
        ends = [m.end() for m in _SENTENCE_END.finditer(text)]
        if NOT_FOUND_MARK not in text and len(ends) == len(_SENTENCE_END.findall(before)):
            return None
        # The prefix is split into claims as the whole reply would be (an abbreviation's « M. » ends a claim there
        # too), and claims are checked one by one: a claim supported now is supported in the whole reply.
        try:
            early = self._checked(found, hits, text if NOT_FOUND_MARK in text else text[: ends[-1]], preview)
        except Exception as err:
            raise _CheckFailed(err) from err
        return early if NOT_FOUND_MARK in text or not early.abstained else None

    def _checked(self, found: Retrieved, hits: list[Hit], text: str, preview: Answer) -> Answer:
        snap = self.engine.snapshot
        chunks = [h.chunk for h in hits]
        intros = list_intros(chunks)
        grounder = Grounder(chunks, self.engine.embeddings, snap.lexical.known, self.engine.sentence_vectors, intros)
        checked = grounder.check(text, found.question)
        not_found = checked.not_found or NOT_FOUND_MARK in text
        # The small model often misses a French passage answering an English question: when the calibrated
        # confidence says the documents more likely than not answer, the quotes are worth more than its "not
        # found", unless the documents never use a key word of the question: then the model is right.
        # Honouring every "not found" was measured (ONPE set, 2026-12-01): abstention 1.000 but false
        # abstention 0.130 against 0.933 / 0.022. A reply none of whose claims the passages support is the
        # model failing to answer from them too: the same rule (held-out realistic suite, README "What the
        # model reads": quotes shown after such replies were mostly unrelated to the question).
        # A "which year?" or "how many?" answered without a year or a number, where the quotes give one, is not
        # answered (« Et en quelle année ? » → « Les Assises se tiennent tous les 12 mois… »).
        kept = [c["text"] for c in checked.claims if c["status"] != UNSUPPORTED]
        unanswered = not checked.used or not gives_asked(found.query, kept, MARKER.sub(" ", preview.answer))
        # Across languages its "not found" is a notice on the quotes (said uncertain below 0.5), not an abstention:
        # there it refused one answerable question for about four unanswerable ones (four samples); a
        # refusal hides an answer that is there, the notice and the banner tell the reader what the model thought.
        compares = self._compares(found, hits)
        refused = found.missing or (not clearly_answerable(found.confidence) and compares)
        if (not_found or unanswered) and refused:
            return found.abstention(self.mode)
        if not compares:  # never written there (see writes): the quotes, with the model's verdict
            why = "quoted_across" if clearly_answerable(found.confidence) else "uncertain"
            return self._fallback(preview, "model_not_found" if not_found else why, "")
        if not_found or unanswered:
            fallback = replace(preview)
            why = "model_not_found" if not_found else "unsupported" if not checked.used else "unanswered"
            fallback.notice = NOTICES[why][found.language]
            fallback.dropped = [] if not_found else checked.dropped
            return fallback
        if not clearly_answerable(found.confidence):
            # The documents more likely than not do not answer: a written answer there mostly puts the question's
            # words on a passage about something else ("The body was found in a church" over « il y découvre un
            # spectacle de corps entassés »), which the quotes cannot do; they held as many facts on four samples.
            return self._fallback(preview, "uncertain", "")
        if is_list_question(found.question):
            named = named_kind(chunks, found.question)
            checked = complete_list(checked, chunks, [n is not None for n in intros], found.language, named)
        return _compose(found, hits, checked)

    @staticmethod
    def _fallback(quotes: Answer, why: str, error: str) -> Answer:
        """The quotes already shown (or the extractive answer), with a notice saying why."""
        return replace(quotes, notice=NOTICES[why][quotes.language].format(error=error))


def _compose(found: Retrieved, hits: list[Hit], checked: Checked) -> Answer:
    citations = [Citation.of(n, hits[i].chunk, hits[i].score, checked.quotes[i]) for n, i in enumerate(checked.used, 1)]
    written = detect_language(MARKER.sub(" ", checked.text))
    claims = across_languages(checked.claims, [hits[i].chunk.language for i in checked.used], written)
    # A claim checked across languages passed a weaker check: the reader is told to compare it with its quote.
    notice = NOTICES["across_languages"][found.language] if any("across_languages" in c for c in claims) else None
    answer = Answer(found.question, checked.text, False, GenerativeAnswerer.mode, found.language, citations,
                    notice=notice, dropped=checked.dropped, claims=claims)  # fmt: skip
    return found.answered(answer)
