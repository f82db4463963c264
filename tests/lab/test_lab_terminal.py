"""The commands the notebooks print work where the learner types them: in a terminal of the
JupyterLab that ``bash scripts/lab`` starts, ``python`` is the course's environment.

JupyterLab started from a script (stdout not a terminal) runs a login shell by default,
and a login shell's files may reset PATH (Debian's /etc/profile does for root): the test
starts the lab with stdout to a file and without the course's environment on PATH, as a
learner's shell has it, and types into a terminal over the server's websocket
(terminado's JSON messages: ``["stdin", text]`` in, ``["stdout", text]`` out).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado.websocket import websocket_connect

from tests.conftest import ROOT
from tests.jupyterlab import jupyterlab

pytestmark = pytest.mark.slow

VENV = ROOT / ".venv"


def _without_the_course(env: dict[str, str]) -> dict[str, str]:
    """The learner's shell before ``scripts/lab``: no venv active, the venv not on PATH."""
    path = [p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(VENV))]
    env = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, "PATH": os.pathsep.join(path)}


@contextlib.contextmanager
def lab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The lab started from a shell without the course's environment: (host:port, token)."""
    with jupyterlab(ROOT, tmp_path, environ=_without_the_course(dict(os.environ))) as server:
        yield server.base.removeprefix("http://"), server.token


def _new_terminal(base: str, token: str) -> str:
    request = urllib.request.Request(
        f"http://{base}/api/terminals?token={token}", data=b"{}", method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        return str(json.load(r)["name"])


async def _type(
    base: str, token: str, name: str, command: str, until: list[str], within: float
) -> str:
    """Type ``command`` into terminal ``name``; return what it printed once every string of
    ``until`` has appeared (or the time is up)."""
    ws = await websocket_connect(f"ws://{base}/terminals/websocket/{name}?token={token}")
    seen = ""
    try:
        ws.write_message(json.dumps(["stdin", command + "\r"]))
        deadline = time.monotonic() + within
        while not all(s in seen for s in until) and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                message = await asyncio.wait_for(ws.read_message(), deadline - time.monotonic())
                if message is None:
                    break
                kind, *rest = json.loads(message)
                if kind == "stdout":
                    seen += rest[0]
    finally:
        ws.close()
    return seen


def test_the_labs_terminal_runs_the_courses_python(tmp_path):
    python = str(VENV / "bin" / "python")
    with lab(tmp_path) as (base, token):
        seen = asyncio.run(
            _type(
                base,
                token,
                _new_terminal(base, token),
                "command -v python; echo venv=$VIRTUAL_ENV; python -m autograder list",
                # Strings the typed line (echoed back) does not hold: only the output does.
                [python, f"venv={VENV}", "GET /report waits 0.3 s", "threadpool-exhaustion "],
                within=60,
            )
        )
    assert python in seen, seen
    assert f"venv={VENV}" in seen, seen
    assert "blocking-sleep" in seen and "ModuleNotFoundError" not in seen, seen
