"""A class graded in two shards (two copies of the course, as on two machines), merged
into the one gradebook."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.classroom.shards import parse, share
from autograder.classroom.submission import app_cell
from tests.conftest import ROOT

EXERCISE = "blocking-sleep"


def test_shares_cover_the_class_once():
    todo = [("a", f"s{i}") for i in range(7)]
    shares = [share(todo, f"{k}/3") for k in (1, 2, 3)]
    assert sorted(x for s in shares for x in s) == todo
    assert [len(s) for s in shares] == [3, 2, 2]
    for bad in ("0/2", "3/2", "1", "a/b"):
        with pytest.raises(ValueError, match="K/N"):
            parse(bad)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    scripts = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
    }
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )


def test_a_wrong_shard_is_a_usage_error(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("")
    done = cli(
        "-m", "autograder", "classroom", "autograde", "--course", str(tmp_path), "--shard", "3/2"
    )
    assert done.returncode == 2 and "K/N" in done.stderr


@pytest.mark.slow
def test_two_shards_merge_into_the_one_gradebook(tmp_path):
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source" / EXERCISE, course / "source" / EXERCISE)
    done = cli(
        "-m", "nbgrader", "generate_assignment", EXERCISE, "--CourseDirectory.root=" + str(course)
    )
    assert done.returncode == 0, done.stderr
    solved = (ROOT / "solutions" / EXERCISE / "async_sleep.py").read_text()
    expected = {"ann": "5", "ben": "3", "cat": "5", "dan": "3"}
    for who, score in expected.items():
        nb = nbformat.read(course / "release" / EXERCISE / f"{EXERCISE}.ipynb", as_version=4)
        if score == "5":
            app_cell(nb).source = "%%writefile app.py\n" + solved
        (course / "submitted" / who / EXERCISE).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / who / EXERCISE / f"{EXERCISE}.ipynb")

    shards = []
    for k in (1, 2):  # each machine: its own copy of the course, its share graded
        shard = tmp_path / f"shard{k}"
        shutil.copytree(course, shard)
        done = cli(
            "-m",
            "autograder",
            "classroom",
            "autograde",
            "--course",
            str(shard),
            "--feedback",
            "--shard",
            f"{k}/2",
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "2 submission(s)" in done.stdout
        shards.append(str(shard))

    done = cli("-m", "autograder", "classroom", "merge", "--course", str(course), *shards)
    assert done.returncode == 0, done.stdout + done.stderr
    with open(course / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert {who: r["score"] for who, r in rows.items()} == expected
    assert all(r["status"] == "graded" for r in rows.values())
    for who in expected:
        assert (course / "feedback" / who / EXERCISE / f"{EXERCISE}.html").exists()
        assert (course / "logs" / "verdicts" / EXERCISE / f"{who}.json").exists()
