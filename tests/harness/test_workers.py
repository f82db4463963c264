"""Serving with uvicorn's own multi-process supervisor (``workers`` > 1)."""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from pathlib import Path

import psutil
import pytest

from autograder import lab
from autograder.harness import serve
from autograder.run import runner

APP = """
import os, time
from fastapi import FastAPI

app = FastAPI()


@app.get("/whoami")
async def whoami():
    return {"pid": os.getpid()}


@app.get("/block")
async def block():
    time.sleep(0.4)
    return {"pid": os.getpid()}
"""


def test_workers_must_be_a_positive_count(capsys: pytest.CaptureFixture[str]):
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit) as exited:
            serve.main(
                ["app.py", "--fd", "3", "--status-fd", "4", "--report", "r", "--workers", bad]
            )
        assert exited.value.code == 2
        assert "--workers" in capsys.readouterr().err


def test_the_runner_refuses_zero_workers(tmp_path: Path):
    async def main() -> None:
        async with runner.running(tmp_path / "app.py", workers=0):
            pass

    before = set(Path(tempfile.gettempdir()).glob("autograder-*"))
    with pytest.raises(ValueError, match="at least 1"):
        asyncio.run(main())
    assert set(Path(tempfile.gettempdir()).glob("autograder-*")) == before  # no run folder left


@pytest.mark.slow
def test_two_workers_answer_and_nothing_is_left_after_close(tmp_path: Path):
    app_file = tmp_path / "app.py"
    app_file.write_text(APP)
    with lab.serve(app_file, workers=2) as app:
        workers = app.workers()
        # one connection per request, one after another: the kernel hands each to a worker
        pids = Counter(app.request("GET", "/whoami").json()["pid"] for _ in range(30))
        blocked = app.burst("GET", "/block", n=2)
        processes = [c for p in app.processes() for c in [p, *p.children(recursive=True)]]
        inside = app.inside()
        diagnosis = app.diagnosis(since=blocked.started)
    assert len(workers) == 2 and set(pids) == set(workers), (workers, pids)
    assert len(blocked.answered) == 2
    # each worker runs the harness: its lag monitor names it, the diagnosis finds the line
    assert {r["pid"] for r in inside if r.get("kind") == "worker"} == set(workers)
    # (a stall past the diagnosis's 0.2 s limit in whichever worker took a request)
    assert diagnosis is not None and "time.sleep(0.4)" in diagnosis, diagnosis
    assert len(processes) >= 3  # the supervisor and its two workers (under host pids)
    gone, alive = psutil.wait_procs(processes, timeout=5)
    assert not alive, alive


@pytest.mark.slow
def test_a_worker_that_cannot_import_says_why_and_leaves_nothing(tmp_path: Path):
    app_file = tmp_path / "app.py"
    app_file.write_text("import no_such_module_here\n")
    with pytest.raises(runner.SubmissionFailed, match="no_such_module_here"):
        with lab.serve(app_file, workers=2):
            pass
