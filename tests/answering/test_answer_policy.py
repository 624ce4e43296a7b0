"""What the LLM path does with the model's reply: a scripted LangChain chat model stands in for the model (its
reply is written here), retrieval, the claim check and the fallbacks are real (ONPE pages, real embedder).
"""

from __future__ import annotations

import pytest

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.generative import GenerativeAnswerer


def _scripted(answerer: ExtractiveAnswerer, reply: str, across_languages: bool = True) -> GenerativeAnswerer:
    """The LLM path with a scripted LangChain chat model standing in for the model: the policy is under test.

    Most replies here are English over the French ONPE pages: with ``across_languages`` they are shown as a
    stronger model's would be (the bundled model's default is the quotes there: see the test just below)."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    chat = FakeListChatModel(responses=[reply])
    return GenerativeAnswerer(answerer.engine, chat, answerer, across_languages=across_languages)


@pytest.mark.parametrize(
    ("question", "reply", "written"),
    [
        ("Which networks does ONPE take part in?", "ONPE takes part in the EuroCAN network [1].", False),
        # Unsupported: the reader never saw it, so neither a notice about it nor its text in `dropped`.
        ("Which networks does ONPE take part in?", "EuroCAN is funded by the European Union [1].", False),
        ("À quels réseaux l'ONPE participe-t-il ?", "L'ONPE participe au réseau EuroCAN [1].", True),
    ],
)
def test_over_passages_in_another_language_the_quotes_stand_and_no_text_is_streamed(
    answerer: ExtractiveAnswerer, question: str, reply: str, written: bool
) -> None:
    """By default a reply over passages none of which is in the question's language is not shown (its words cannot
    be checked against theirs): the model only says whether they answer, and the quotes stand, said why. In the
    passages' language the reply is written as usual."""
    from assistant.answering.types import Answer, Preview

    events = list(_scripted(answerer, reply, across_languages=False).stream(question))
    assert isinstance(events[0], Preview) and events[0].written is written
    assert any(isinstance(e, str) for e in events) is written, events
    final = events[-1]
    assert isinstance(final, Answer) and not final.abstained and any("EuroCAN" in c.text for c in final.citations)
    if written:
        assert final.mode == "llm" and final.answer.startswith("L'ONPE participe"), final
    else:
        assert final.mode == "extractive" and reply not in final.answer and final.dropped == [], final
        assert final.notice and "quoted as they are" in final.notice, final


@pytest.mark.parametrize(
    ("question", "abstains"),
    [("Which networks does ONPE take part in?", False), ("À quels réseaux l'ONPE participe-t-il ?", True)],
)
def test_across_languages_the_model_s_not_found_is_a_notice_on_uncertain_quotes(
    answerer: ExtractiveAnswerer, monkeypatch: pytest.MonkeyPatch, question: str, abstains: bool
) -> None:
    """Below the clear confidence the model's "not found" abstains when it read passages in the question's language;
    over passages in another language (where it refused one answerable question for about four unanswerable
    ones) the quotes stand, said uncertain, with the model's verdict as their notice."""
    from assistant.answering import answerability

    monkeypatch.setattr(answerability, "CLEAR_CONFIDENCE", 1.01)
    answer = _scripted(answerer, "NOT_FOUND", across_languages=False).ask(question)
    assert answer.abstained is abstains, answer
    if not abstains:
        assert answer.uncertain and answer.mode == "extractive" and any("EuroCAN" in c.text for c in answer.citations)
        assert answer.notice and "found no direct answer" in answer.notice, answer


def test_a_looping_model_is_stopped_and_its_answer_said_once(answerer: ExtractiveAnswerer) -> None:
    """Greedy decoding stuck on a sentence would write it until max_tokens: the stream stops at the third time."""
    from assistant.answering.types import Preview

    generated = _scripted(answerer, "EuroCAN is a network [1]. " * 40 + "THE END")
    pieces = list(generated.stream("What is EuroCAN?"))
    written = "".join(p for p in pieces if isinstance(p, str))
    assert "THE END" not in written and written.count("EuroCAN is a network") == 3, written
    final = pieces[-1]
    assert not isinstance(final, (str, Preview)) and final.answer.count("EuroCAN is a network") == 1, final


