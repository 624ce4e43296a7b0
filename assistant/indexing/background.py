"""How close unrelated questions come to this corpus: the background that a question's best cosine is read against.

A cosine of 0.88 means little on its own: e5's scores are squeezed, and a large corpus has a
near match for almost anything. At index time a fixed set of probe questions on unrelated topics
(both languages) is searched; the mean and spread of their best cosines are stored with the
snapshot, and answerability reads a question's best cosine as a distance from them.

Example (``engine`` an open :class:`~assistant.answering.search.SearchEngine` on the ONPE pages):
    >>> stats = engine.snapshot.meta.background
    >>> sorted(stats), 0.7 < stats["mean"] < 0.9, stats["n"] == len(PROBES)
    (['mean', 'n', 'p90', 'std', 'version'], True, True)
"""

from __future__ import annotations

import numpy as np
from langchain_chroma import Chroma

from assistant.models.embeddings import SentenceTransformerEmbeddings

# Everyday questions on topics far from any one corpus, as users would type them. Their best
# matches in a corpus show how high an unrelated question scores there.
# Stored with the statistics: a snapshot measured with other probes is measured again.
VERSION = 1
PROBES = (
    "Comment faire une pâte à crêpes sans grumeaux ?",
    "Quelle est la meilleure saison pour tailler un rosier ?",
    "Combien de temps faut-il pour cuire un œuf dur ?",
    "Quel temps fera-t-il à Brest ce week-end ?",
    "Comment changer une roue de vélo crevée ?",
    "Quels sont les horaires d'ouverture de la piscine municipale ?",
    "Qui a gagné la coupe du monde de football en 1998 ?",
    "Comment se forment les volcans ?",
    "Quelle est la distance entre la Terre et la Lune ?",
    "Comment apprendre à jouer de la guitare ?",
    "Quel est le prix d'un billet de train Paris-Lyon ?",
    "Comment installer une imprimante sur un ordinateur ?",
    "Pourquoi le ciel est-il bleu ?",
    "Quelle est la recette de la ratatouille ?",
    "Comment réduire sa facture d'électricité en hiver ?",
    "Qui a peint la Joconde ?",
    "Combien de pattes a une araignée ?",
    "Comment entretenir un aquarium d'eau douce ?",
    "Quels vaccins faut-il pour voyager en Thaïlande ?",
    "Comment choisir un matelas confortable ?",
    "How do I reset my email password?",
    "What is the best way to cook rice?",
    "When did the first man walk on the Moon?",
    "How many players are on a rugby team?",
    "What causes earthquakes?",
    "How do I train my dog to sit?",
    "Which planet is the largest in the solar system?",
    "How long does it take to learn to drive?",
    "What is the capital of Australia?",
    "How do I grow tomatoes on a balcony?",
    "Who wrote the novel War and Peace?",
    "How can I improve my sleep?",
    "What is the boiling point of water at high altitude?",
    "How do I repair a leaking tap?",
    "Which film won the Oscar for best picture in 1995?",
    "How do solar panels work?",
)


def measure(store: Chroma, embeddings: SentenceTransformerEmbeddings) -> dict[str, float]:
    """Mean, standard deviation and 90th percentile of the probes' best cosines in ``store``.

    An empty store has no background (``n`` 0).
    """
    best = []
    for probe in PROBES:
        vector = embeddings.embed_query_array(probe)
        found = store.similarity_search_by_vector_with_relevance_scores(vector.tolist(), k=1)
        if found:
            best.append(1.0 - found[0][1])  # Chroma's cosine distance is 1 - similarity
    if not best:
        return {"n": 0, "version": VERSION}
    values = np.asarray(best)
    return {
        "mean": round(float(values.mean()), 5),
        "std": round(float(values.std()), 5),
        "p90": round(float(np.percentile(values, 90)), 5),
        "n": len(values),
        "version": VERSION,
    }
