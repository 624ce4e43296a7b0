"""The grounding check, on real ONPE passages with the real embedder and hand-written model outputs.

These outputs stand in for what a model may write (right, wrong, mis-cited); the check itself is real.
"""

from __future__ import annotations

import pytest

from assistant.answering.claims import split_claims
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.grounding import Grounder
from assistant.ingest.chunks import Chunk
from tests.helpers import dropped, grounder_over


@pytest.fixture(scope="module")
def passages(answerer: ExtractiveAnswerer) -> list[Chunk]:
    chunks = answerer.engine.snapshot.chunks
    esn = next(c for c in chunks if "membre d’ESN" in c.text)
    eusarf = next(c for c in chunks if "réseau EUSARF" in c.text)
    ispcan = next(c for c in chunks if "Child abuse and neglect" in c.text)
    return [esn, eusarf, ispcan]


@pytest.fixture(scope="module")
def grounder(passages: list[Chunk], answerer: ExtractiveAnswerer) -> Grounder:
    return Grounder(passages, answerer.engine.embeddings, answerer.engine.snapshot.lexical.known)


def test_markers_after_the_full_stop_belong_to_the_sentence() -> None:
    claims = split_claims("ONPE est membre d’ESN [1]. Il participe à EUSARF.[2][3]\n- ISPCAN [4]")
    assert [(c.text, c.cites) for c in claims] == [
        ("ONPE est membre d’ESN.", [1]),
        ("Il participe à EUSARF.", [2, 3]),
        ("ISPCAN", [4]),
    ]


def test_supported_claims_are_kept_and_renumbered(grounder: Grounder, passages: list[Chunk]) -> None:
    checked = grounder.check("L’Observatoire participe au réseau EUSARF [2]. Il est membre d’ESN [1].")
    assert checked.text == "L’Observatoire participe au réseau EUSARF [1]. Il est membre d’ESN [2]."
    assert checked.used == [1, 0]
    assert checked.dropped == []
    # The quote is the passage sentence that supports the claim.
    start, end = checked.quotes[1]
    assert passages[1].text[start - passages[1].start : end - passages[1].start] == "Il participe au réseau EUSARF."


def test_claims_citing_one_passage_from_two_sentences_quote_both(answerer: ExtractiveAnswerer) -> None:
    """The reader clicking [1] must see every sentence the claims citing it come from, not only the first."""
    grounder = grounder_over(
        answerer,
        "Les signes du zodiaque sont traditionnellement au nombre de 12. Ils résultent de la division en 12 du "
        "cercle qui passe au milieu de la bande de ciel. Le zodiaque est connu depuis Babylone.",
    )
    checked = grounder.check(
        "Les signes du zodiaque sont au nombre de 12 [1]. Ils résultent de la division en 12 du cercle [1]."
    )
    assert checked.used == [0] and checked.dropped == [], checked
    start, end = checked.quotes[0]
    assert grounder.chunks[0].text[start:end] == (
        "Les signes du zodiaque sont traditionnellement au nombre de 12. Ils résultent de la division en 12 du "
        "cercle qui passe au milieu de la bande de ciel."
    )


def test_a_model_looping_on_a_phrase_or_a_sentence_is_shown_saying_it_once(grounder: Grounder) -> None:
    """What the bundled model wrote (2026-12-06, greedy decoding): a phrase four times in a row, kept as supported."""
    looping = (
        "L’Observatoire participe au réseau EUSARF, au réseau EUSARF, au réseau EUSARF, au réseau EUSARF [2]. "
        "Il est membre d’ESN [1]. Il est membre d’ESN [1]."
    )
    checked = grounder.check(looping)
    assert checked.text == "L’Observatoire participe au réseau EUSARF [1]. Il est membre d’ESN [2].", checked
    assert [c["status"] for c in checked.claims] == ["supported", "supported"]


@pytest.mark.parametrize(
    "claim",
    [
        "ONPE is a member of ESN, the European Social Network [1].",
        "EUSARF is a group of academics advancing knowledge in child protection [2].",
    ],
)
def test_cross_lingual_claims_are_supported(grounder: Grounder, claim: str) -> None:
    checked = grounder.check(claim)
    assert len(checked.used) == 1, checked