@pytest.mark.parametrize(
    ("reply", "notice"),
    [("NOT_FOUND", "found no direct answer"), ("The Moon is made of cheese [1].", "not supported by the passages")],
)
def test_model_reply_without_support_gives_the_quotes_with_a_notice(
    answerer: ExtractiveAnswerer, reply: str, notice: str
) -> None:
    """When retrieval finds the answer but the model's reply is "not found" or unsupported.

    A scripted LangChain chat model stands in for the LLM: the policy is under test, not the model.
    """
    answer = _scripted(answerer, reply).ask("Who funds the EuroCAN network?")
    assert answer.mode == "extractive" and not answer.abstained
    assert answer.notice and notice in answer.notice
    assert any("EuroCAN" in c.text for c in answer.citations)


@pytest.mark.parametrize("reply", ["NOT_FOUND", "The Moon is made of cheese [1]."])
def test_model_not_found_is_trusted_when_retrieval_is_not_clearly_confident(
    answerer: ExtractiveAnswerer, monkeypatch: pytest.MonkeyPatch, reply: str
) -> None:
    """Below the clear confidence, the model's "not found", or a reply the passages do not support at all,
    stands: an honest abstention, not quotes the model could not answer from."""
    from assistant.answering import answerability

    monkeypatch.setattr(answerability, "CLEAR_CONFIDENCE", 1.01)
    answer = _scripted(answerer, reply).ask("Who funds the EuroCAN network?")
    assert answer.abstained and answer.citations == [] and answer.mode == "llm"


