"""The nbgrader classroom: source notebooks, the notebook-side grading helpers, and a fake
class graded end to end with nbgrader's own commands.

nbgrader runs as a subprocess everywhere (its warnings would be errors under pytest's
``filterwarnings = error``), in a temporary copy of the course, never in the repository.
"""

from __future__ import annotations

import csv
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import classroom
from autograder.judges import EXERCISES
from tests.conftest import ROOT

COURSE = ROOT / "exercises"
VENV_BIN = str(Path(sys.executable).parent)


# --------------------------------------------------------------------------- source notebooks


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_source_notebook_is_built_from_the_starter_and_readme(exercise):
    path = COURSE / "source" / exercise / f"{exercise}.ipynb"
    built = nbformat.writes(classroom.build_notebook(exercise, ROOT))
    assert path.read_text().rstrip("\n") == built.rstrip("\n"), (
        "stale: run `python -m autograder classroom build`"
    )


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_source_notebook_has_the_app_cell_and_one_hidden_test_per_check(exercise):
    folder = COURSE / "source" / exercise
    # autograde copies every non-notebook file of source/<id>/ over the student's files:
    # the student's service must live in the notebook, and nothing else may sit here.
    assert sorted(p.name for p in folder.iterdir()) == [f"{exercise}.ipynb"]
    nb = nbformat.read(folder / f"{exercise}.ipynb", as_version=4)
    starter = (COURSE / exercise / "starter.py").read_text()
    apps = [c for c in nb.cells if c.source.startswith("%%writefile app.py\n")]
    assert len(apps) == 1 and apps[0].source.removeprefix("%%writefile app.py\n") == starter
    # an nbgrader solution cell without markers would be replaced by a stub that raises
    assert "nbgrader" not in apps[0].metadata
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata.nbgrader.grade_id for c in tests] == [
        f"check-{name}" for name in ("serves", *EXERCISES[exercise].checks)
    ]
    for cell in tests:
        assert cell.metadata.nbgrader.points == 1 and cell.metadata.nbgrader.locked
        assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source
    assert "classroom.grade_to_cache(" in tests[0].source
    assert any("classroom.check_my_work(" in c.source for c in nb.cells)


def test_cell_timeout_leaves_room_for_the_slowest_grading():
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    # nbgrader's default (30 s) cuts off a grading run; the contract allows 60 s for a
    # submission that hangs, and the grader's own limit must fire before the cell's.
    assert classroom.GRADE_TIMEOUT >= 60
    assert cfg.ExecutePreprocessor.timeout > classroom.GRADE_TIMEOUT + 2 * classroom.STOP_GRACE
    assert cfg.Exchange.root  # a writable exchange, not /srv/nbgrader/exchange


# --------------------------------------------------------------------------- notebook helpers

VERDICT = {
    "exercise": "blocking-sleep",
    "passed": False,
    "score": 1,
    "max_score": 2,
    "checks": [
        {"name": "serves", "passed": True, "message": "it served"},
        {"name": "concurrent", "passed": False, "message": "only 3 of 20 answered"},
    ],
    "diagnosis": "app.py:12 in report: time.sleep(0.3)",
    "metrics": {"timeline": [{"start_ms": 0.0, "end_ms": 300.0, "status": 200}]},
    "environment": {},
}


def fake_grader(body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(body)]


def test_grader_stderr_and_warnings_are_reported_on_stdout(tmp_path, capfd, monkeypatch):
    # Anything on a test cell's stderr zeroes it, even when every assert passed.
    def warn_while_drawing(verdict):
        import warnings

        warnings.warn("a plotting library complained", UserWarning, stacklevel=1)

    monkeypatch.setattr(classroom.student, "_show_timeline", warn_while_drawing)
    cmd = fake_grader(f"""
        import json, sys
        sys.stderr.write("grader progress: measuring\\n")
        print(json.dumps({VERDICT!r}))
    """)
    classroom.grade_to_cache(
        "blocking-sleep", tmp_path / "app.py", cache=tmp_path / "v.json", command=cmd
    )
    out, err = capfd.readouterr()
    assert err == ""
    assert "grader progress: measuring" in out
    assert "warning: UserWarning: a plotting library complained" in out
    assert "✗ concurrent: only 3 of 20 answered" in out
    assert json.loads((tmp_path / "v.json").read_text())["score"] == 1


def test_checks_read_the_cached_verdict(tmp_path, capsys):
    cache = tmp_path / "v.json"
    with pytest.raises(classroom.CheckFailed, match="no verdict"):
        classroom.check("serves", cache=cache)
    cache.write_text(json.dumps(VERDICT))
    classroom.check("serves", cache=cache)
    with pytest.raises(classroom.CheckFailed, match="only 3 of 20 answered"):
        classroom.check("concurrent", cache=cache)
    assert "diagnosis: app.py:12 in report: time.sleep(0.3)" in capsys.readouterr().out


