"""The grading contract in docs/contract/ says what the judges in autograder/judges/ do.

Every registered exercise has its contract file, linked from the contract's README; the
file names each of the exercise's checks; and its constants table lists every
module-level constant of the judge (numbers and strings: limits, counts, intervals)
with the judge's own value, so a changed threshold cannot leave the contract behind.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType

import pytest

from autograder.judges import EXERCISES, Exercise
from tests.conftest import ROOT

CONTRACT = ROOT / "docs" / "contract"
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*`?([^|`]*?)`?\s*\|", re.M)


def judge_module(exercise: Exercise) -> ModuleType:
    return sys.modules[exercise.judge.__module__]


def constants(module: ModuleType) -> dict[str, object]:
    """The judge's module-level UPPER_CASE numbers and strings (its limits and figures)."""
    return {
        name: value
        for name, value in vars(module).items()
        if name.isupper()
        and isinstance(value, int | float | str | bytes)
        and not isinstance(value, bool)
    }


def documented(text: str) -> dict[str, str]:
    """The constants table of a contract file: name to the value as written."""
    return {name: value.strip() for name, value in ROW.findall(text)}


def same(value: object, written: str) -> bool:
    if isinstance(value, bytes):
        return written == value.decode()
    if isinstance(value, str):
        return written == value
    try:
        return float(written.replace("_", "")) == value
    except ValueError:
        return False


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_every_exercise_has_its_contract(exercise_id):
    path = CONTRACT / f"{exercise_id}.md"
    assert path.is_file(), f"no contract for {exercise_id}: write {path.relative_to(ROOT)}"
    assert f"({exercise_id}.md)" in (CONTRACT / "README.md").read_text(), "not linked"
    text = path.read_text()
    for check in ("serves", *EXERCISES[exercise_id].checks):
        assert f"`{check}`" in text, f"{exercise_id}: the check {check!r} is not described"


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_every_constant_of_the_judge_is_in_the_contract(exercise_id):
    table = documented((CONTRACT / f"{exercise_id}.md").read_text())
    values = constants(judge_module(EXERCISES[exercise_id]))
    assert values, f"{exercise_id}: the judge declares no constants"
    missing = sorted(set(values) - set(table))
    assert not missing, f"{exercise_id}: constants not in the contract's table: {missing}"
    wrong = {n: (values[n], table[n]) for n in values if not same(values[n], table[n])}
    assert not wrong, f"{exercise_id}: judge value vs contract value: {wrong}"
    stale = sorted(set(table) - set(values))
    assert not stale, f"{exercise_id}: the contract lists constants the judge has not: {stale}"


def test_a_changed_threshold_is_caught():
    """The comparison itself: a table that drifted from the judge does not pass."""
    table = documented("| `LAG_LIMIT` | 0.2 | s | ... |\n| `N` | 1_000_000 | - | ... |\n")
    assert same(0.2, table["LAG_LIMIT"]) and not same(0.25, table["LAG_LIMIT"])
    assert same(1_000_000, table["N"]) and not same(100_000, table["N"])
    assert same(b"course-salt", "course-salt") and not same("a@example.com", "b@example.com")