def test_a_written_answer_below_clear_confidence_gives_way_to_the_quotes(
    answerer: ExtractiveAnswerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the clear confidence, a reply the passages support is still not shown: there the model mostly puts
    the question's words on a passage about something else; the quotes, said uncertain, stand instead."""
    from assistant.answering import answerability

    reply = "ONPE takes part in the EuroCAN network [1]."
    assert _scripted(answerer, reply).ask("Which networks does ONPE take part in?").mode == "llm"
    monkeypatch.setattr(answerability, "CLEAR_CONFIDENCE", 1.01)
    answer = _scripted(answerer, reply).ask("Which networks does ONPE take part in?")
    assert answer.mode == "extractive" and not answer.abstained and answer.uncertain, answer
    assert answer.notice and "Low confidence" in answer.notice and reply not in answer.answer, answer
    assert any("EuroCAN" in c.text for c in answer.citations)


def test_below_clear_confidence_the_reply_is_not_streamed_and_stops_once_it_is_settled(
    answerer: ExtractiveAnswerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its text would never be shown: the model is read only until one supported sentence settles that the quotes
    stand (or its "not found" that the answer abstains), and none of it reaches the reader meanwhile."""
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from assistant.answering import answerability
    from assistant.answering.types import Answer, Preview

    read: list[str] = []

    class Counting(FakeListChatModel):
        def _stream(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            for chunk in super()._stream(*args, **kwargs):  # type: ignore[arg-type]
                read.append(chunk.message.content)  # type: ignore[arg-type]
                yield chunk

    monkeypatch.setattr(answerability, "CLEAR_CONFIDENCE", 1.01)
    unsupported = "The Moon is made of cheese [1]. "
    reply = unsupported + "ONPE takes part in the EuroCAN network [1]. " + "It also has many other networks. " * 20
    chat = Counting(responses=[reply, "NOT_FOUND and more words " * 10])
    generated = GenerativeAnswerer(answerer.engine, chat, answerer, across_languages=True)
    events = list(generated.stream("Which networks does ONPE take part in?"))
    assert not any(isinstance(e, str) for e in events), events
    assert isinstance(events[0], Preview) and not events[0].written
    final = events[-1]
    assert isinstance(final, Answer) and final.uncertain and not final.abstained and final.mode == "extractive"
    # Read past the unsupported first sentence to the supported second one, and no further.
    assert "EuroCAN network [1]." in "".join(read) and "other networks" not in "".join(read), "".join(read)
    read.clear()
    events = list(generated.stream("Which networks does ONPE take part in?"))
    assert isinstance(events[-1], Answer) and events[-1].abstained and "more words" not in "".join(read)


def test_a_claim_check_failing_while_the_model_writes_is_not_taken_for_the_model_s(
    answerer: ExtractiveAnswerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the clear confidence the check runs inside the model's stream: its own bug must surface as itself,
    not as « Le modèle de langage est injoignable »."""
    from assistant.answering import answerability

    def broken(*args: object) -> None:
        raise RuntimeError("check broken")

    monkeypatch.setattr(answerability, "CLEAR_CONFIDENCE", 1.01)
    monkeypatch.setattr(GenerativeAnswerer, "_checked", broken)
    with pytest.raises(RuntimeError, match="check broken"):
        _scripted(answerer, "ONPE takes part in the EuroCAN network [1]. More.").ask("Which networks does ONPE join?")


def test_sources_that_choose_no_document_are_the_question_s_fault_not_the_model_s(
    answerer: ExtractiveAnswerer, caplog: pytest.LogCaptureFixture
) -> None:
    """They were logged as « language model failed: no indexed document matches … »."""
    from assistant.answering.conversation import Question
    from assistant.errors import QuestionError

    asked = Question.parse("Who funds the EuroCAN network?", sources=["rapports/*.pdf"])
    with pytest.raises(QuestionError, match="no indexed document matches"):
        _scripted(answerer, "EuroCAN [1].").ask(asked)
    assert "language model failed" not in caplog.text


@pytest.mark.parametrize(
    ("question", "reply", "gives"),
    [
        (
            "Since when have the Assises existed?",
            "The Assises nationales de la protection de l'enfance bring together professionals of the sector in their "
            "diversity every year [1].",
            False,
        ),
        (
            "Since when have the Assises existed?",
            "Since 2006, the Assises nationales de la protection de l'enfance have brought together nearly 2000 "
            "professionals every year [1].",
            True,
        ),
    ],
)
def test_a_when_answered_without_a_date_gives_the_quotes_with_a_notice(
    answerer: ExtractiveAnswerer, question: str, reply: str, gives: bool
) -> None:
    """A reply the passages support that gives no date for a "when?" does not answer: the quotes (which give it)
    stand.

    A scripted LangChain chat model stands in for the LLM: the policy is under test, not the model.
    """
    answer = _scripted(answerer, reply).ask(question)
    assert "2006" in answer.answer and not answer.abstained
    if gives:  # the only notice: English claims over a French passage (test below)
        assert answer.mode == "llm" and answer.notice and "another language" in answer.notice, answer
    else:
        assert answer.mode == "extractive" and answer.notice and "date or number" in answer.notice, answer


@pytest.mark.parametrize(
    ("question", "reply", "across"),
    [
        ("Which networks does ONPE take part in?", "ONPE takes part in the EuroCAN network [1].", True),
        ("À quels réseaux l'ONPE participe-t-il ?", "L'ONPE participe au réseau EuroCAN [1].", False),
    ],
)
def test_a_claim_checked_across_languages_is_marked_and_the_answer_says_so(
    answerer: ExtractiveAnswerer, question: str, reply: str, across: bool
) -> None:
    """An English claim over a French passage passes a weaker check (words cannot be compared): it is flagged in
    the JSON and the answer tells the reader to compare it with its quote; a French claim is not."""
    answer = _scripted(answerer, reply).ask(question)
    assert answer.mode == "llm" and not answer.abstained, answer
    kept = [c for c in answer.claims if c["status"] != "unsupported"]
    assert kept and all(c.get("across_languages", False) is across for c in kept), answer.claims
    if across:
        assert answer.notice and "another language" in answer.notice, answer
    else:
        assert answer.notice is None, answer


NETWORKS = "L'observatoire fait partie de quels réseaux européens ?"


def test_a_list_answer_naming_one_member_gets_the_others_its_passages_name(answerer: ExtractiveAnswerer) -> None:
    """Members stated one sentence each (« Il participe au réseau EUSARF. ») are added once to a list answer that
    left them out, each cited with the sentence naming it."""
    reply = "L'Observatoire est membre d'ESN (European Social Network) [1]."
    answer = _scripted(answerer, reply, across_languages=False).ask(NETWORKS)
    assert answer.mode == "llm" and not answer.abstained and answer.answer.startswith("L'Observatoire"), answer
    added = answer.answer.split("Les documents citent aussi : ")[1]
    assert added.count("EUSARF [") == 1, answer.answer
    quoted = {c.n: c.text[c.quote_start - c.start : c.quote_end - c.start] for c in answer.citations}
    assert all("EUSARF" in quoted[n] for n in quoted if f"EUSARF [{n}]" in added), quoted
    assert answer.claims[-1]["status"] == "supported" and answer.claims[-1]["text"].endswith(added)