def test_check_my_work_leaves_grading_to_the_test_cells_under_nbgrader(tmp_path, monkeypatch):
    # A notebook run grades once: under autograde/validate the hidden test cells grade.
    marker = tmp_path / "graded"
    (tmp_path / "app.py").write_text("")
    cmd = fake_grader(f"open({str(marker)!r}, 'w').close()")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    classroom.check_my_work("blocking-sleep", tmp_path / "app.py", command=cmd)
    assert not marker.exists()
    monkeypatch.delenv("NBGRADER_EXECUTION")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError, match="no verdict"):
        classroom.check_my_work("blocking-sleep", tmp_path / "app.py", command=cmd)
    assert marker.exists()


# A grader that starts a server in a session of its own (as the real one does), then hangs.
HANGING_GRADER = """
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                             start_new_session=True)
    open({pidfile!r}, "w").write(str(child.pid))
    time.sleep(120)
"""


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_for(path: Path, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while not path.exists() or not path.read_text():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)
    return path.read_text()


def test_a_grader_that_hangs_is_stopped_with_everything_it_started(tmp_path):
    pidfile = tmp_path / "pid"
    cmd = fake_grader(HANGING_GRADER.format(pidfile=str(pidfile)))
    with pytest.raises(RuntimeError, match="no verdict within 2 s"):
        classroom.grade_to_cache(
            "blocking-sleep", tmp_path / "app.py", cache=tmp_path / "v.json", timeout=2, command=cmd
        )
    assert _gone(int(pidfile.read_text()))


def test_an_interrupted_kernel_leaves_no_grader_behind(tmp_path):
    # nbgrader interrupts the kernel when a cell times out; the grader and its children
    # were started in sessions of their own, so only the cell's `finally` can stop them.
    pidfile = tmp_path / "pid"
    kernel_code = textwrap.dedent(f"""
        from autograder import classroom
        cmd = {fake_grader(HANGING_GRADER.format(pidfile=str(pidfile)))!r}
        classroom.grade_to_cache("blocking-sleep", "app.py", command=cmd)
    """)
    kernel = subprocess.Popen(
        [sys.executable, "-c", kernel_code],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        child = int(_wait_for(pidfile))
        grader = psutil.Process(child).ppid()
        kernel.send_signal(signal.SIGINT)
        kernel.communicate(timeout=30)
        assert _gone(child) and _gone(grader)
    finally:
        kernel.kill()
        kernel.wait()


# --------------------------------------------------------------------------- a graded class

STARTER_SLEEP = (COURSE / "blocking-sleep" / "starter.py").read_text()
STARTER_HTTP = (COURSE / "blocking-http" / "starter.py").read_text()
PARTIAL_HTTP = (
    (ROOT / "solutions" / "blocking-http" / "async_client.py")
    .read_text()
    .replace("@app.get", "one_at_a_time = asyncio.Lock()\n\n\n@app.get")
    .replace(
        "    response = await app.state.client.get",
        "    async with one_at_a_time:\n        response = await app.state.client.get",
    )
    .replace("import os\n", "import asyncio\nimport os\n")
)
NOT_IMPORTING = "from fastapi import FastAPI\n\napp = FastAPI(\n"

# student -> exercise -> (app code, or None for the untouched notebook)
CLASS: dict[str, dict[str, str | None]] = {
    "alice": {  # correct fixes
        "blocking-sleep": (ROOT / "solutions" / "blocking-sleep" / "async_sleep.py").read_text(),
        "blocking-http": (ROOT / "solutions" / "blocking-http" / "async_client.py").read_text(),
    },
    "bob": {"blocking-sleep": None, "blocking-http": None},  # the untouched starters
    "carol": {  # partial fixes: the wait deleted; a lock that serialises the upstream calls
        "blocking-sleep": STARTER_SLEEP.replace(
            "    time.sleep(0.3)  # simulated work\n", "    pass\n"
        ),
        "blocking-http": PARTIAL_HTTP,
    },
    "dave": {"blocking-sleep": NOT_IMPORTING, "blocking-http": NOT_IMPORTING},
}
# (score, failed checks) each submission must get, from the contract's checks
EXPECTED = {
    ("alice", "blocking-sleep"): (5, set()),
    ("alice", "blocking-http"): (5, set()),
    ("bob", "blocking-sleep"): (3, {"concurrent", "loop-free"}),
    ("bob", "blocking-http"): (2, {"concurrent", "upstream-concurrency", "loop-free"}),
    ("carol", "blocking-sleep"): (4, {"still-waits"}),
    ("carol", "blocking-http"): (3, {"concurrent", "upstream-concurrency"}),
    ("dave", "blocking-sleep"): (
        0,
        {"serves", "concurrent", "responses", "still-waits", "loop-free"},
    ),
    ("dave", "blocking-http"): (
        0,
        {"serves", "concurrent", "responses", "upstream-concurrency", "loop-free"},
    ),
}
# Kills nbgrader itself (the kernel's parent) in the middle of autograding.
HOSTILE_CELL = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": os.pathsep.join([VENV_BIN, os.environ.get("PATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def submit(course: Path, student: str, exercise: str, nb: nbformat.NotebookNode) -> Path:
    folder = course / "submitted" / student / exercise
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{exercise}.ipynb")
    return folder


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = tmp_path_factory.mktemp("class") / "course"
    course.mkdir()
    shutil.copy(COURSE / "nbgrader_config.py", course)
    for exercise in ("blocking-sleep", "blocking-http"):
        shutil.copytree(COURSE / "source" / exercise, course / "source" / exercise)
    nbgrader(course, "generate_assignment", "blocking-*")

    for student, work in CLASS.items():
        for exercise, code in work.items():
            nb = nbformat.read(course / "release" / exercise / f"{exercise}.ipynb", as_version=4)
            if code is not None:
                (cell,) = [c for c in nb.cells if c.source.startswith("%%writefile app.py")]
                cell.source = "%%writefile app.py\n" + code
            folder = submit(course, student, exercise, nb)
            if student == "alice":  # a stale app.py beside the notebook: the notebook wins
                (folder / "app.py").write_text(STARTER_SLEEP)
    hostile = nbformat.read(
        course / "release" / "blocking-http" / "blocking-http.ipynb", as_version=4
    )
    hostile.cells.insert(2, nbformat.v4.new_code_cell(HOSTILE_CELL))
    submit(course, "mallory", "blocking-http", hostile)  # graded before every blocking-sleep

    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "classroom",
            "autograde",
            "--course",
            str(course),
            "--feedback",
        ],
        capture_output=True,
        text=True,
        timeout=400,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    print(done.stdout, done.stderr, f"class graded in {time.monotonic() - started:.0f} s", sep="\n")
    with open(course / "grades.csv", newline="") as f:
        rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(f)}
    return course, done, rows


