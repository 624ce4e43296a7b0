"""Search: dense (Chroma, multilingual e5) and lexical (BM25) candidates, fused by normalised scores.

:class:`SearchEngine` holds what a process loads once (embedder, vector store, committed
snapshot); :class:`HybridRetriever` exposes it as a LangChain ``BaseRetriever``; :func:`retrieve`
is the one search both answer modes use: passages, plus whether they can answer.

Example (``settings`` name the indexed ONPE corpus):
    >>> engine = SearchEngine.open(settings)
    >>> [d.metadata["source"] for d in HybridRetriever(engine=engine, k=1).invoke("réseau EUSARF")]
    ['onpe-partenariats-et-reseaux-internationaux.txt']
    >>> found = retrieve(engine, Question.parse("Comment faire une tarte aux pommes ?"))
    >>> found.answerable, len(found.hits) == settings.top_k
    (False, True)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence, Set
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api import ClientAPI
from langchain_chroma import Chroma
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.answering.answerability import answerable, assess, clearly_answerable, min_confidence, relevance
from assistant.answering.conversation import Question, asked_about, retrieval_query
from assistant.answering.sources import chosen
from assistant.answering.spelling import corpus_spelling, respell
from assistant.answering.types import Hit, Retrieved
from assistant.config import Settings
from assistant.errors import EmbedderMismatch, IndexBroken, QuestionError
from assistant.indexing import background, snapshot, vectors
from assistant.indexing.dictionary import english_to_french, translations
from assistant.indexing.lexical import best_of, content_words, stems, tokenize
from assistant.indexing.snapshot import Snapshot
from assistant.ingest.language import detect_language
from assistant.models.embeddings import SentenceTransformerEmbeddings, VectorCache, load_embeddings

# Both sides are scaled to [0, 1] before they are mixed with these weights:
# - dense: (cosine - floor) / (best - floor). e5's cosines are squeezed into ~0.75-0.9, so a fixed
#   floor keeps small differences small (the candidates' minimum serves when it is lower, as
#   with other embedders);
# - BM25: score / best, or / (nearly) the score of an ideal match when the best is weaker, so
#   that one common word matching does not weigh like a name.
# Every candidate (in either side's top) is scored on both sides, not given 0 where one side's
# top missed it. Measured on PIAF and the ONPE set (README, "How the settings were chosen"):
# better than reciprocal-rank fusion (+0.03 MRR@10 on PIAF), which throws away how far apart
# scores are; complete scores add +0.02 paragraph Hit@5.
SENTENCE_CACHE = 20_000  # sentence vectors kept (~30 MB)
DENSE_WEIGHT = 0.6
LEXICAL_WEIGHT = 0.4
DENSE_FLOOR = 0.75
IDEAL_SHARE = 0.95
RESPELL_FROM = 5  # passages whose words a mistyped question word is compared with


def scale_dense(scores: dict[int, float], others: dict[int, float] | None = None) -> dict[int, float]:
    """Cosines to [0, 1]: the best candidate scores 1, ``DENSE_FLOOR`` (or the weakest) 0.

    ``scores`` are the dense search's results, which set the scale; ``others`` (cosines of
    candidates found only by BM25) are put on the same scale.

    >>> scale_dense({1: 1.0, 2: 0.875}, {3: 0.5})
    {1: 1.0, 2: 0.5, 3: 0.0}
    """
    if not scores:
        return {}
    low, high = min(*scores.values(), DENSE_FLOOR), max(scores.values())
    every = scores | (others or {})
    if high - low < 1e-9:
        return {p: 1.0 if p in scores else 0.0 for p in every}
    return {p: min(1.0, max(0.0, (v - low) / (high - low))) for p, v in every.items()}


def scale_lexical(scores: dict[int, float], ideal: float) -> dict[int, float]:
    """BM25 scores to [0, 1], relative to the best one or to an ideal match when that is higher."""
    scale = max(max(scores.values(), default=0.0), IDEAL_SHARE * ideal, 1e-9)
    return {p: v / scale for p, v in scores.items()}


def fuse(sides: list[tuple[dict[int, float], float]]) -> dict[int, float]:
    """Weighted sum of each side's scores (already in [0, 1]); a candidate missing from a side gets 0 there.

    >>> fuse([({1: 1.0, 2: 0.0}, 0.5), ({2: 1.0, 3: 0.2}, 0.5)])
    {1: 0.5, 2: 0.5, 3: 0.1}
    """
    fused: dict[int, float] = {}
    for scores, weight in sides:
        for position, value in scores.items():
            fused[position] = fused.get(position, 0.0) + weight * value
    return fused


def _mask(current: Snapshot, sources: Iterable[str]) -> np.ndarray:
    """Which chunks of ``current`` belong to ``sources``."""
    return np.isin([c.source for c in current.chunks], list(sources))


def _check_vectors(client: ClientAPI, current: Snapshot, index_dir: object) -> None:
    """Refuse a store that lost vectors (deleted or damaged files): answers would silently degrade."""
    try:
        count = client.get_collection(current.meta.collection).count()
    except Exception as err:  # Chroma raises many types for a damaged store
        raise IndexBroken(
            f"the vector store of the index in {index_dir} cannot be read ({err.__class__.__name__}): "
            "run `assistant index --rebuild`"
        ) from err
    if count < len(current.chunks):
        raise IndexBroken(
            f"the vector store of the index in {index_dir} holds {count} of its {len(current.chunks)} passages "
            "(files deleted or damaged): run `assistant index` to restore them"
        )


def _same_embedder(indexed: str, running: str, starting: bool) -> None:
    """Vectors of two embedders cannot be compared: refuse an index built with another one than this process's.

    Raises:
        EmbedderMismatch: they differ.
    """
    if indexed == running:
        return
    if starting:
        raise EmbedderMismatch(
            f"the index was built with embedder {indexed!r} but {running!r} is configured: "
            "run `assistant index --rebuild` (or set ASSISTANT_EMBEDDER back)"
        )
    raise EmbedderMismatch(
        f"the index was rebuilt with embedder {indexed!r} while this process uses {running!r}: "
        f"restart it with ASSISTANT_EMBEDDER={indexed}"
    )


class SearchEngine:
    """Hybrid search over the committed snapshot; reloads it when a reindex commits a new one."""

    def __init__(self, settings: Settings, embeddings: SentenceTransformerEmbeddings) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._store: Chroma | None = None
        self.query_vector = lru_cache(maxsize=256)(self.embeddings.embed_query_array)
        # Sentence vectors (quote choice, answerability, grounding), shared by the web chat's users.
        self.sentence_vectors = VectorCache(self.embeddings.embed_array, SENTENCE_CACHE)
        english_to_french()  # read once now (~0.7 s), not when the first English question comes
        self.refresh()

    @classmethod
    def open(cls, settings: Settings, embeddings: SentenceTransformerEmbeddings | None = None) -> SearchEngine:
        """Open the index for reading.

        Raises:
            IndexMissing, IndexBroken: no usable index.
            EmbedderMismatch: the index was built with another embedder.
        """
        _same_embedder(snapshot.load_meta(settings.index_dir).embedder, settings.embedder, starting=True)
        return cls(settings, embeddings or load_embeddings(settings.embedder, settings.batch_size))

    @property
    def snapshot(self) -> Snapshot:
        assert self._snapshot is not None
        return self._snapshot

    def refresh(self) -> bool:
        """Load the committed snapshot if it changed; True when it did.

        One thread loads at a time (a web chat's users all call this): the others wait and find it loaded.

        Raises:
            IndexMissing: the index was removed (a rebuild that could not open the old store).
            IndexBroken: the new snapshot cannot be read.
            StoreError: the vector store cannot be opened.
            EmbedderMismatch: it was built with another embedder than this process's.
        """
        index_dir = self.settings.index_dir
        name = snapshot.current_name(index_dir)
        if self._snapshot is not None and name == self._snapshot.name:
            return False
        with self._refreshing:
            if self._snapshot is not None and snapshot.current_name(index_dir) == self._snapshot.name:
                return False
            return self._load(index_dir)

    def _load(self, index_dir: Path) -> bool:
        loaded = self._read(index_dir)
        client = vectors.open_client(index_dir, self.settings.chroma_url)
        store = vectors.vector_store(client, loaded.meta.collection, self.embeddings)
        _check_vectors(client, loaded, index_dir)
        if loaded.meta.background.get("version") != background.VERSION:  # an index from an earlier version
            loaded.meta.background = background.measure(store, self.embeddings)
        with self._lock:
            self._snapshot, self._store = loaded, store
            self.sentence_vectors.pin(loaded.sentences)
        return True

    def _read(self, index_dir: Path) -> Snapshot:
        """The committed snapshot, its embedder checked before anything else is read.

        A reindex in this process (the web chat's) may commit and prune while this reads: then the new one is read.
        """
        path = snapshot.committed(index_dir)
        try:
            return self._read_at(index_dir, path)
        except IndexBroken:
            if snapshot.current_path(index_dir) == path:
                raise
        return self._read_at(index_dir, snapshot.committed(index_dir))

    def _read_at(self, index_dir: Path, path: Path) -> Snapshot:
        meta = snapshot.load_meta(index_dir, path)
        _same_embedder(meta.embedder, self.embeddings.identity, starting=self._snapshot is None)
        return snapshot.load(index_dir, path, meta)

    def forget(self) -> None:
        """Drop cached question and sentence vectors (a benchmark times questions as if new); the index's own
        sentence vectors stay."""
        self.query_vector.cache_clear()
        self.sentence_vectors.clear()

    def _dense(
        self, current: Snapshot, store: Chroma, query: np.ndarray, k: int, names: list[str] | None = None
    ) -> dict[int, float]:
        where = {"source": {"$in": names}} if names is not None else None
        # Chroma takes operators such as $in, though langchain-chroma types the filter as plain key: value.
        found = store.similarity_search_by_vector_with_relevance_scores(query.tolist(), k=k, filter=where)  # type: ignore[arg-type]
        # Chroma's cosine distance is 1 - similarity; chunks an interrupted run left are ignored.
        return {current.position[d.id]: 1.0 - dist for d, dist in found if d.id in current.position}

    @staticmethod
    def _cosines(current: Snapshot, store: Chroma, positions: list[int], query: np.ndarray) -> dict[int, float]:
        """Cosines of chunks the dense search did not return, from their stored vectors."""
        if not positions:
            return {}
        got = store.get(ids=[current.chunks[p].id for p in positions], include=["embeddings"])
        stored = {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}
        norm = float(np.linalg.norm(query)) or 1.0
        return {
            p: float(v @ query) / ((float(np.linalg.norm(v)) or 1.0) * norm)
            for p in positions
            if (v := stored.get(current.chunks[p].id)) is not None
        }

    def known(self, terms: set[str], readable: Set[str] | None = None) -> set[str]:
        """Which of ``terms`` (tokenized) the indexed texts use; with ``readable``, the texts of those documents
        only (what an asker may read must not tell what the other documents hold)."""
        current = self.snapshot
        if readable is None:
            return current.lexical.known(terms)
        return current.lexical.known(terms, _mask(current, readable))

    def spelling(self, word: str, readable: Set[str] | None = None) -> str | None:
        """How the documents (only the ``readable`` ones, when given) write the word ``word`` mistypes, if any
        (:func:`~assistant.answering.spelling.corpus_spelling`)."""
        current = self.snapshot
        allowed = None if readable is None else _mask(current, readable)
        return corpus_spelling(word, current.lexical, lambda p: current.chunks[p].text, allowed)

    def scope(
        self, sources: Sequence[str] = (), readable: Set[str] | None = None, current: Snapshot | None = None
    ) -> frozenset[str] | None:
        """The documents a search covers: those ``sources`` choose among the ``readable`` ones (None: all).

        Raises:
            QuestionError: ``sources`` choose no indexed document (that the asker may read).
        """
        current = current or self.snapshot
        if not sources and readable is None:
            return None
        pool = current.documents if readable is None else [s for s in current.documents if s in readable]
        names = chosen(pool, sources) if sources else pool
        if sources and not names:
            raise QuestionError(f"no indexed document matches {', '.join(sources)}")
        return frozenset(names)

    def search(
        self,
        query: str,
        k: int | None = None,
        fetch_k: int | None = None,
        sources: Sequence[str] = (),
        readable: Set[str] | None = None,
        *,
        language: str | None = None,
    ) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first; only from the documents ``sources`` choose, if any
        (glob patterns or folders, see :mod:`assistant.answering.sources`), and only from ``readable`` ones when
        given (the asker's folders, :mod:`assistant.team.groups`): both sides of the search are filtered.
        An English query's words are also looked for as their French translations (:func:`_translated`):
        ``language`` is the question's (a follow-up's query also holds the earlier question), else detected.

        Raises:
            QuestionError: ``sources`` choose no indexed document (that the asker may read).
        """
        k = k or self.settings.top_k
        with self._lock:
            current, store = self.snapshot, self._store
        assert store is not None
        scope = self.scope(sources, readable, current)
        names = None if scope is None else sorted(scope)
        allowed = None if names is None else _mask(current, names)
        size = len(current.chunks) if allowed is None else int(allowed.sum())
        if not size:
            return []
        fetch_k = min(fetch_k or max(4 * k, 20), size)
        vector = self.query_vector(query)
        dense = self._dense(current, store, vector, fetch_k, names)
        bm25 = current.lexical.scores(query)
        matched = bm25 + _translated(current, query, language or detect_language(query))
        if allowed is not None:  # the BM25 side is filtered like Chroma's `where`
            bm25, matched = np.where(allowed, bm25, 0.0), np.where(allowed, matched, 0.0)
        lexical_only = [p for p, _ in best_of(matched, fetch_k) if p not in dense]
        cosines = dense | self._cosines(current, store, lexical_only, vector)
        fused = fuse([
            (scale_dense(dense, cosines), DENSE_WEIGHT),
            (scale_lexical({p: float(matched[p]) for p in cosines}, current.lexical.ideal(query)), LEXICAL_WEIGHT),
        ])  # fmt: skip
        best = sorted(fused, key=lambda p: (-fused[p], p))[:k]
        # A hit's ``lexical`` is its own words' BM25, which answerability was fitted on.
        return [Hit(current.chunks[p], cosines[p], float(bm25[p]), fused[p]) for p in best]


def _translated(current: Snapshot, query: str, language: str) -> np.ndarray | float:
    """What an English query's words add on the BM25 side when each may be matched as its French translation
    (:mod:`~assistant.indexing.dictionary`); 0 for a French one. Measured on English PIAF questions over the
    mixed corpus (README, "English words looked up in a bilingual dictionary")."""
    if language != "en":
        return 0.0
    words = content_words(query)
    found = translations(words, english_to_french())
    return current.lexical.translated_scores(list(zip(stems(words), found, strict=True)))


class HybridRetriever(BaseRetriever):
    """LangChain retriever over :class:`SearchEngine` (dense + BM25, normalised-score fusion).

    Scores are in each document's metadata: ``dense`` (cosine), ``lexical`` (BM25), ``score`` (fused).
    As LangChain retrievers do, ``k`` is set on the retriever or per call: ``retriever.invoke(query, k=1)``.

    Raises:
        ValueError: ``k`` is not a positive integer.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    engine: SearchEngine
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[LCDocument]:
        k = self.k if k is None else k
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, not {k!r}")
        return [_as_document(hit) for hit in self.engine.search(query, k)]


def _as_document(hit: Hit) -> LCDocument:
    metadata: dict[str, Any] = hit.chunk.metadata() | {"dense": hit.dense, "lexical": hit.lexical, "score": hit.score}
    return LCDocument(page_content=hit.chunk.text, metadata=metadata, id=hit.chunk.id)


def retrieve(engine: SearchEngine, question: Question, query: str | None = None) -> Retrieved:
    """Search for ``question`` (or the standalone ``query`` given) and judge whether it is answerable.

    Both answer modes call this; a follow-up without ``query`` borrows the previous question's subject.
    """
    query = query or retrieval_query(question.text, question.history)
    hits = engine.search(query, sources=question.sources, readable=question.readable, language=question.language)
    # A mistyped word (« obsevatoire ») is searched again as the passages found write it (only readable ones).
    scope = engine.scope(question.sources, question.readable)
    # Only what the asker may read decides what is unknown, and how it is spelt: nothing tells what the rest holds.
    passages = [h.chunk.text for h in hits[:RESPELL_FROM]]
    query, respelled = respell(query, passages, lambda terms: engine.known(terms, scope),
                               lambda word: engine.spelling(word, scope))  # fmt: skip
    if respelled:
        hits = engine.search(query, sources=question.sources, readable=question.readable, language=question.language)
    # What the documents searched never say is missing, even when others do (``--source``, a reader's folders).
    terms = set(tokenize(query))
    score = relevance(hits, terms, engine.known(terms, scope), question.language)
    elsewhere = engine.known(terms, question.readable) if question.sources else set()
    judged = assess(engine, query, question.language, hits, scope, elsewhere=elsewhere)
    # A key word the documents never use, and none they do in the passages found ("XYZQ ?"): whatever
    # they say is not about the question, so nothing is quoted.
    missing = asked_about(judged.missing, question.text, query)
    unrelated = bool(missing) and not judged.present
    sure = answerable(judged.confidence, min_confidence(engine.settings)) and not unrelated
    return Retrieved(question.text, question.language, query, hits, terms, score, sure, judged.confidence,
                     missing, judged.present, question.sources, not clearly_answerable(judged.confidence),
                     respelled)  # fmt: skip
