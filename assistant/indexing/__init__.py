"""Indexing: the persisted index and how it is kept in line with the corpus.

``sync`` is ``assistant index``; it writes vectors to Chroma (``vectors``), BM25 (``lexical``) and a
committed ``snapshot``, under the ``locks`` that keep one writer at a time.
"""