def test_invalid_and_wrong_markers_are_reattached_to_the_supporting_passage(grounder: Grounder) -> None:
    checked = grounder.check("ISPCAN publie la revue Child abuse and neglect [7].")
    assert checked.used == [2]
    assert checked.text.endswith("[1].")
    wrong = grounder.check("ISPCAN publie la revue Child abuse and neglect [1].")
    assert wrong.used == [2]


def test_unsupported_claims_aredropped(grounder: Grounder) -> None:
    checked = grounder.check(
        "L’Observatoire est membre d’ESN [1]. L’ONPE dispose d’un budget annuel de 45 millions d’euros [1]. "
        "La tour Eiffel mesure 330 mètres [2]. L’ONPE dispose d’un budget annuel important [1]. "
        "The Observatory works with UNICEF on child poverty [3]."
    )
    assert checked.used == [0]
    assert len(checked.dropped) == 4
    assert "budget" in checked.dropped[0]


def test_invented_number_is_dropped_even_when_words_match(grounder: Grounder) -> None:
    checked = grounder.check("L’Observatoire participe au réseau EUSARF depuis 1987 [2].")
    assert checked.used == []
    assert checked.dropped


def test_not_found_mark_means_abstention(grounder: Grounder) -> None:
    assert grounder.check("NOT_FOUND").not_found


def test_list_items_are_checked_one_by_one(grounder: Grounder) -> None:
    # "ESN" is mis-cited to the EUSARF passage: re-attached; "la NASA" has no support: dropped.
    checked = grounder.check("ONPE participe à EUSARF [2], ESN [2], la NASA [3] et ISPCAN [3].")
    assert checked.used == [1, 0, 2], checked
    assert checked.text == "ONPE participe à EUSARF [1], ESN [2] et ISPCAN [3]."
    assert checked.dropped == ["la NASA"]


ASSISES = (
    "Elles constituent l’occasion de présenter des travaux attendus comme, lors des Assises de Rennes en 2015, "
    "la feuille de route pour la protection de l’enfance de Laurence Rossignol, ministre de la Famille. "
    "Le comité de pilotage rassemble l’Association française des magistrats de la jeunesse et de la famille "
    "(AFMJF) et l’Anas."
)


def test_key_items_must_be_stated_together_in_one_sentence(answerer: ExtractiveAnswerer) -> None:
    """Who did what: the AFMJF and Laurence Rossignol's roadmap are in one passage, never in one sentence."""
    grounder = grounder_over(answerer, ASSISES)
    wrong = grounder.check(
        "The Association française des magistrats de la jeunesse et de la famille (AFMJF) presented the "
        "feuille de route pour la protection de l'enfance of Laurence Rossignol [1]."
    )
    assert dropped(wrong), wrong
    right = grounder.check("À Rennes en 2015, la feuille de route de Laurence Rossignol a été présentée [1].")
    assert right.used == [0] and right.claims == [
        {"text": right.text.replace(" [1]", ""), "status": "supported", "citations": [1]}
    ], right


def test_a_yes_needs_a_sentence_that_states_it_and_keeps_its_conditions(answerer: ExtractiveAnswerer) -> None:
    grounder = grounder_over(
        answerer,
        "Le nom d’un enfant mineur peut être changé uniquement si ses deux parents donnent leur accord. "
        "La demande est faite en mairie.",
        "Le Registre du commerce et des sociétés (RCS) recense les entreprises. Ses informations sont publiques.",
    )
    conditional = grounder.check("Oui, il est possible de changer le nom d’un enfant mineur [1].")
    assert [(c["status"], c["reason"]) for c in conditional.claims] == [("partial", "condition")], conditional
    with_condition = grounder.check("Oui, si ses deux parents donnent leur accord, uniquement si [1].")
    assert [c["status"] for c in with_condition.claims] == ["supported"], with_condition
    unstated = grounder.check("Oui, un site peut réutiliser les informations du Registre du commerce [2].")
    assert dropped(unstated), unstated


