"""Every reference solution passes; every starter fails on the checks the contract names.

Slow: each case serves a real submission with uvicorn beside real dependency servers
and sends real concurrent load (about 2 s each, one at a time).
"""

from __future__ import annotations

import json

import pytest

from autograder.judges import EXERCISES
from tests.conftest import ROOT, grade_json

pytestmark = pytest.mark.slow

SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.py"))

# The checks each starter must fail (the contract's "what passing means"), and the
# words the diagnosis must quote from the line that blocked the loop.
STARTERS = {
    "blocking-sleep": ({"concurrent", "loop-free"}, "time.sleep(0.3)"),
    "blocking-http": ({"concurrent", "upstream-concurrency", "loop-free"}, "httpx.get("),
    "blocking-smtp": ({"fast-answers", "loop-free"}, "send_message(msg)"),
    "threadpool-exhaustion": ({"upstream-concurrency"}, None),
    "cpu-bound": ({"health-fast"}, "pbkdf2_hmac("),
    "background-tasks": ({"fast-answers"}, None),
    "streaming": ({"first-row", "concurrent", "loop-free"}, 'client.get(f"/rows/{report}"'),
    "timeouts": ({"deadline", "healthy-fast", "cleanup"}, None),
    "fan-out": ({"fans-out"}, None),
    "starved-health": ({"health-fast", "downloads-fast"}, None),
    "durable-jobs": ({"survives-crash"}, None),
    "token-stream": (
        {"first-token", "loop-free", "health-fast", "threads-free"},
        "upstream.iter_lines()",
    ),
    "pool-stall": ({"answered", "held"}, None),
    "ws-broadcast": ({"latency", "publish", "stalled-dropped"}, None),
}


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_solution_passes(path):
    code, verdict = grade_json(path.parent.name, path)
    failed = [c for c in verdict["checks"] if not c["passed"]]
    assert code == 0 and verdict["passed"], failed
    assert verdict["score"] == verdict["max_score"] == len(EXERCISES[path.parent.name].checks) + 1
    assert verdict["diagnosis"] is None


@pytest.mark.parametrize("exercise", list(STARTERS))
def test_starter_fails_on_the_named_checks(exercise):
    must_fail, blamed = STARTERS[exercise]
    code, verdict = grade_json(exercise, ROOT / "exercises" / exercise / "starter.py")
    # The figures with the checks: a starter that passes explains itself (a crash's timing).
    figures = json.dumps({"checks": verdict["checks"], "metrics": verdict["metrics"]}, indent=1)
    assert code == 1 and not verdict["passed"], figures
    failed = {c["name"] for c in verdict["checks"] if not c["passed"]}
    assert must_fail <= failed, figures
    assert "serves" not in failed
    if blamed:
        assert verdict["diagnosis"] and verdict["diagnosis"].startswith("starter.py:")
        assert blamed in verdict["diagnosis"]


def test_json_is_exactly_the_contract_object():
    _, verdict = grade_json(
        "blocking-sleep", ROOT / "solutions" / "blocking-sleep" / "async_sleep.py"
    )
    assert set(verdict) == {
        "exercise",
        "passed",
        "score",
        "max_score",
        "checks",
        "diagnosis",
        "metrics",
        "environment",
    }
    env = verdict["environment"]
    assert env["default_executor_workers"] == 40
    assert env["ssl_cert_dir"] is None and env["ssl_cert_file"].endswith(".pem")
    assert env["uvicorn"] == {
        "loop": "asyncio",
        "http": "h11",
        "workers": 1,
        "ws": "websockets-sansio",
        "ws_ping_interval": 1.0,
        "ws_ping_timeout": 4.0,
    }
    assert {"python", "fastapi", "starlette", "uvicorn", "httpx", "websockets"} <= set(
        env["versions"]
    )
    m = verdict["metrics"]
    assert m["requests"] == m["answered"] == 20 and m["max_loop_lag_ms"] < 200
    assert all(set(c) == {"name", "passed", "message"} for c in verdict["checks"])


def test_text_verdict_marks_each_check_and_quotes_the_blocking_line():
    from tests.conftest import run_cli

    done = run_cli("grade", "blocking-sleep", "exercises/blocking-sleep/starter.py")
    assert done.returncode == 1
    assert "✗ concurrent:" in done.stdout and "✓ serves:" in done.stdout
    assert "diagnosis: starter.py:12 in report: time.sleep(0.3)" in done.stdout
    assert "score: " in done.stdout
