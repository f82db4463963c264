"""Shared fixtures: every test must leave no grading process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest

from autograder.run.handles import OWNER_VAR, RUN_TOKEN_VAR

ROOT = Path(__file__).resolve().parent.parent
# Every grading this test session starts (in-process, through the CLI or a notebook's
# kernel) passes this on to its processes: the check below looks at ours only, and never
# kills the gradings another session runs on the same machine.
OWNER = os.environ.setdefault(OWNER_VAR, f"pytest-{uuid.uuid4().hex}")


def leftover_processes() -> list[psutil.Process]:
    """Processes started by this session's grading runs (they carry a run's token and our
    owner mark) that are still alive."""
    found = []
    for p in psutil.process_iter():
        try:
            env = p.environ()
            if (
                RUN_TOKEN_VAR in env
                and env.get(OWNER_VAR) == OWNER
                and p.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(p)
        except psutil.Error:
            continue
    return found


@pytest.fixture(autouse=True)
def no_processes_left_behind():
    yield
    left = leftover_processes()
    for p in left:  # don't let one leak cascade into every later test
        try:
            p.kill()
        except psutil.Error:
            pass
    assert not left, f"processes left behind: {[(p.pid, p.cmdline()) for p in left]}"


def run_cli(*args: str, wait_at_most: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m autograder ARGS`` as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args],
        capture_output=True,
        text=True,
        timeout=wait_at_most,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def grade_json(exercise: str, path: Path | str) -> tuple[int, dict]:
    """Grade through the CLI (one submission at a time) and parse its JSON verdict."""
    done = run_cli("grade", exercise, str(path), "--json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)
