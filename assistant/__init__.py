"""Offline assistant that answers questions over a folder of documents, with cited passages.

The pipeline reads like the package layout:
``documents`` → ``cleaning`` → ``chunks`` → ``embeddings`` → ``index`` → ``retrieval`` → ``answer`` → ``cli``.
"""

from assistant.offline import force_offline

force_offline()

__version__ = "0.1.0"
