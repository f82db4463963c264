"""The nbgrader classroom: source notebooks, reading a submission, feedback, "check my work",
and a class graded end to end, tampering tricks included.

nbgrader runs as a subprocess in the class tests (its warnings would be errors under
pytest's ``filterwarnings = error``), in a temporary copy of the course, never in the
repository.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import nbformat
import psutil
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import classroom
from autograder.classroom import feedback, grading, student, submission
from autograder.classroom.notebook import build_notebook
from autograder.judges import EXERCISES
from autograder.judges.checks import Check
from autograder.judges.verdict import Verdict
from tests.conftest import ROOT

COURSE = ROOT / "exercises"

# --------------------------------------------------------------------------- source notebooks


@pytest.mark.parametrize("exercise", list(EXERCISES))
def test_source_notebook_is_built_from_the_starter_and_readme(exercise):
    path = COURSE / "source" / exercise / f"{exercise}.ipynb"
    built = nbformat.writes(build_notebook(exercise, ROOT))
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
    app = submission.app_cell(nb)
    assert app.source == "%%writefile app.py\n" + starter
    assert submission.app_source(app) == starter
    # neither solution (it would become a stub that raises) nor locked (the student edits it)
    meta = app.metadata.nbgrader
    assert not (meta.solution or meta.grade or meta.locked)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata.nbgrader.grade_id for c in tests] == [
        f"check-{name}" for name in ("serves", *EXERCISES[exercise].checks)
    ]
    for cell in tests:
        assert cell.metadata.nbgrader.points == 1 and cell.metadata.nbgrader.locked
        assert "### BEGIN HIDDEN TESTS" in cell.source and "### END HIDDEN TESTS" in cell.source
        assert "classroom.graded_outside(" in cell.source
    assert any("classroom.check_my_work(" in c.source for c in nb.cells)


def test_the_course_config_autogrades_without_a_kernel():
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    steps = cfg.Autograde.autograde_preprocessors
    names = [getattr(s, "__name__", str(s)) for s in steps]
    assert "GradeOutside" in names and "Execute" not in names, names
    assert "SaveAutoGrades" in names  # nbgrader still scores the cells into its gradebook
    assert cfg.Exchange.root  # a writable exchange, not /srv/nbgrader/exchange


def test_a_test_cell_run_in_a_kernel_fails():
    # A plain nbgrader run with another config would execute the hidden cells: they fail.
    with pytest.raises(student.GradedOutside, match="graded outside the notebook's kernel"):
        classroom.graded_outside("concurrent")


# --------------------------------------------------------------------------- reading a submission


def release_nb(exercise: str = "blocking-sleep") -> nbformat.NotebookNode:
    return build_notebook(exercise, ROOT)


def test_the_app_cell_is_found_by_its_grade_id_wherever_it_moved():
    nb = release_nb()
    cell = submission.app_cell(nb)
    nb.cells.remove(cell)
    nb.cells.append(cell)
    cell.source = "%%writefile app.py\nfrom fastapi import FastAPI\napp = FastAPI()\n"
    # an ordinary cell that also writes app.py, later in the notebook, changes nothing
    nb.cells.append(nbformat.v4.new_code_cell("%%writefile app.py\nimport os\n"))
    assert submission.app_source(submission.app_cell(nb)) == (
        "from fastapi import FastAPI\napp = FastAPI()\n"
    )


@pytest.mark.parametrize(
    ("trick", "message"),
    [
        ("deleted", "no app cell"),
        ("renamed", "no app cell"),
        ("duplicated", "claim to be the app cell"),
        ("made markdown", "text cell"),
        ("emptied", "empty"),
    ],
)
def test_a_notebook_without_one_app_cell_has_no_service(trick, message):
    nb = release_nb()
    cell = submission.app_cell(nb)
    if trick == "deleted":
        nb.cells.remove(cell)
    elif trick == "renamed":
        cell.metadata.nbgrader.grade_id = "my-app"
    elif trick == "duplicated":
        nb.cells.append(nbformat.from_dict(json.loads(json.dumps(cell))))
    elif trick == "made markdown":
        nb.cells[nb.cells.index(cell)] = nbformat.v4.new_markdown_cell(
            cell.source, metadata=cell.metadata
        )
    elif trick == "emptied":
        cell.source = "%%writefile app.py\n\n"
    with pytest.raises(submission.NoService, match=message):
        submission.app_source(submission.app_cell(nb))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"cells": [', "not valid JSON"),
        ("[1, 2]", "not a valid notebook"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "not a valid notebook"),
    ],
)
def test_a_file_that_is_not_a_notebook_is_unreadable(tmp_path, text, message):
    path = tmp_path / "blocking-sleep.ipynb"
    path.write_text(text)
    with pytest.raises(submission.Unreadable, match=message):
        submission.read_notebook(path)


def test_a_notebook_without_an_app_cell_is_a_clear_zero_without_grading(tmp_path, monkeypatch):
    def no_grading(*args):
        raise AssertionError("nothing to serve: the grader must not start")

    monkeypatch.setattr(grading, "grade_source", no_grading)
    nb = release_nb()
    nb.cells.remove(submission.app_cell(nb))
    path = tmp_path / "blocking-sleep.ipynb"
    nbformat.write(nb, path)
    verdict, code, cell_id = grading.grade_file("blocking-sleep", path)
    assert (verdict.score, verdict.max_score, code, cell_id) == (0, 5, None, None)
    assert "no app cell" in verdict.checks[0].message


# --------------------------------------------------------------------------- feedback

VERDICT = Verdict(
    "blocking-sleep",
    (
        Check("serves", True, "the app imported, served and stayed up for the whole run"),
        Check("concurrent", False, "only 3 of 20 requests had been answered after 1.10 s " * 3),
        Check("responses", True, "all 3 answered requests were correct"),
        Check("still-waits", True, "the fastest response took 0.30 s"),
        Check("loop-free", False, "the event loop was blocked for up to 1386 ms"),
    ),
    "app.py:12 in report: time.sleep(0.3)",
    {
        "timeline": [
            {"start_ms": 0.0, "end_ms": 300.0, "status": 200},
            {"start_ms": 0.0, "end_ms": None, "status": None},
        ],
        "waited_ms": 1100.0,
    },
)


def test_feedback_scores_each_test_cell_as_the_verdict_says():
    from nbgrader.utils import determine_grade

    nb = release_nb()
    app = submission.app_cell(nb)
    code = submission.app_source(app)
    feedback.fill(nb, VERDICT, code, app.id)
    scores = {}
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                scores[cell.metadata.nbgrader.grade_id] = determine_grade(cell)[0]
    # nbgrader's own scoring of the written outputs gives the verdict's points, check by check
    assert scores == {f"check-{c.name}": float(c.passed) for c in VERDICT.checks}


def test_feedback_reads_well_and_shows_nothing_of_the_grader():
    nb = release_nb()
    app = submission.app_cell(nb)
    feedback.fill(nb, VERDICT, submission.app_source(app), app.id)
    texts = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "\n".join(texts)
    # the message in full, wrapped: no line runs out of the box
    words = " ".join(text.split())
    assert words.count("only 3 of 20 requests had been answered after 1.10 s") == 3
    assert max(len(line) for line in text.replace(feedback.RED, "").splitlines()) <= 90
    # the blocking line with its source, marked among its neighbours
    assert "line 12 of app.py" in words
    assert ">   12 |     time.sleep(0.3)  # simulated work" in text
    # the timeline's grey told in words, the picture itself on the app cell
    assert "Grey: no answer" in words and "1.1 s after its first request" in words
    assert any("image/png" in o.get("data", {}) for o in app.outputs)
    # no traceback, no score (nbgrader prints it once), nothing of the grader's code
    assert "Traceback" not in text and "score" not in text.lower()
    assert "autograder/" not in text and "CheckFailed" not in text


def test_blocking_line_without_source_says_what_the_grader_saw():
    assert "time.sleep(0.3)" in feedback.blocking_line("app.py:40 in f: time.sleep(0.3)", "x=1\n")
    spread = "the event loop stalled for up to 400 ms, but no single line held it"
    assert spread in feedback.blocking_line(spread, "x = 1\n").replace("\n", " ")


# --------------------------------------------------------------------------- check my work


def fake_grader(body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(body)]


def test_check_my_work_shows_the_verdict_and_the_grader_log(tmp_path, capfd):
    (tmp_path / "app.py").write_text("import time\n" * 11 + "time.sleep(0.3)\n")
    cmd = fake_grader(f"""
        import json, sys
        sys.stderr.write("grader progress: measuring\\n")
        print(json.dumps({VERDICT.to_dict()!r}))
    """)
    classroom.check_my_work("blocking-sleep", tmp_path / "app.py", command=cmd)
    out, err = capfd.readouterr()
    assert err == ""
    assert "grader progress: measuring" in out
    assert "✗ concurrent: only 3 of 20" in out
    assert ">   12 | time.sleep(0.3)" in out


def test_check_my_work_does_not_grade_under_nbgrader(tmp_path, monkeypatch):
    marker = tmp_path / "graded"
    (tmp_path / "app.py").write_text("")
    cmd = fake_grader(f"open({str(marker)!r}, 'w').close()")
    monkeypatch.setenv("NBGRADER_EXECUTION", "validate")
    classroom.check_my_work("blocking-sleep", tmp_path / "app.py", command=cmd)
    assert not marker.exists()
    monkeypatch.delenv("NBGRADER_EXECUTION")
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
    (tmp_path / "app.py").write_text("")
    cmd = fake_grader(HANGING_GRADER.format(pidfile=str(pidfile)))
    with pytest.raises(RuntimeError, match="no verdict within 2 s"):
        classroom.check_my_work("blocking-sleep", tmp_path / "app.py", timeout=2, command=cmd)
    assert _gone(int(pidfile.read_text()))


def test_an_interrupted_kernel_leaves_no_grader_behind(tmp_path):
    # Interrupting a kernel does not reach the grader and its children (sessions of their
    # own): only the cell's `finally` can stop them.
    pidfile = tmp_path / "pid"
    (tmp_path / "app.py").write_text("")
    kernel_code = textwrap.dedent(f"""
        import signal
        # As a Jupyter kernel does: take SIGINT even when started with it ignored (a
        # background job of a non-interactive shell, as CI may be).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from autograder import classroom
        cmd = {fake_grader(HANGING_GRADER.format(pidfile=str(pidfile)))!r}
        classroom.check_my_work("blocking-sleep", "app.py", command=cmd)
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
        kernel.communicate()  # closes its pipes too


