"""The grader against fixes a student could write: wrong ones fail, valid ones pass.

``tests/corpus/<exercise>/wrong_*.py`` keep the bug in another form, hide it, or skip the
work; each names, in a ``# expect-fail: a, b`` line, the checks it must fail (the grader
never reads it: only this test does). ``valid_*.py`` are fixes beyond ``solutions/``
(other libraries and styles) and must pass every check.

Slow: each case serves a real submission (about 2 s each, one at a time, through the CLI).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autograder.judges import EXERCISES
from tests.conftest import ROOT, grade_json

pytestmark = pytest.mark.slow

CORPUS = ROOT / "tests" / "corpus"
WRONG = sorted(CORPUS.glob("*/wrong_*.py"))
VALID = sorted(CORPUS.glob("*/valid_*.py"))
HEADER = re.compile(r"^# expect-fail: *(.+)$", re.MULTILINE)

# Valid fixes the grader fails now and then: graded every run, reported as XFAIL/XPASS.
# A fresh httpx.AsyncClient per request (SSL context + connection pool, all on the loop)
# measured 116-229 ms of loop lag over 17 runs against the 200 ms limit: 2 runs failed.
# Valid fixes whose figures sit near a limit on this machine (none since sniffio is installed:
# a client per request measured 105-154 ms of loop lag against the 200 ms limit).
BORDERLINE: dict[str, str] = {}


def expected_failures(path: Path) -> set[str]:
    found = HEADER.search(path.read_text())
    assert found, f"{path.name} has no '# expect-fail:' line"
    return {name.strip() for name in found.group(1).split(",") if name.strip()}


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_corpus_covers_every_exercise_with_documented_cases():
    for exercise in EXERCISES:
        wrong = [p for p in WRONG if p.parent.name == exercise]
        valid = [p for p in VALID if p.parent.name == exercise]
        assert len(wrong) >= 4 and len(valid) >= 3, exercise
    assert {p.parent.name for p in WRONG + VALID} <= set(EXERCISES)
    for path in WRONG + VALID:
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path.name} says nothing"
    for path in WRONG:
        names = expected_failures(path)
        known = set(EXERCISES[path.parent.name].checks)
        assert names and names <= known, f"{case_id(path)}: {names - known} are not checks"


@pytest.mark.parametrize("path", WRONG, ids=case_id)
def test_wrong_fix_fails_the_checks_it_names(path: Path):
    code, verdict = grade_json(path.parent.name, path)
    checks = {c["name"]: c for c in verdict["checks"]}
    failed = {name for name, c in checks.items() if not c["passed"]}
    assert code == 1 and not verdict["passed"]
    # It served: the verdict is about its behaviour, not a crash.
    assert checks["serves"]["passed"], checks["serves"]["message"]
    assert expected_failures(path) <= failed, verdict["checks"]
    assert all(checks[name]["message"] for name in failed)


def valid_case(path: Path):
    reason = BORDERLINE.get(case_id(path))
    marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
    return pytest.param(path, id=case_id(path), marks=marks)


@pytest.mark.parametrize("path", [valid_case(p) for p in VALID])
def test_valid_fix_passes_every_check(path: Path):
    code, verdict = grade_json(path.parent.name, path)
    failed = [c for c in verdict["checks"] if not c["passed"]]
    assert code == 0 and verdict["passed"], (failed, verdict["metrics"])
    assert verdict["score"] == verdict["max_score"]
    assert verdict["diagnosis"] is None
