"""nbgrader's exchange, round trip: release, fetch, edit, submit, collect, the class
graded in two shards (two copies of the course, as on two machines) and merged into the
one gradebook, feedback released and fetched, with two students on one machine.
(A class graded in one run, every tampering trick included, is ``test_classroom.py``'s.)

Each student is an account of their own as nbgrader sees one: their own home folder and
their own nbgrader config (``~/.jupyter/nbgrader_config.py``, which names the student:
the test runs as one OS user); one exchange folder is shared by everyone.
"""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.classroom.submission import app_cell
from tests.conftest import ROOT

EXERCISE = "blocking-sleep"
COURSE_ID = "fastapi-concurrency"
SOLVED = (ROOT / "solutions" / EXERCISE / "async_sleep.py").read_text()


def run(cwd: Path, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def base_env(exchange: Path) -> dict[str, str]:
    scripts = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")]),
        "PYTHONPATH": str(ROOT),
        "NBGRADER_EXCHANGE": str(exchange),
    }


def student_env(home: Path, name: str, exchange: Path) -> dict[str, str]:
    config = home / ".jupyter" / "nbgrader_config.py"
    config.parent.mkdir(parents=True)
    config.write_text(
        "c = get_config()\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        # one OS user runs both students here: nbgrader's exchange would take the id from
        # the uid's name, so each student's config names them
        f"c.CourseDirectory.student_id = {name!r}\n"
    )
    return {**base_env(exchange), "HOME": str(home), "USER": name, "LOGNAME": name}


@pytest.mark.slow
def test_the_exchange_round_trip_gives_each_student_their_own_feedback(tmp_path):
    exchange = tmp_path / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source" / EXERCISE, course / "source" / EXERCISE)
    teacher = base_env(exchange)
    nbgrader = ("-m", "nbgrader")
    run(course, *nbgrader, "generate_assignment", EXERCISE, env=teacher)
    run(course, *nbgrader, "release_assignment", EXERCISE, env=teacher)

    students = {"alice": SOLVED, "bob": None}  # a correct fix; the untouched starter
    envs = {}
    for name, code in students.items():
        home = tmp_path / "home" / name
        home.mkdir(parents=True)
        envs[name] = student_env(home, name, exchange)
        run(home, *nbgrader, "fetch_assignment", EXERCISE, env=envs[name])
        path = home / EXERCISE / f"{EXERCISE}.ipynb"
        if code is not None:
            nb = nbformat.read(path, as_version=4)
            app_cell(nb).source = "%%writefile app.py\n" + code
            nbformat.write(nb, path)
        run(home, *nbgrader, "submit", EXERCISE, env=envs[name])

    run(course, *nbgrader, "collect", EXERCISE, env=teacher)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alice", "bob"]
    shards, graded = [], ""
    for k in (1, 2):  # each machine: its own copy of the course, its share graded
        shard = tmp_path / f"shard{k}"
        shutil.copytree(course, shard)
        graded += run(
            ROOT,
            *("-m", "autograder", "classroom", "autograde", "--course", str(shard)),
            *("--feedback", "--shard", f"{k}/2"),
            env=teacher,
        )
        shards.append(str(shard))
    assert graded.count("1 submission(s)") == 2, graded  # one student on each machine
    assert "alice / blocking-sleep ... 5/5" in graded, graded
    assert "bob / blocking-sleep ... 3/5, failed: concurrent, loop-free" in graded, graded
    run(ROOT, *("-m", "autograder", "classroom", "merge", "--course", str(course)), *shards,
        env=teacher)
    with open(course / "grades.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert {who: (r["score"], r["status"]) for who, r in rows.items()} == {
        "alice": ("5", "graded"), "bob": ("3", "graded")
    }
    for who in rows:
        assert (course / "logs" / "verdicts" / EXERCISE / f"{who}.json").exists()
    run(course, *nbgrader, "release_feedback", EXERCISE, env=teacher)

    expected = {"alice": "5.0 / 5.0", "bob": "3.0 / 5.0"}
    for name in students:
        home = tmp_path / "home" / name
        run(home, *nbgrader, "fetch_feedback", EXERCISE, env=envs[name])
        pages = list((home / EXERCISE / "feedback").glob(f"*/{EXERCISE}.html"))
        assert len(pages) == 1, pages
        page = html.unescape(re.sub(r"<[^>]+>", "", pages[0].read_text()))  # text only
        assert f"{EXERCISE} (Score: {expected[name]})" in page
        assert ("concurrent: failed" in page) == (name == "bob")
        # each sees their own service in their feedback, not the other's
        assert ("asyncio.sleep(0.3)" in page) == (name == "alice")
