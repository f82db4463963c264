"""pool-stall's private PostgreSQL around a grading: without PostgreSQL the verdict says
how to install it (no traceback, nothing started); a service that dies mid-burst leaves
no server process and no cluster folder behind."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import psutil
import pytest

from autograder.grade import grade_async
from autograder.judges import EXERCISES
from autograder.servers import postgres

EXERCISE = EXERCISES["pool-stall"]

CRASHING = '''
import os

from fastapi import FastAPI

app = FastAPI()


@app.post("/orders", status_code=201)
async def place_order():
    os._exit(3)  # the service dies under the grader's burst


@app.get("/health")
async def health():
    return {"ok": True}
'''


def _clusters() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("course-postgres-*"))


def _postmasters() -> set[int]:
    found = set()
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = p.info["cmdline"] or []
        if cmd and cmd[0].endswith("/postgres") and any("course-postgres-" in c for c in cmd):
            found.add(p.pid)
    return found


def test_without_postgresql_the_verdict_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres, "bindir", lambda: None)
    app = tmp_path / "app.py"
    app.write_text(CRASHING)
    verdict = asyncio.run(grade_async(EXERCISE, app))
    assert not verdict.passed
    serves = verdict.checks[0]
    assert serves.name == "serves" and "apt-get install postgresql" in serves.message
    assert all(c.message.startswith("not measured") for c in verdict.checks[1:])
    assert [c.name for c in verdict.checks[1:]] == list(EXERCISE.checks)


@pytest.mark.slow
def test_a_service_that_dies_leaves_no_server_behind(tmp_path):
    if postgres.bindir() is None:
        if postgres.required():
            pytest.fail(f"{postgres.REQUIRE_VARIABLE}=1 but {postgres.INSTALL_HINT}")
        pytest.skip(postgres.INSTALL_HINT)
    before_dirs, before_pids = _clusters(), _postmasters()
    app = tmp_path / "app.py"
    app.write_text(CRASHING)
    verdict = asyncio.run(grade_async(EXERCISE, app))
    checks = {c.name: c for c in verdict.checks}
    assert not checks["serves"].passed, checks["serves"].message
    assert _clusters() == before_dirs
    assert _postmasters() == before_pids
