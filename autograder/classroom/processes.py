"""Run a command in a session of its own and leave none of its processes behind."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Grace for the grader to stop its own servers after SIGINT, before SIGKILL.
STOP_GRACE = 5.0
# Every process a classroom run starts inherits this variable, so stray ones can be found.
TOKEN_VAR = "AUTOGRADER_CLASSROOM_RUN"


@dataclass
class Completed:
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False


def _stop_tree(proc: subprocess.Popen[Any], token: str) -> None:
    """Stop ``proc`` (a session leader), its group, its descendants and token carriers."""
    from autograder.sandbox import proctree

    if proc.poll() is None:
        # SIGINT lets the grader run its own clean-up: its app and dependency servers live
        # in sessions of their own, out of reach of killpg.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_GRACE)
    victims = proctree.kill_tree(proc.pid)
    victims |= proctree.kill_carrying(token, var=TOKEN_VAR)  # escaped the group
    proctree.wait_gone(victims)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(STOP_GRACE)


def run_isolated(
    cmd: Sequence[str],
    *,
    timeout: float,
    cwd: str | Path | None = None,
    stdout: Any = subprocess.PIPE,
    stderr: Any = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> Completed:
    """Run ``cmd`` in a new session; whatever happens, leave none of its processes behind."""
    token = uuid.uuid4().hex
    env = {**(os.environ if env is None else env), TOKEN_VAR: token}
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=env,
        start_new_session=True,
        text=True,
    )
    timed_out = False
    out = err = ""
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
    finally:
        _stop_tree(proc, token)
        if timed_out:
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
                out, err = proc.communicate(timeout=STOP_GRACE)
    return Completed(proc.returncode, out or "", err or "", timed_out)