@pytest.mark.slow
def test_every_submission_gets_its_points_per_check(graded_class):
    course, done, rows = graded_class
    assert done.returncode == 1  # mallory's autograde could not finish
    assert "[9/9]" in done.stdout  # progress, and the batch went on after mallory
    for key, (score, failed) in EXPECTED.items():
        row = rows[key]
        assert row["status"] == "graded", row
        assert (float(row["score"]), float(row["max"])) == (score, 5), row
        assert set(filter(None, row["failed_checks"].split(";"))) == failed, row
        # nbgrader's gradebook agrees with the grader's own verdict for that run
        verdict = json.loads(
            (course / "autograded" / key[0] / key[1] / classroom.VERDICT_FILE).read_text()
        )
        assert verdict["score"] == score and verdict["exercise"] == key[1]


@pytest.mark.slow
def test_a_hostile_submission_costs_only_its_own_row(graded_class):
    _, done, rows = graded_class
    assert rows[("mallory", "blocking-http")]["status"].startswith("autograde failed"), rows
    assert "mallory / blocking-http ... ERROR" in done.stdout


@pytest.mark.slow
def test_each_notebook_run_graded_once_under_autograde(graded_class):
    course, _, _ = graded_class
    for student, exercise in EXPECTED:
        log = course / "autograded" / student / exercise / classroom.RUNS_LOG
        runs = [json.loads(line) for line in log.read_text().splitlines()]
        assert [r["nbgrader_execution"] for r in runs] == ["autograde"], (student, exercise, runs)


@pytest.mark.slow
def test_feedback_shows_the_failed_checks_the_diagnosis_and_the_timeline(graded_class):
    course, _, _ = graded_class
    for student, exercise in [("bob", "blocking-sleep"), ("carol", "blocking-http")]:
        page = html.unescape(
            (course / "feedback" / student / exercise / f"{exercise}.html").read_text()
        )
        verdict = json.loads(
            (course / "autograded" / student / exercise / classroom.VERDICT_FILE).read_text()
        )
        for c in verdict["checks"]:
            if not c["passed"]:
                assert c["message"] in page, c
        assert "data:image/png;base64," in page
    bob = html.unescape(
        (course / "feedback" / "bob" / "blocking-sleep" / "blocking-sleep.html").read_text()
    )
    assert "diagnosis: app.py:12 in report: time.sleep(0.3)" in bob
