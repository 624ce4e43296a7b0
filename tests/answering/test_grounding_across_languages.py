"""The grounding check across languages (English claims over French passages), with the real embedder.

Words cannot be compared across languages: what is checked is what a translation would not write (a name of its
own, look-alike words the passage lacks). The claims are what the bundled model wrote, read by hand.
"""

from __future__ import annotations

from assistant.answering.extractive import ExtractiveAnswerer
from tests.helpers import dropped, grounder_over

EUSARF = (
    "EUSARF est un regroupement d’universitaires et de scientifiques visant à faire avancer la connaissance dans le "
    "domaine de la protection de l’enfance en développant la recherche empirique et théorique et l’échange "
    "d’informations entre membres européens et non-européens. Il organise régulièrement des rencontres "
    "internationales."
)
SUCCESS = (
    "Le succès des Assises repose donc principalement sur la qualité de leur contenu mais aussi sur le soin attaché à "
    "proposer une ambiance conviviale."
)


def test_across_languages_look_alike_words_do_not_support_a_claim(answerer: ExtractiveAnswerer) -> None:
    """Every word of "EUSARF is not international" has a look-alike in the passage, which says the opposite."""
    grounder = grounder_over(answerer, EUSARF)
    checked = grounder.check("EUSARF is not international [1].")
    assert checked.used == [] and checked.dropped, checked
    assert grounder.check("EUSARF brings together academics and scientists [1].").used == [0]


def test_across_languages_two_words_of_both_languages_the_passages_lack_are_an_addition(
    answerer: ExtractiveAnswerer,
) -> None:
    """What the bundled model wrote over the ONPE pages (read by hand, 2026-12-06), over EUSARF's first sentence
    alone (the page says « internationales » further on): neither "non-profit" nor "international" is in it. One
    such word is not enough: "content" is the translation of « contenu »."""
    grounder = grounder_over(answerer, EUSARF.split(" Il organise", maxsplit=1)[0], SUCCESS)
    added = "EUSARF is a non-profit international organization [1]."
    faithful = (
        "The success of the Assises is primarily due to the quality of their content and the care taken to create a "
        "convivial atmosphere [2]."
    )
    checked = grounder.check(added)
    assert dropped(checked), checked
    assert grounder.check(faithful).used == [1]


MARINA = (
    "Elles constituent l’occasion de présenter des travaux attendus comme, lors de l’édition 2014 à Lille, les "
    "conclusions de la mission d’enquête du Défenseur des droits sur l’affaire Marina."
)


def test_across_languages_a_translated_name_is_not_the_documents_name(answerer: ExtractiveAnswerer) -> None:
    """The reader looks for « Défenseur des droits » in the documents; "Defense of Rights" is nowhere there."""
    grounder = grounder_over(answerer, MARINA)
    translated = grounder.check(
        "The conclusions of the mission of the Defense of Rights on the Affair Marina were presented in Lille [1]."
    )
    assert dropped(translated), translated
    kept = grounder.check(
        "In 2014 in Lille, the conclusions of the Défenseur des droits' inquiry into the Marina case were "
        "presented [1]."
    )
    assert kept.used == [0], kept
    # One capitalised word after a sentence's first is no name of several words; "iPhone Pro" is not "Phone Pro".
    for claim in ("The Observatory presented its conclusions in Lille [1].", "The iPhone Pro was shown [1]."):
        assert not grounder._translated(claim, [0]), claim