def test_a_bound_a_share_an_aim_or_a_report_left_out_makes_a_claim_partial(answerer: ExtractiveAnswerer) -> None:
    """The claim is backed word for word but states as exact, general, obtained or asserted what its source does not."""
    grounder = grounder_over(
        answerer,
        "Les Assises réunissent chaque année près de 2 000 professionnels du secteur.",
        "Wolfe Tone crée à Belfast la Société des Irlandais unis, dans l’objectif d’obtenir une réforme du "
        "parlement irlandais et l’émancipation des catholiques.",
        "Selon Madame Campan, la reine aurait refusé le collier de diamants proposé par les joailliers.",
        "La majorité des coutumes reconnaissent que la cour doit être composée de quatre vassaux au minimum.",
    )
    cases = {
        "2000 professionals attend the Assises each year [1].": "approximation",
        "Les Assises réunissent chaque année 2 000 professionnels du secteur [1].": "approximation",
        "La Société des Irlandais unis a obtenu une réforme du parlement irlandais [2].": "aim",
        "La reine a refusé le collier de diamants proposé par les joailliers [3].": "reported",
        "Les coutumes reconnaissent que la cour doit être composée de quatre vassaux au minimum [4].": "share",
    }
    for claim, reason in cases.items():
        checked = grounder.check(claim)
        assert [(c["status"], c.get("reason")) for c in checked.claims] == [("partial", reason)], checked
    kept = [
        "Les Assises réunissent chaque année près de 2 000 professionnels du secteur [1].",
        "Wolfe Tone crée la Société des Irlandais unis pour obtenir une réforme du parlement irlandais [2].",
        "Wolfe Tone crée la Société des Irlandais unis à Belfast [2].",
        "Selon Madame Campan, la reine aurait refusé le collier de diamants [3].",
        "La plupart des coutumes reconnaissent que la cour doit être composée de quatre vassaux [4].",
    ]
    for claim in kept:
        checked = grounder.check(claim)
        assert [(c["status"], c.get("reason")) for c in checked.claims] == [("supported", None)], checked


def test_a_restatement_of_the_question_isdropped(answerer: ExtractiveAnswerer) -> None:
    grounder = grounder_over(answerer, "Les Assises sont organisées par le Journal de l’Action Sociale.")
    checked = grounder.check("Les Assises sont organisées [1]. Le Journal de l’Action Sociale les organise [1].",
                             "Qui organise les Assises ?")  # fmt: skip
    assert checked.dropped == ["Les Assises sont organisées."]
    assert checked.text == "Le Journal de l’Action Sociale les organise [1]."


ORGANISERS = (
    "Les Assises sont organisées par le Journal de l’Action Sociale (magazine de référence des acteurs du champ "
    "social) en partenariat étroit avec l’Observatoire national de l’Action Sociale (Odas)."
)
ATMOSPHERE = (
    "Le succès des Assises repose donc principalement sur la qualité de leur contenu mais aussi sur le soin attaché "
    "à proposer une ambiance conviviale en s’appuyant sur la mobilisation d’enfants qui proposent spectacles et "
    "autres animations artistiques."
)


def test_a_cause_glued_to_an_unrelated_sentence_isdropped(answerer: ExtractiveAnswerer) -> None:
    """What the bundled model wrote for "What makes the atmosphere of the Assises friendly?"."""
    grounder = grounder_over(answerer, ORGANISERS, ATMOSPHERE)
    glued = grounder.check(
        "The atmosphere of the Assises is friendly because it is organized by the Journal de l’Action Sociale in "
        "partnership with the Observatoire national de l’Action Sociale (Odas) [1]."
    )
    assert dropped(glued), glued
    stated = grounder.check("L’ambiance des Assises est conviviale grâce aux spectacles proposés par des enfants [2].")
    assert stated.used == [1], stated
    plain = grounder.check("The Assises are organised by the Journal de l’Action Sociale with the Odas [1].")
    assert plain.used == [0], plain


def test_a_cause_that_says_its_effect_again_isdropped(answerer: ExtractiveAnswerer) -> None:
    """What the bundled model wrote for "Why does the event move to a different city every year?" (2026-12-06)."""
    grounder = grounder_over(
        answerer,
        "Elles se tiennent tous les 12 mois environ dans une grande ville de France différente chaque année afin de "
        "marquer l’ancrage à la fois national et local de l’événement.",
    )
    circular = grounder.check(
        "The event moves to a different city every year because it is held in a large city of France different "
        "every year [1]."
    )
    assert dropped(circular), circular
    stated = grounder.check("Elles se tiennent dans une ville différente chaque année [1].")
    assert stated.used == [0], stated


def test_a_copied_document_title_is_no_answer(answerer: ExtractiveAnswerer) -> None:
    chunk = next(c for c in answerer.engine.snapshot.chunks if "membre d’ESN" in c.text)
    grounder = Grounder([chunk], answerer.engine.embeddings, answerer.engine.snapshot.lexical.known)
    checked = grounder.check("Les partenariats et réseaux internationaux — À l'international[ [1].")
    assert checked.used == [] and checked.dropped, checked


