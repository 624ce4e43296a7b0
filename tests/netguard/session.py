"""Turn the network guard on for the test session and every Python process it starts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tests.netguard import sitecustomize

# Attempts beyond loopback are appended here; the root conftest.py fails the session if it is not empty.
NET_GUARD_LOG = Path(tempfile.mkstemp(prefix="assistant-net-guard-", suffix=".log")[1])
os.environ["ASSISTANT_NET_GUARD_LOG"] = str(NET_GUARD_LOG)
# Child processes import tests/netguard/sitecustomize.py at start-up (PYTHONPATH).
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))
sitecustomize.install()