# --------------------------------------------------------------------------- a graded class

STARTER_SLEEP = (COURSE / "blocking-sleep" / "starter.py").read_text()
SOLVED_SLEEP = (ROOT / "solutions" / "blocking-sleep" / "async_sleep.py").read_text()
SOLVED_HTTP = (ROOT / "solutions" / "blocking-http" / "async_client.py").read_text()
PARTIAL_HTTP = (
    SOLVED_HTTP.replace("@app.get", "one_at_a_time = asyncio.Lock()\n\n\n@app.get")
    .replace(
        "    response = await app.state.client.get",
        "    async with one_at_a_time:\n        response = await app.state.client.get",
    )
    .replace("import os\n", "import asyncio\nimport os\n")
)
NOT_IMPORTING = "from fastapi import FastAPI\n\napp = FastAPI(\n"
SECRET = "alice-secret-5f3a91"  # in alice's notebook: no one else's output may show it
MARKER = "classroom-escape-7c21"  # in the argv of a process a cell tries to leave running
STARTER = (3, {"concurrent", "loop-free"})  # what the untouched blocking-sleep starter earns

# Each trick: one extra cell in an untouched starter's notebook. {course} and {home} are
# the class's course folder and the grader's home folder.
TRICKS: dict[str, str] = {
    "monkeypatch autograder.classroom": """
        import autograder.classroom as c
        c.check = lambda name: None
        c.grade_to_cache = lambda exercise: None
        c.graded_outside = lambda name: None
    """,
    "replace the sys.modules entry": """
        import sys, types
        fake = types.ModuleType("autograder.classroom")
        fake.graded_outside = fake.check = fake.grade_to_cache = lambda *a: None
        sys.modules["autograder.classroom"] = fake
    """,
    "hook builtins.__import__": """
        import builtins, types
        real = builtins.__import__
        fake = types.SimpleNamespace(graded_outside=lambda *a: None, check=lambda *a: None)
        def hooked(name, *args, **kwargs):
            module = real(name, *args, **kwargs)
            return types.SimpleNamespace(classroom=fake) if name == "autograder" else module
        builtins.__import__ = hooked
    """,
    "silence IPython tracebacks": """
        ip = get_ipython()
        ip.showtraceback = lambda *a, **k: None
        ip._showtraceback = lambda *a, **k: None
    """,
    "rewrite the cached verdict file": """
        import json, threading, time
        perfect = {"exercise": "blocking-sleep", "passed": True, "score": 5, "max_score": 5,
                   "checks": [{"name": n, "passed": True, "message": "ok"} for n in
                              ("serves", "concurrent", "responses", "still-waits", "loop-free")]}
        def keep_writing():
            while True:
                open(".autograder-verdict.json", "w").write(json.dumps(perfect))
                time.sleep(0.01)
        threading.Thread(target=keep_writing, daemon=True).start()
    """,
    "kill the kernel's parent": """
        import os, signal
        os.kill(os.getppid(), signal.SIGKILL)
    """,
    "kill the kernel": """
        import os
        os._exit(0)
    """,
    "write into the grader's home": """
        from pathlib import Path
        Path.home().joinpath("{marker}-home").write_text("pwned")
        Path("{home}", "{marker}-abs").write_text("pwned")
        with open(Path.home() / ".bashrc", "a") as f:
            f.write("echo pwned\\n")
    """,
    "write into the course folder": """
        from pathlib import Path
        Path("{course}", "{marker}-course").write_text("pwned")
        import sqlite3
        sqlite3.connect("{course}/gradebook.db").execute("update grade set auto_score = 1")
    """,
    "read other submissions": """
        from pathlib import Path
        for p in Path("{course}", "submitted").rglob("*.ipynb"):
            print(p.read_text())
    """,
    "start a process that outlives grading": """
        import subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{marker}"],
                         start_new_session=True)
    """,
}