def test_a_claim_saying_more_than_its_passage_isdropped(answerer: ExtractiveAnswerer) -> None:
    """What the bundled model wrote over PIAF passages (read by hand, 2026-12-02), and a faithful paraphrase."""
    grounder = grounder_over(
        answerer,
        "Pierre-Jakez Hélias est issu d’une famille de paysans pauvres du Pays Bigouden.",
        "En 1613, les Jésuites fondent une colonie rivale sur l’île des Monts Déserts.",
    )
    named = grounder.check("Pierre-Jakez Hélias est issu d’une famille de paysans pauvres de Rennes [1].")
    assert named.used == [], named  # a name the passage never writes
    invented = grounder.check("Pierre-Jakez Hélias est issu d’une famille de soldats ruinés par la guerre [1].")
    assert invented.used == [], invented  # several words of its own
    faithful = grounder.check("Les Jésuites ont établi une colonie rivale sur l’île des Monts Déserts en 1613 [2].")
    assert faithful.used == [1], faithful


def test_a_class_the_passage_never_names_is_the_claim_s_own(answerer: ExtractiveAnswerer) -> None:
    """« X est un Y » with Y the model's one word of its own (read by hand, 2026-12-07, sample 14: the one wrong
    claim kept there) says what X is: dropped; the same class in the passage stays."""
    grounder = grounder_over(
        answerer,
        "'Les Lettres' nous montrent une grande complicité entre le père et le fils.",
        "EUSARF est une association d’universitaires et de scientifiques.",
    )
    classed = grounder.check(
        "Les Lettres sont un livre qui montrent une grande complicité entre le père et le fils [1]."
    )
    assert dropped(classed), classed
    stated = grounder.check("EUSARF est une association d’universitaires [2].")
    assert stated.used == [1], stated


def test_the_question_s_words_grafted_onto_another_sentence_are_the_claim_s_own(answerer: ExtractiveAnswerer) -> None:
    """A small model restates the question around a sentence that says something else (read by hand, 2026-12-06:
    most wrongly kept claims over PIAF were such grafts); a claim whose new words are in its sentence stays."""
    grounder = grounder_over(
        answerer, "Elizabeth brûle ce que contenait la cachette abandonnée, pour créer un signal de fumée."
    )
    question = "Qu'est-ce qu'Elizabeth décide de cacher ?"
    grafted = grounder.check("Elizabeth décide de cacher ce que contenait la cachette abandonnée [1].", question)
    assert dropped(grafted), grafted
    stated = grounder.check("Elizabeth brûle ce que contenait la cachette abandonnée [1].", question)
    assert stated.used == [0], stated


def test_a_number_must_count_what_its_source_counts(answerer: ExtractiveAnswerer) -> None:
    """A number bound to another thing than in its sentence: every item is there, together, yet the claim is false."""
    grounder = grounder_over(
        answerer, "Le parc national couvre 300 hectares et abrite 50 espèces d’oiseaux depuis sa création en 1970."
    )
    assert grounder.check("Le parc national abrite 300 espèces d’oiseaux [1].").used == []
    assert grounder.check("Le parc national abrite 50 espèces d’oiseaux [1].").used == [0]
    assert grounder.check("Le parc national couvre 300 hectares depuis 1970 [1].").used == [0]


def test_a_bare_answer_must_come_from_a_sentence_about_the_question(answerer: ExtractiveAnswerer) -> None:
    grounder = grounder_over(
        answerer, "En 1974, l’âge requis est abaissé à 18 ans. En 1815, il fallait avoir 30 ans pour voter."
    )
    question = "Quel âge fallait-il avoir pour voter en 1815 ?"
    assert grounder.check("18 ans [1].", question).used == []
    assert grounder.check("30 ans [1].", question).used == [0]


