"""The naive baseline every figure is compared with: LangChain's RAG tutorial pipeline.

``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` + ``Chroma.from_documents``
(in memory) + ``similarity_search``, with the same embedder as ours, over the same cleaned documents.

Example (``settings`` name the ONPE corpus, ``embeddings`` its embedder):
    >>> from assistant.ingest.corpus import load_corpus
    >>> documents, _ = load_corpus(settings.corpus)
    >>> baseline = TutorialBaseline(documents, embeddings)
    >>> baseline.search("Qu'est-ce que le réseau EuroCAN ?", k=1)[0].source
    'onpe-partenariats-et-reseaux-internationaux.txt'
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.ingest.cleaning import Document


@dataclass(frozen=True)
class BaselineHit:
    source: str
    start: int
    end: int
    text: str
    # Cosine similarity to the question: the tutorial's store keeps Chroma's default squared L2 distance,
    # which for normalised vectors is 2 - 2 cos.
    score: float = 0.0


class TutorialBaseline:
    """Split, embed into an in-memory Chroma, search by similarity: nothing else."""

    def __init__(self, documents: list[Document], embeddings: Embeddings) -> None:
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        pieces = splitter.split_documents(
            [LCDocument(page_content=d.text, metadata={"source": d.source}) for d in documents]
        )
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma.from_documents(
            pieces, embeddings, client=client, collection_name=f"baseline-{uuid.uuid4().hex[:8]}"
        )
        self.size = len(pieces)

    def search(self, question: str, k: int = 4) -> list[BaselineHit]:
        hits = []
        for doc, distance in self.store.similarity_search_with_score(question, k=k):
            start = int(doc.metadata["start_index"])
            end = start + len(doc.page_content)
            hits.append(BaselineHit(str(doc.metadata["source"]), start, end, doc.page_content, 1.0 - distance / 2))
        return hits