def untouched(course: Path, exercise: str = "blocking-sleep") -> nbformat.NotebookNode:
    return nbformat.read(course / "release" / exercise / f"{exercise}.ipynb", as_version=4)


def with_app(course: Path, exercise: str, code: str) -> nbformat.NotebookNode:
    nb = untouched(course, exercise)
    submission.app_cell(nb).source = "%%writefile app.py\n" + code
    return nb


def with_trick(course: Path, home: Path, trick: str) -> nbformat.NotebookNode:
    nb = untouched(course)
    body = textwrap.dedent(TRICKS[trick])
    for name, value in {"{course}": course, "{home}": home, "{marker}": MARKER}.items():
        body = body.replace(name, str(value))
    nb.cells.insert(2, nbformat.v4.new_code_cell(body))
    return nb


def forged_test_cells(course: Path) -> nbformat.NotebookNode:
    """Test cells edited to pass and to be worth more, and a copy posing as one."""
    nb = untouched(course)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "print('ok')"
            cell.metadata.nbgrader.points = 100
    copy = nbformat.v4.new_code_cell("print('ok')")
    copy.metadata = {
        "nbgrader": {
            "grade": True,
            "grade_id": "check-concurrent",
            "locked": True,
            "points": 100,
            "schema_version": 3,
            "solution": False,
        }
    }
    nb.cells.append(copy)
    return nb


