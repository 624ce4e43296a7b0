"""Offline assistant that answers questions over a folder of documents, with cited passages.

The package reads as the pipeline, one stage per sub-package:

- ``ingest``: corpus files → parsed (``formats``) → cleaned documents (``cleaning``) → ``chunks``;
- ``models``: the embedder, the chat models, the bundled model's file;
- ``indexing``: ``sync`` the corpus into Chroma ``vectors``, BM25 (``lexical``) and a committed ``snapshot``;
- ``answering``: ``search`` → ``answerability`` → ``extractive`` or ``generative`` (+ ``grounding``);
- ``evaluation``: question ``items`` → ``runner`` → ``metrics`` → ``report``, against a ``baseline``;

then the interfaces: ``cli`` (the commands), ``web`` (the Gradio chat), ``bench`` (speed and memory).
``config`` holds the settings (the only reader of ``ASSISTANT_*``), ``errors`` every error a user
may see, ``offline`` the environment that keeps every library offline.
"""

from assistant.offline import force_offline

force_offline()

__version__ = "0.1.0"
