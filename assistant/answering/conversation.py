"""Questions as users type them: cleaned once where they enter, read in their conversation.

:meth:`Question.parse` cleans the text (or refuses it with a clear reason) and detects its
language; a :class:`Question` is then passed down as is, never cleaned again. A follow-up
(pronoun, "and…", or too short to stand alone) borrows the previous question's subject.

Example:
    >>> q = Question.parse("  Et où   ont-elles lieu ?", ["Qui organise les Assises ?"])
    >>> q.text, q.language, is_follow_up(q.text)
    ('Et où ont-elles lieu ?', 'fr', True)
    >>> retrieval_query(q.text, list(q.history))
    'Assises Et où ont-elles lieu ?'
    >>> Question.parse(" \\x00 ")
    Traceback (most recent call last):
    ...
    assistant.errors.QuestionError: the question is empty
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.answer_type import capitalised
from assistant.answering.sources import clean_patterns
from assistant.config import DEFAULT_MAX_QUESTION_CHARS as MAX_QUESTION_CHARS
from assistant.errors import QuestionError
from assistant.indexing.lexical import tokenize
from assistant.ingest.cleaning import normalize
from assistant.ingest.language import detect_language

_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|et|mais|aussi|puis)\b|\b(it|its|they|their|them|he|she|his|her|"
    r"il|elle|ils|elles|son|sa|ses|leur|leurs|celui-ci|celle-ci|ceux-ci|y)\b",
    re.IGNORECASE,
)
FOLLOW_UP_MAX_WORDS = 4
# Words that thank or acknowledge: a message made of them only ("merci", "ok") asks nothing of the conversation.
_COURTESY = frozenset({
    "merci", "thanks", "thank", "you", "ok", "okay", "d", "accord", "daccord", "bonjour", "bonsoir", "hello", "hi",
    "salut", "super", "parfait", "génial", "cool", "bravo", "beaucoup", "much", "lot", "a",
})  # fmt: skip
LIST_QUESTION = re.compile(
    r"\b(which|what are|list|name the|quels|quelles|lesquels|lesquelles|liste|citez|énumérez)\b", re.I
)


_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (from bytes that were not UTF-8 on a command line, or ``"\\ud800"`` in
    JSON) replaced by U+FFFD: they cannot be encoded, so they would fail later, deep in the search.

    >>> valid_unicode("Qui organise \\udcff les Assises ?") == "Qui organise \\ufffd les Assises ?"
    True
    """
    return _SURROGATE.sub("\ufffd", text)


