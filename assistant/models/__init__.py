"""Models: the embedder (``embeddings``), the chat models (``chat``: the bundled llama.cpp model or an
OpenAI-compatible endpoint) and the bundled model's weights (``model_file``). Nothing is downloaded.
"""
