"""List members a small model left out of its answer: which are appended, how they are cited and said."""

from __future__ import annotations

from assistant.answering.claims import Checked
from assistant.answering.lists import complete_list, list_intros, named_kind
from assistant.ingest.chunks import Chunk


def _passages(*texts: str) -> list[Chunk]:
    """Passages of one document section, one after the other."""
    chunks, start = [], 0
    for n, text in enumerate(texts):
        chunks.append(Chunk(str(n), "page", "Page", "Réseaux", start, start + len(text), text))
        start += len(text) + 1
    return chunks


def _completed(question: str, reply: str, chunks: list[Chunk]) -> Checked:
    """``reply`` citing the first passage, completed as the LLM path does for a list question."""
    checked = Checked(reply, [0], {0: chunks[0].sentences()[0]}, [])
    intros = [n is not None for n in list_intros(chunks)]
    return complete_list(checked, chunks, intros, "fr", named_kind(chunks, question))


def test_a_member_named_in_two_overlapping_passages_is_added_once_with_the_sentence_naming_it() -> None:
    chunks = _passages(
        "Le CNRS est membre d’ESN.",
        "Il s’agit d’un réseau de chercheurs. Il participe au réseau EUSARF.",
        "Il participe au réseau EUSARF. Il participe au réseau EuroCAN.",
    )
    done = _completed("À quels réseaux le CNRS participe-t-il ?", "Le CNRS est membre d’ESN [1].", chunks)
    assert done.text.endswith("Les documents citent aussi : EUSARF [2], EuroCAN [3]."), done.text
    assert done.used == [0, 1, 2] and chunks[1].slice(*done.quotes[1]) == "Il participe au réseau EUSARF."
    assert chunks[2].slice(*done.quotes[2]) == "Il participe au réseau EuroCAN."
    assert done.claims[-1] == {"text": done.text.split("[1]. ")[1], "status": "supported", "citations": [2, 3]}


def test_members_of_an_introduced_list_keep_their_own_names_beside_named_ones() -> None:
    """A member of a ``tels que :`` list is named by its first acronym the rest of the passages do not use, even when
    another passage names the organisation itself beside the kind asked for; the wording says the list only when
    every member added comes from it."""
    chunks = _passages(
        "Le CNRS est membre d’ESN.",
        "Le CNRS participe au réseau EUSARF.",
        "Le CNRS a des réseaux, tels que :",
        "ISPCAN, depuis 2010.",
    )
    done = _completed("Quels réseaux ?", "Le CNRS est membre d’ESN [1].", chunks)
    assert done.text.endswith("Les documents citent aussi : EUSARF [2], ISPCAN [3]."), done.text
    listed = _completed("Quels réseaux ?", "Le CNRS est membre d’ESN [1].", [chunks[0], *chunks[2:]])
    assert listed.text.endswith("La liste des documents cite aussi : ISPCAN [2]."), listed.text


def test_nothing_is_added_where_no_member_of_the_kind_asked_is_named() -> None:
    chunks = _passages(
        "Le CNRS est membre d’ESN.",
        "Le réseau du CNRS compte 40 laboratoires.",  # the CNRS's network, not a network called CNRS
        "Sous le roi Louis XIV, le réseau fut créé.",  # a Roman numeral is not a name
        "Il rejoint le réseau. INSERM et CDC le financent.",  # another sentence
        "Il participe au réseau EUSARF.",
    )
    reply = "Le CNRS est membre d’ESN [1]."
    for question in ("Quels réseaux ?", "Qu'est-ce que le CNRS ?", "Quels laboratoires ?", "Which network funds it?"):
        added = _completed(question, reply, chunks[:4]).text
        assert added == reply, (question, added)
    assert _completed("Quelle est la mission du CNRS ?", reply, chunks).text == reply
    assert _completed("Which EUSARF groups ?", reply, chunks).text == reply  # asks about EUSARF, not for a list
