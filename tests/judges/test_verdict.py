"""A verdict survives its JSON round trip, and renders as the README shows it."""

from __future__ import annotations

import json

from autograder.judges.checks import Check
from autograder.judges.verdict import Verdict

VERDICT = Verdict(
    exercise="blocking-sleep",
    checks=(
        Check("serves", True, "the app imported, served and stayed up for the whole run"),
        Check("concurrent", False, "only 3 of 20 requests had been answered after 1.10 s"),
        Check("loop-free", False, "the event loop was blocked for up to 1391 ms"),
    ),
    diagnosis="starter.py:12 in report: time.sleep(0.3)",
    metrics={"requests": 20, "timeline": [{"start_ms": 0.0, "end_ms": None, "status": None}]},
    environment={"default_executor_workers": 40},
)


def test_to_dict_is_the_contract_object():
    d = VERDICT.to_dict()
    assert list(d) == [
        "exercise",
        "passed",
        "score",
        "max_score",
        "checks",
        "diagnosis",
        "metrics",
        "environment",
    ]
    assert d["passed"] is False and d["score"] == 1 and d["max_score"] == 3
    assert d["checks"][1] == {
        "name": "concurrent",
        "passed": False,
        "message": "only 3 of 20 requests had been answered after 1.10 s",
    }


def test_round_trip_through_json():
    back = Verdict.from_dict(json.loads(json.dumps(VERDICT.to_dict())))
    assert back == VERDICT
    assert back.failed == ["concurrent", "loop-free"]


def test_score_and_passed_are_derived_not_read():
    d = VERDICT.to_dict() | {"passed": True, "score": 3}  # a tampered object
    back = Verdict.from_dict(d)
    assert not back.passed and back.score == 1


def test_a_verdict_without_checks_does_not_pass():
    assert not Verdict("x", ()).passed
    assert Verdict("x", (Check("serves", True, "ok"),)).passed


def test_render_marks_each_check_and_quotes_the_diagnosis():
    lines = VERDICT.render().splitlines()
    assert lines[0] == "blocking-sleep: FAILED (1/3 checks)"
    assert lines[1].startswith("  ✓ serves: ")
    assert lines[2].startswith("  ✗ concurrent: only 3 of 20")
    assert lines[-2] == "  diagnosis: starter.py:12 in report: time.sleep(0.3)"
    assert lines[-1] == "score: 1/3"
    passed = Verdict("x", (Check("serves", True, "ok"),)).render()
    assert passed.startswith("x: PASSED (1/1 checks)") and "diagnosis" not in passed
