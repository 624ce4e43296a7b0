"""Offline guarantee: no telemetry, and the product works in a network namespace with no network at all.

The rest of the suite runs under the socket guard (tests/netguard): any Python-level attempt to
reach beyond loopback fails the session. Here the CLI runs with no network device but a
(down) loopback, which also catches attempts made below Python (C libraries).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.indexing import vectors
from tests.helpers import CORPUS

pytestmark = pytest.mark.slow


def test_telemetry_is_off_everywhere(tmp_path: Path) -> None:
    for name, value in {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "GRADIO_ANALYTICS_ENABLED": "False",
                        "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}.items():  # fmt: skip
        assert os.environ.get(name) == value, name
    assert vectors.open_client(tmp_path / "index").get_settings().anonymized_telemetry is False
    from assistant.web.app import build_app
    from assistant.web.service import ChatService

    settings = Settings.from_env(corpus=CORPUS, index_dir=tmp_path / "index")
    from assistant.indexing.sync import sync

    sync(settings, progress=False)
    assert build_app(ChatService(settings, load_llm=False)).analytics_enabled is False


def _offline(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m assistant <command>`` in a new network namespace (no network device)."""
    argv = ["unshare", "--net", "--", sys.executable, "-m", "assistant", *command.split("|")]
    return subprocess.run(argv, env=os.environ | env, capture_output=True, text=True, timeout=900, check=False)


def test_index_ask_both_modes_and_eval_with_no_network(tmp_path: Path) -> None:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "--net", "true"], check=False).returncode:
        pytest.skip("no network namespaces here (needs unshare and CAP_SYS_ADMIN); the socket guard still applies")
    env = {"ASSISTANT_CORPUS": str(CORPUS), "ASSISTANT_INDEX": str(tmp_path / "index")}
    assert _offline("index|--json", env).returncode == 0
    extractive = _offline("ask|--json|--mode|extractive|Which networks is ONPE a member of?", env)
    llm = _offline("ask|--json|--mode|llm|Qu'est-ce que le réseau EuroCAN ?", env)
    for done in (extractive, llm):
        assert done.returncode == 0, done.stderr
    assert "EuroCAN" in json.loads(extractive.stdout)["answer"]
    answer = json.loads(llm.stdout)
    assert answer["mode"] == "llm" and not answer["abstained"] and answer["citations"], answer
    evaluated = _offline(f"eval|--json|--limit|6|--out|{tmp_path / 'results'}", env)
    assert evaluated.returncode == 0, evaluated.stderr
    assert 0 < json.loads(evaluated.stdout)["n"] <= 6