def test_a_name_written_more_often_than_its_source_writes_it_is_dropped(answerer: ExtractiveAnswerer) -> None:
    """The participle's subject is the main clause's: the claim makes UNESCO judge what South Africa judged (read
    on a generated answer, kept as supported by the check before)."""
    grounder = grounder_over(
        answerer,
        "Estimant quelques publications de l'UNESCO comme une ingérence dans les problèmes raciaux du pays, la "
        "République d'Afrique du Sud a quitté l'Organisation en 1956, avant de revenir, sous la direction de Nelson "
        "Mandela, en 1994.",
    )
    grafted = (
        "L'UNESCO a estimé quelques publications de l'UNESCO comme une ingérence dans les problèmes raciaux du pays, "
        "la République d'Afrique du Sud a quitté l'Organisation en 1956 [1]."
    )
    assert grounder.check(grafted).used == []
    faithful = "La République d'Afrique du Sud a quitté l'UNESCO en 1956, avant de revenir en 1994 [1]."
    assert grounder.check(faithful).used == [0]


def test_a_bare_answer_needs_the_question_s_rarest_key_word_in_its_sentence(answerer: ExtractiveAnswerer) -> None:
    """Half the question's key words is not enough when the one that names what is asked is missing: the
    literacy sentence holds « proportion » and « Chinois », not drinking water (read on a generated answer)."""
    grounder = grounder_over(
        answerer,
        "En 2002, la proportion de Chinois sachant lire et écrire était de 90,9 %, dont 95,1 % d'hommes et "
        "86,5 % de femmes. Un quart de la population chinoise n'a pas accès à l'eau potable.",
    )
    question = "Quelle proportion de chinois n'a pas accès à l'eau potable ?"
    assert grounder.check("95,1 % [1].", question).used == []
    assert grounder.check("Un quart [1].", question).used == [0]


def test_a_list_member_is_read_with_the_passage_introducing_its_list(answerer: ExtractiveAnswerer) -> None:
    """The model reads a list's introduction and its members as separate passages (one quoted sentence each):
    « EuroCAN » answers the question only through the introduction, which names the list's subject."""
    texts = (
        "L’ONPE inscrit son activité à l’international dans plusieurs réseaux internationaux, tels que :",
        "Il participe au réseau EuroCAN, financé par le programme Cost Action.",
        "L’Observatoire est membre d’ESN (European Social Network).",
    )
    chunks = [Chunk(f"c{n}", "onpe.txt", "Réseaux", "", 100 * n, 100 * n + len(t), t) for n, t in enumerate(texts)]
    question = "De quels réseaux internationaux l’ONPE est-il membre ?"
    alone = Grounder(chunks, answerer.engine.embeddings, lambda terms: terms)
    assert alone.check("Le réseau EuroCAN [2].", question).used == []
    listed = Grounder(chunks, answerer.engine.embeddings, lambda terms: terms, intros=[None, 0, 0])
    assert listed.check("Le réseau EuroCAN [2].", question).used == [1]
    assert listed.check("L’ONPE est membre d’ESN [3].", question).used == [2]
    # The introduction's words are the member's own: « inscrit son activité » is not the claim's addition
    # (read alone, the member needs the introduction cited beside it).
    inscribed = "L’ONPE inscrit son activité dans le réseau EuroCAN [2]."
    assert alone.check(inscribed, question).used == [0, 1]
    assert listed.check(inscribed, question).used == [1]


def test_a_claim_reversing_who_did_what_isdropped(answerer: ExtractiveAnswerer) -> None:
    """What the bundled model wrote for « De quels réseaux internationaux l'ONPE est-il membre ? »
    (2026-12-03): the sentence's subject became the claim's object. Every word of it is given (ONPE by the
    list's introduction), so only the roles tell it is wrong."""
    texts = (
        "L’ONPE inscrit son activité à l’international dans plusieurs réseaux internationaux, tels que :",
        "L’Observatoire est membre d’ESN (European Social Network).",
    )
    chunks = [Chunk(f"c{n}", "onpe.txt", "Réseaux", "", 100 * n, 100 * n + len(t), t) for n, t in enumerate(texts)]
    grounder = Grounder(chunks, answerer.engine.embeddings, lambda terms: terms, intros=[None, 0])
    question = "De quels réseaux internationaux l’ONPE est-il membre ?"
    assert grounder.check("L’ONPE est membre de l’Observatoire [2].", question).used == []
    assert grounder.check("L’Observatoire est membre d’ESN [2].", question).used == [1]
    # A sentence turned around, naming both, is not a swap.
    turned = grounder_over(answerer, "L’ONPE est dirigé par Agnès Gindt-Ducros depuis 2019.")
    assert turned.check("Agnès Gindt-Ducros dirige l’ONPE depuis 2019 [1].").used == [0]
