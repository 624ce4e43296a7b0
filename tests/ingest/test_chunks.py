"""Chunks keep exact offsets and structure."""

from __future__ import annotations

import itertools

from assistant.ingest.chunks import chunk_document
from assistant.ingest.corpus import load_corpus
from tests.helpers import CORPUS


def test_chunks_have_exact_offsets_sections_and_stable_ids() -> None:
    documents, _ = load_corpus(CORPUS)
    for doc in documents:
        chunks = chunk_document(doc, size=450, overlap=1)
        assert chunks == chunk_document(doc, size=450, overlap=1)
        assert len({c.id for c in chunks}) == len(chunks)
        for chunk in chunks:
            assert doc.text[chunk.start : chunk.end] == chunk.text
            assert len(chunk.text) <= 450
            assert chunk.title == doc.title
    networks = chunk_document(next(d for d in documents if "partenariats" in d.source), 450, 1)
    esn = next(c for c in networks if "membre d’ESN" in c.text)
    assert esn.section == "À l'international"
    assert not any("Dynamique de réseaux" in c.text for c in networks)  # headings are not inside chunks


def test_smaller_chunks_mean_more_chunks_and_overlap_repeats_sentences() -> None:
    doc = next(d for d in load_corpus(CORPUS)[0] if "partenariats" in d.source)
    small, large = chunk_document(doc, 200, 0), chunk_document(doc, 900, 0)
    assert len(small) > len(large)
    overlapping = chunk_document(doc, 300, 1)
    assert any(a.end > b.start for a, b in itertools.pairwise(overlapping) if a.section == b.section)
