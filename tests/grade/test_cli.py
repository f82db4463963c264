"""The command line: listing, help, and usage errors that start nothing."""

from __future__ import annotations

import pytest

from autograder.judges import EXERCISES
from tests.conftest import ROOT, run_cli


def test_list_shows_every_exercise_one_line_each():
    done = run_cli("list")
    assert done.returncode == 0
    lines = done.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(EXERCISES)
    assert len(lines) == len(EXERCISES) >= 8


@pytest.mark.parametrize("args", [["--help"], ["grade", "--help"], ["list", "--help"]])
def test_help_everywhere(args):
    done = run_cli(*args)
    assert done.returncode == 0 and "usage:" in done.stdout


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["grade", "no-such-exercise", "exercises/blocking-sleep/starter.py"], "unknown exercise"),
        (["grade", "blocking-sleep", "does/not/exist.py"], "no such file"),
        (["grade", "blocking-sleep", "exercises"], "not a file"),
        (["grade", "blocking-sleep"], "required"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_usage_errors_exit_2_with_a_reason(args, reason):
    done = run_cli(*args, wait_at_most=30)
    assert done.returncode == 2
    assert reason in done.stderr and "usage:" in done.stderr
    assert done.stdout == ""


def test_every_exercise_has_a_starter_readme_and_two_solutions():
    for exercise in EXERCISES:
        assert (ROOT / "exercises" / exercise / "starter.py").is_file()
        assert (ROOT / "exercises" / exercise / "README.md").is_file()
        assert len(list((ROOT / "solutions" / exercise).glob("*.py"))) >= 2
    folders = {
        p.name for p in (ROOT / "exercises").iterdir() if p.is_dir() and not p.name.startswith(".")
    }
    assert set(EXERCISES) <= folders
