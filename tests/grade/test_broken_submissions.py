"""Submissions that cannot be graded normally: each gets a failing verdict that says why,
within 60 s, with exit status 1 and no process left behind (conftest's autouse fixture).

Slow: each case starts real processes; the endless import alone waits out the grader's
20 s import timeout.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from autograder.run import runner
from autograder.run.start import READY_TIMEOUT
from tests.conftest import ROOT, grade_json, leftover_processes

pytestmark = pytest.mark.slow

BROKEN = ROOT / "tests" / "broken"
EXERCISE = "blocking-sleep"
WALL_LIMIT = 60.0

# file -> words the verdict's failing messages must contain (they name what happened)
CASES = {
    "import_error.py": ("ModuleNotFoundError", "fastapi_turbo_sleep"),
    "no_app.py": ("no module-level `app`",),
    "app_not_callable.py": ("dict", "not an ASGI application"),
    "sys_exit.py": ("sys.exit(2)", "imported"),
    "endless_import.py": (f"did not finish importing within {runner.IMPORT_TIMEOUT:.0f} s",),
    "never_answers.py": ("none of the 20 requests had been answered",),
    "dies_mid_run.py": ("exited with status 7", "while it was being graded"),
    "lifespan_raises.py": ("lifespan startup failed", "REPORTS_DB is not configured"),
}
# durable-jobs (the grader crashes and restarts the service): file -> words, as above
DURABLE = {
    "durable_no_worker.py": ("no email reached the mail server at all", "is a worker sending"),
    "durable_corrupts_state.py": (
        "did not start again", "lifespan startup failed", "file is not a database",
    ),
    "durable_hangs_after_restart.py": (
        "did not start again", f"did not start serving within {READY_TIMEOUT:.0f} s",
    ),
}
KNOWN_VAGUE: set[str] = set()  # cases whose message does not yet name what happened


def failing_messages(verdict: dict) -> str:
    return "\n".join(c["message"] for c in verdict["checks"] if not c["passed"])


def grade_timed(path: Path, exercise: str = EXERCISE) -> tuple[int, dict, float]:
    t0 = time.monotonic()
    code, verdict = grade_json(exercise, path)
    return code, verdict, time.monotonic() - t0


def assert_failed_in_time(code: int, verdict: dict, took: float) -> None:
    assert code == 1 and verdict["passed"] is False, verdict["checks"]
    assert took < WALL_LIMIT


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                strict=True, reason="serve.py reports uvicorn's SystemExit(3), not the lifespan"
            ),
        )
        if name in KNOWN_VAGUE
        else name
        for name in CASES
    ],
)
def test_broken_submission_fails_with_a_reason(name: str):
    code, verdict, took = grade_timed(BROKEN / name)
    assert_failed_in_time(code, verdict, took)
    messages = failing_messages(verdict)
    for words in CASES[name]:
        assert words in messages, messages


@pytest.mark.parametrize("name", sorted(DURABLE))
def test_a_service_that_breaks_across_its_restart_is_told_why(name: str):
    """It served before the crash; after the restart it cannot or will not: the verdict says
    what happened, in time, and the restarted process is gone with the run."""
    code, verdict, took = grade_timed(BROKEN / name, "durable-jobs")
    assert_failed_in_time(code, verdict, took)
    checks = {c["name"]: c for c in verdict["checks"]}
    assert not checks["survives-crash"]["passed"], checks
    for words in DURABLE[name]:
        assert words in checks["survives-crash"]["message"], checks["survives-crash"]
    assert leftover_processes() == []


def test_lifespan_failure_still_fails_in_time():
    """The part of the lifespan case that holds today, whatever the message says."""
    code, verdict, took = grade_timed(BROKEN / "lifespan_raises.py")
    assert_failed_in_time(code, verdict, took)
    serves = verdict["checks"][0]
    assert serves["name"] == "serves" and not serves["passed"] and serves["message"]


def test_syntax_error_is_named_with_its_line(tmp_path: Path):
    # Written here, not kept in tests/broken: a file that does not parse would break ruff.
    path = tmp_path / "syntax_error.py"
    path.write_text("from fastapi import FastAPI\n\napp = FastAPI(\n")
    code, verdict, took = grade_timed(path)
    assert_failed_in_time(code, verdict, took)
    messages = failing_messages(verdict)
    assert "SyntaxError" in messages and "line 3" in messages, messages


def test_detached_helper_process_is_stopped():
    """A correct fix that also starts a process in a session of its own: graded normally,
    and the helper does not outlive the run."""
    code, verdict, took = grade_timed(BROKEN / "orphan_child.py")
    assert code == 0 and verdict["passed"], verdict["checks"]
    assert took < WALL_LIMIT
    assert leftover_processes() == []