def app_escapes_at_import(course: Path, home: Path) -> nbformat.NotebookNode:
    """The service itself (graded, so it runs: confined) tries to write outside."""
    escape = textwrap.dedent(f"""
        for _path in ({str(home / (MARKER + "-app"))!r}, {str(course / (MARKER + "-app"))!r}):
            try:
                open(_path, "w").write("pwned")
            except OSError:
                pass
    """)
    return with_app(course, "blocking-sleep", STARTER_SLEEP + escape)


def nbgrader(course: Path, *args: str) -> None:
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "PYTHONPATH": str(ROOT),
    }
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


def submit(course: Path, who: str, exercise: str, nb: nbformat.NotebookNode | str) -> Path:
    folder = course / "submitted" / who / exercise
    folder.mkdir(parents=True)
    path = folder / f"{exercise}.ipynb"
    if isinstance(nb, str):
        path.write_text(nb)
    else:
        nbformat.write(nb, path)
    return folder


def student_name(trick: str) -> str:
    return "trick-" + "-".join(trick.replace(".", " ").replace("'", "").split())


# (student, exercise) -> (score, failed checks)
EXPECTED: dict[tuple[str, str], tuple[int, set[str]]] = {
    ("alice", "blocking-sleep"): (5, set()),
    ("alice", "blocking-http"): (5, set()),
    ("bob", "blocking-sleep"): STARTER,
    ("bob", "blocking-http"): (2, {"concurrent", "upstream-concurrency", "loop-free"}),
    ("carol", "blocking-sleep"): (3, {"still-waits", "concurrent"}),  # the wait deleted
    ("carol", "blocking-http"): (3, {"concurrent", "upstream-concurrency"}),
    ("dave", "blocking-sleep"): (
        0,
        {"serves", "concurrent", "responses", "still-waits", "loop-free"},
    ),
    ("trick-forged-test-cells", "blocking-sleep"): STARTER,
    ("trick-app-escapes-at-import", "blocking-sleep"): STARTER,
    **{(student_name(t), "blocking-sleep"): STARTER for t in TRICKS},
}
ALL_FAILED = {"serves", "concurrent", "responses", "still-waits", "loop-free"}
NO_SERVICE = {"deleted-app-cell": "no app cell", "renamed-app-cell": "no app cell"}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = tmp_path_factory.mktemp("class") / "course"
    home = tmp_path_factory.mktemp("grader-home")
    course.mkdir()
    (course / "nbgrader_config.py").write_text((COURSE / "nbgrader_config.py").read_text())
    for exercise in ("blocking-sleep", "blocking-http"):
        (course / "source" / exercise).mkdir(parents=True)
        name = f"{exercise}.ipynb"
        (course / "source" / exercise / name).write_text(
            (COURSE / "source" / exercise / name).read_text()
        )
    nbgrader(course, "generate_assignment", "blocking-*")

    alice = with_app(course, "blocking-sleep", SOLVED_SLEEP + f"# {SECRET}\n")
    folder = submit(course, "alice", "blocking-sleep", alice)
    (folder / "app.py").write_text(STARTER_SLEEP)  # a stale app.py beside it: the notebook wins
    submit(course, "alice", "blocking-http", with_app(course, "blocking-http", SOLVED_HTTP))
    submit(course, "bob", "blocking-sleep", untouched(course))
    submit(course, "bob", "blocking-http", untouched(course, "blocking-http"))
    carol = STARTER_SLEEP.replace("    time.sleep(0.3)  # simulated work\n", "    pass\n")
    submit(course, "carol", "blocking-sleep", with_app(course, "blocking-sleep", carol))
    submit(course, "carol", "blocking-http", with_app(course, "blocking-http", PARTIAL_HTTP))
    submit(course, "dave", "blocking-sleep", with_app(course, "blocking-sleep", NOT_IMPORTING))
    for trick in TRICKS:
        submit(course, student_name(trick), "blocking-sleep", with_trick(course, home, trick))
    submit(course, "trick-forged-test-cells", "blocking-sleep", forged_test_cells(course))
    submit(
        course, "trick-app-escapes-at-import", "blocking-sleep", app_escapes_at_import(course, home)
    )
    # a planted "perfect" verdict file beside the notebook
    (
        course
        / "submitted"
        / student_name("rewrite the cached verdict file")
        / "blocking-sleep"
        / ".autograder-verdict.json"
    ).write_text('{"score": 5}')
    deleted = untouched(course)
    deleted.cells.remove(submission.app_cell(deleted))
    submit(course, "deleted-app-cell", "blocking-sleep", deleted)
    renamed = untouched(course)
    submission.app_cell(renamed).metadata.nbgrader.grade_id = "my-service"
    submit(course, "renamed-app-cell", "blocking-sleep", renamed)
    text = nbformat.writes(untouched(course))
    submit(course, "invalid-json", "blocking-sleep", text[: len(text) // 2])

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
        timeout=600,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home)},
    )
    print(done.stdout, done.stderr, f"class graded in {time.monotonic() - started:.0f} s", sep="\n")
    with open(course / "grades.csv", newline="") as f:
        import csv

        rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(f)}
    return course, home, done, rows


