"""Shared fixtures: every test must leave no grading process behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from autograder.runner import RUN_TOKEN_VAR

ROOT = Path(__file__).resolve().parent.parent


def leftover_processes() -> list[psutil.Process]:
    """Processes started by a grading run of this checkout (they carry its token and run
    its code) that are still alive. Another checkout's runs on the same machine are not
    ours to judge or kill."""
    found = []
    for p in psutil.process_iter():
        try:
            env = p.environ()
            if (
                RUN_TOKEN_VAR in env
                and str(ROOT) in env.get("PYTHONPATH", "").split(os.pathsep)
                and p.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(p)
        except psutil.Error:
            continue
    return found


def _describe(p: psutil.Process) -> str:
    try:
        return f"{p.pid} {' '.join(p.cmdline())[:200]}"
    except psutil.Error:
        return f"{p.pid} (gone)"


@pytest.fixture(autouse=True)
def no_processes_left_behind():
    yield
    left = leftover_processes()
    for p in left:  # don't let one leak cascade into every later test
        try:
            p.kill()
        except psutil.Error:
            pass
    assert not left, f"processes left behind: {[_describe(p) for p in left]}"


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
