"""``assistant serve --mcp``: ask and search as MCP tools, reached by a real MCP client (the ``mcp`` package) over
streamable HTTP, and refused without the token."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.helpers import running_server

pytestmark = pytest.mark.slow
TOKEN = "un-jeton-de-test"


async def _session(url: str, headers: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    async with (
        httpx.AsyncClient(headers=headers, timeout=120) as http,
        streamable_http_client(url + "gradio_api/mcp/", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        results = [(await session.call_tool(name, arguments)).content[0] for name, arguments in calls]
        return {"tools": tools, "results": [json.loads(r.text) for r in results]}  # type: ignore[union-attr]


def test_mcp_tools_answer_with_citations_and_need_the_token(corpus_copy: Path, tmp_path: Path) -> None:
    env = {"ASSISTANT_MCP_TOKEN": TOKEN}
    with running_server(corpus_copy, tmp_path / "index", "--no-llm", "--mcp", env=env) as url:
        with pytest.raises(BaseException):  # noqa: B017 (the client raises a group of connection errors)
            asyncio.run(_session(url, {}, []))
        with pytest.raises(BaseException):  # noqa: B017
            asyncio.run(_session(url, {"Authorization": "Bearer wrong"}, []))
        calls = [
            ("ask", {"question": "Qui organise les Assises ?", "mode": "extractive"}),
            ("ask", {"question": "Quelle est la capitale de l'Australie ?", "mode": "extractive"}),
            ("search", {"question": "réseau EUSARF", "k": 2, "sources": ["onpe-partenariats-*"]}),
        ]
        done = asyncio.run(_session(url, {"Authorization": f"Bearer {TOKEN}"}, calls))
    assert set(done["tools"]) == {"ask", "search"}  # the JSON tools; the API's dict twins are not listed
    assert "question" in done["tools"]["ask"].inputSchema["properties"]
    organised, elsewhere, found = done["results"]
    assert not organised["abstained"], organised
    assert organised["citations"] and "Journal de l’Action Sociale" in organised["answer"]
    assert elsewhere["abstained"] and elsewhere["citations"] == []
    passages = found["passages"]
    assert len(passages) == 2 and {p["source"] for p in passages} == {"onpe-partenariats-et-reseaux-internationaux.txt"}