def failed_of(row: dict[str, str]) -> set[str]:
    return set(filter(None, row["failed_checks"].split(";")))


def verdict_of(course: Path, student_id: str, exercise: str) -> dict:
    return json.loads((course / "logs" / "verdicts" / exercise / f"{student_id}.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: f"{k[0]}/{k[1]}")
def test_every_submission_scores_what_its_service_deserves(graded_class, key):
    course, _, _, rows = graded_class
    score, failed = EXPECTED[key]
    row = rows[key]
    assert row["status"] == "graded", row
    assert (float(row["score"]), float(row["max"])) == (score, 5), row
    assert failed_of(row) == failed, row
    # nbgrader's gradebook holds exactly the verdict the grader gave the app cell
    verdict = verdict_of(course, *key)
    assert verdict["score"] == score and verdict["exercise"] == key[1]


@pytest.mark.slow
@pytest.mark.parametrize("who", list(NO_SERVICE))
def test_a_notebook_without_its_app_cell_is_a_clear_zero(graded_class, who):
    course, _, _, rows = graded_class
    row = rows[(who, "blocking-sleep")]
    assert (row["status"], float(row["score"]), failed_of(row)) == ("graded", 0, ALL_FAILED)
    page = (course / "feedback" / who / "blocking-sleep" / "blocking-sleep.html").read_text()
    assert NO_SERVICE[who] in page


@pytest.mark.slow
def test_a_notebook_that_is_not_json_is_a_zero_with_the_reason(graded_class):
    _, _, done, rows = graded_class
    row = rows[("invalid-json", "blocking-sleep")]
    assert row["status"].startswith("unreadable: blocking-sleep.ipynb is not valid JSON"), row
    assert float(row["score"]) == 0
    assert "invalid-json / blocking-sleep ... ERROR unreadable" in done.stdout
    assert done.returncode == 1  # one row could not be graded; the batch went on
    assert f"[{len(rows)}/{len(rows)}]" in done.stdout


@pytest.mark.slow
def test_no_cell_of_any_notebook_ran(graded_class):
    course, home, _, _ = graded_class
    # nothing written into the grader's home or the course folder, by a cell or the service
    assert not [p for p in home.rglob("*") if MARKER in p.name]
    assert not (home / ".bashrc").exists()
    assert not [p for p in course.rglob("*") if MARKER in p.name]
    # no process left running from a cell
    alive = []
    for p in psutil.process_iter():
        try:
            if MARKER in " ".join(p.cmdline()):
                alive.append(p)
        except psutil.Error:
            continue
    for p in alive:
        p.kill()
    assert not alive
    # nobody else's submission shows up in a reader's notebook or feedback
    reader = student_name("read other submissions")
    assert (
        SECRET
        not in (
            course / "autograded" / reader / "blocking-sleep" / "blocking-sleep.ipynb"
        ).read_text()
    )
    assert (
        SECRET
        not in (course / "feedback" / reader / "blocking-sleep" / "blocking-sleep.html").read_text()
    )


@pytest.mark.slow
def test_feedback_shows_the_verdict_the_blocking_line_and_the_timeline(graded_class):
    import html

    course, _, _, _ = graded_class
    for who, exercise in [("bob", "blocking-sleep"), ("carol", "blocking-http")]:
        page = html.unescape(
            (course / "feedback" / who / exercise / f"{exercise}.html").read_text()
        )
        words = " ".join(page.split())
        for c in verdict_of(course, who, exercise)["checks"]:
            assert " ".join(c["message"].split()) in words, c
        assert "data:image/png;base64," in page and "Grey: no answer" in words
        assert "Traceback (most recent" not in page and "CheckFailed" not in page
        assert 'File "' not in page and "site-packages" not in page
        score = f"{EXPECTED[(who, exercise)][0]:.1f} / 5.0"
        assert page.count(f"(Score: {score})") == 1  # the score once, nbgrader's header
    bob = html.unescape(
        (course / "feedback" / "bob" / "blocking-sleep" / "blocking-sleep.html").read_text()
    )
    assert ">   12 |     time.sleep(0.3)  # simulated work" in bob