def clean_question(question: object, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """Normalise whitespace and drop control characters (NUL included).

    Raises:
        QuestionError: not text, empty after cleaning, or longer than ``max_chars``.
    """
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    cleaned = normalize(valid_unicode(question))
    if not cleaned:
        raise QuestionError("the question is empty")
    if len(cleaned) > max_chars:
        raise QuestionError(f"the question is too long ({len(cleaned)} characters; the limit is {max_chars})")
    return cleaned


@dataclass(frozen=True)
class Question:
    """A cleaned question, the earlier questions of its conversation, and its language."""

    text: str
    history: tuple[str, ...] = ()
    language: str = "fr"
    # Glob patterns or folders the search is limited to (assistant.answering.sources); none: the whole corpus.
    sources: tuple[str, ...] = ()
    # The documents the asker may read (team.groups), enforced by the search; None: all of them.
    readable: frozenset[str] | None = None

    @classmethod
    def parse(
        cls,
        text: object,
        history: object = None,
        max_chars: int = MAX_QUESTION_CHARS,
        sources: object = None,
    ) -> Question:
        """Clean ``text`` and detect its language; ``sources`` limit the search to chosen documents.

        Raises:
            QuestionError: see :func:`clean_question` and :func:`~assistant.answering.sources.clean_patterns`;
                ``history`` not a list of strings.
        """
        cleaned = clean_question(text, max_chars)
        return cls(cleaned, clean_history(history), detect_language(cleaned), clean_patterns(sources))

    @classmethod
    def of(cls, question: str | Question, history: Sequence[str] | None, max_chars: int) -> Question:
        """``question`` as a :class:`Question`: parsed when it is still raw text, else as it is.

        Raises:
            QuestionError: see :func:`clean_question`.
            ValueError: a :class:`Question` given with a ``history`` beside it (it carries its own).
        """
        if not isinstance(question, Question):
            return cls.parse(question, history, max_chars)
        if history:
            raise ValueError("a Question carries its own history: pass none beside it")
        return question


def clean_history(history: object) -> tuple[str, ...]:
    """Earlier questions as given by a caller (an API client may send anything): a list of strings, or none.

    >>> clean_history(["Qui organise les Assises ?"]), clean_history(None)
    (('Qui organise les Assises ?',), ())
    >>> clean_history("Qui organise les Assises ?")  # a string is not split into letters
    Traceback (most recent call last):
    assistant.errors.QuestionError: history must be a list of earlier questions (strings)
    """
    if history is None:
        return ()
    if (
        isinstance(history, str | bytes)
        or not isinstance(history, Sequence)
        or not all(isinstance(h, str) for h in history)
    ):
        raise QuestionError("history must be a list of earlier questions (strings)")
    return tuple(valid_unicode(h) for h in history)


def asks_nothing(message: str) -> bool:
    """Whether ``message`` has no word ("???", emoji) or only thanks ("Merci !", "ok"): nothing to look for.

    >>> asks_nothing("👍"), asks_nothing("Merci beaucoup !"), asks_nothing("Et où ?")
    (True, True, False)
    """
    return all(w in _COURTESY for w in re.findall(r"[^\W_]+", message.lower()))


def is_follow_up(question: str) -> bool:
    """Does the question lean on the conversation (pronoun, "and…", or too short to stand alone)?

    A message without a word ("???", emoji) or of thanks only ("Merci !") does not: borrowing the
    conversation's subject would answer the earlier question again, confidently.

    >>> is_follow_up("Who funds it?"), is_follow_up("Which networks is ONPE a member of?")
    (True, False)
    >>> is_follow_up("???"), is_follow_up("😀🔥"), is_follow_up("Merci beaucoup !"), is_follow_up("Et où ?")
    (False, False, False, True)
    """
    if asks_nothing(question):
        return False
    return bool(_FOLLOW_UP.search(question)) or len(question.split()) <= FOLLOW_UP_MAX_WORDS


def names(question: str) -> str:
    """The names ``question`` writes, in order, once each ("" when it has none).

    >>> names("Qui organise les Assises ?"), names("What kind of organisation is EUSARF?")
    ('Assises', 'EUSARF')
    """
    return " ".join(dict.fromkeys(capitalised(question.strip())))


def subject(history: Sequence[str]) -> str:
    """What the conversation is about, for a follow-up to carry: the last question's names.

    A follow-up keeps its own question word and predicate ("Et où ont-elles lieu ?" after "Qui organise
    les Assises ?" asks where, not who): prepending the whole earlier question made the search answer
    the earlier question again. A question without names lends itself whole, unless it was a follow-up
    too: then the subject is looked for further back.

    >>> subject(["Qui organise les Assises ?", "Et où ont-elles lieu ?"])
    'Assises'
    >>> subject(["Comment faire une tarte aux pommes ?"])
    'Comment faire une tarte aux pommes ?'
    """
    for i in range(len(history) - 1, -1, -1):
        if found := names(history[i]):
            return found
        if i == 0 or not is_follow_up(history[i]):
            return history[i]
    return ""


def retrieval_query(question: str, history: Sequence[str] | None = None) -> str:
    """The text to search with: a follow-up borrows the subject of the conversation (:func:`subject`).

    >>> retrieval_query("Et où ont-elles lieu ?", ["Qui organise les Assises ?"])
    'Assises Et où ont-elles lieu ?'
    """
    if not history or not is_follow_up(question):
        return question
    return f"{subject(history)} {question}"


def asked_about(words: list[str], question: str, query: str) -> list[str]:
    """Those of ``words`` (found in the search ``query``) that ``question`` asks about.

    A follow-up that names a subject of its own does not ask about the words it borrowed: after "What is the
    weather in Brest?", « Et l'ISPCAN ? » must not be told the documents never mention Brest. One without
    a name of its own ("And its budget?") asks about the borrowed subject too.

    >>> asked_about(["Brest", "weather"], "Et l'ISPCAN ?", "Brest Et l'ISPCAN ?")
    []
    >>> asked_about(["FOO", "budget"], "Et son budget ?", "FOO Et son budget ?")
    ['FOO', 'budget']
    """
    if query == question or not names(question):
        return words
    own = set(tokenize(question))
    return [w for w in words if set(tokenize(w)) & own]


_ASKING = re.compile(
    r"\b(what|which|who|whom|whose|when|where|why|how|quel(le)?s?|qui|quoi|quand|où|comment|pourquoi|combien|"
    r"lequel|laquelle|lesquel(le)?s)\b",
    re.IGNORECASE,
)
# Share of a follow-up's own content words (its predicate) that its rewrite must keep.
KEPT_SHARE = 0.5


def keeps_question(rewrite: str, question: str, language: str) -> bool:
    """Whether ``rewrite`` still asks what the follow-up ``question`` asked, in its language.

    A small model's rewrite may answer the conversation instead of the question: after « Qui organise les
    Assises ? », « Et où ont-elles lieu ? » came back "Who organizes the Assises?". The rewrite must keep
    the follow-up's question word, most of its content words, and its language.

    >>> keeps_question("Où ont lieu les Assises ?", "Et où ont-elles lieu ?", "fr")
    True
    >>> keeps_question("Who organizes the Assises?", "Et où ont-elles lieu ?", "fr")
    False
    """
    asked = {m.group(0).lower() for m in _ASKING.finditer(question)}
    if asked and not asked & {m.group(0).lower() for m in _ASKING.finditer(rewrite)}:
        return False
    own = set(tokenize(question))
    if own and len(own & set(tokenize(rewrite))) < KEPT_SHARE * len(own):
        return False
    return detect_language(rewrite) == language


def is_list_question(question: str) -> bool:
    """Does the question ask for several things ("which…", "quels…", "list…")?

    >>> is_list_question("Quels réseaux ?"), is_list_question("Depuis quand ?")
    (True, False)
    """
    return bool(LIST_QUESTION.search(question))
