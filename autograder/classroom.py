"""nbgrader classroom: the notebook side of grading and the instructor's batch.

Inside a student notebook (``exercises/source/<id>/<id>.ipynb``):

- ``check_my_work(id)``: the student's "check my work" cell: grades ``app.py`` and shows
  the verdict and the request timeline. While nbgrader runs the notebook
  (``NBGRADER_EXECUTION`` is set) it does nothing: the hidden test cells grade instead,
  so a notebook run grades once.
- ``grade_to_cache(id)``: the first hidden test cell: grades ``app.py`` once, caches the
  JSON verdict in a file, prints it and displays the timeline (so both land in the
  feedback HTML).
- ``check(name)``: every hidden test cell: reads the cached verdict and fails (zero
  points for that cell) when that check failed, with the check's message.

What bites inside nbgrader, and what this module does about it:

- A test cell with anything on stderr scores 0: the grader runs in a subprocess whose
  stderr (its progress log) is captured and printed on stdout; warnings raised while a
  cell grades are recorded and printed on stdout too.
- Killing a kernel does not kill its children: the grader starts in a new session and
  its whole tree is stopped in ``finally`` (SIGINT first, so it stops its own servers,
  then SIGKILL for whatever is left), including on a timeout or an interrupt.
- Per-cell timeout: the grader gets ``GRADE_TIMEOUT``; ``exercises/nbgrader_config.py``
  raises nbgrader's cell timeout above it.

For the instructor: ``python -m autograder classroom autograde --course exercises``
runs ``nbgrader autograde`` one submission at a time and writes a gradebook CSV read
from nbgrader's gradebook; ``classroom build`` regenerates the source notebooks from
``exercises/<id>/starter.py`` and ``README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder import environment
from autograder.verdict import Verdict

VERDICT_FILE = ".autograder-verdict.json"
RUNS_LOG = ".autograder-runs.jsonl"
# The contract: a broken submission gets its verdict within 60 s. Python start-up and the
# grader's own clean-up need a margin on a busy 2-core machine.
GRADE_TIMEOUT = 90.0
# Grace for the grader to stop its own servers after SIGINT, before SIGKILL.
STOP_GRACE = 5.0
# Every process a classroom run starts inherits this variable, so stray ones can be found.
TOKEN_VAR = "AUTOGRADER_CLASSROOM_RUN"
CHECK_PREFIX = "check-"
LOCK_FILE = Path(tempfile.gettempdir()) / "autograder-classroom.lock"
SUBMISSION_TIMEOUT = 600.0


# --------------------------------------------------------------------------- processes


@dataclass
class Completed:
    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False


def _stop_tree(proc: subprocess.Popen[Any], token: str) -> None:
    """Stop ``proc`` (a session leader), its group, its descendants and token carriers."""
    import psutil

    from autograder.runner import kill_carrying, kill_tree

    victims: list[psutil.Process] = []
    if proc.poll() is None:
        # Listed before anything dies: an orphan is no longer anyone's descendant.
        with contextlib.suppress(psutil.Error):
            victims = psutil.Process(proc.pid).children(recursive=True)
        # SIGINT lets the grader (or nbgrader) run its own clean-up: the grader's app and
        # dependency servers live in sessions of their own, out of reach of killpg.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_GRACE)
    kill_tree(proc.pid)
    for p in victims:
        with contextlib.suppress(psutil.Error):
            p.kill()
    kill_carrying(token, var=TOKEN_VAR)  # escaped the group, e.g. a kernel
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(STOP_GRACE)


def run_isolated(
    cmd: Sequence[str],
    *,
    timeout: float,
    cwd: str | Path | None = None,
    stdout: Any = subprocess.PIPE,
    stderr: Any = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> Completed:
    """Run ``cmd`` in a new session; whatever happens, leave none of its processes behind."""
    token = uuid.uuid4().hex
    env = {**(os.environ if env is None else env), TOKEN_VAR: token}
    proc = subprocess.Popen(
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=env,
        start_new_session=True,
        text=True,
    )
    timed_out = False
    out = err = ""
    try:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
    finally:
        _stop_tree(proc, token)
        if timed_out:
            with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
                out, err = proc.communicate(timeout=STOP_GRACE)
    return Completed(proc.returncode, out or "", err or "", timed_out)


# --------------------------------------------------------------------------- notebook side


def _grader_command(exercise: str, app: Path) -> list[str]:
    # -v: the grader's progress log (on its stderr) tells the student what it did.
    return [sys.executable, "-m", "autograder", "-v", "grade", exercise, str(app), "--json"]


@contextlib.contextmanager
def _warnings_on_stdout() -> Iterator[None]:
    """A warning printed on a test cell's stderr would zero it: show it on stdout."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                print(f"warning: {w.category.__name__}: {w.message}")


def timeline_png(verdict: dict[str, Any]) -> bytes | None:
    """The verdict's request timeline as PNG bytes (None when nothing was sent)."""
    from autograder import plots

    bars = verdict.get("metrics", {}).get("timeline") or []
    if not bars:
        return None
    # Unanswered requests are drawn up to when the grader stopped waiting for them.
    waited = verdict.get("metrics", {}).get("waited_ms")
    ax = plots.timeline(
        bars,
        title=f"{verdict.get('exercise')}: your app's requests (grey: never answered)",
        cut_off_ms=waited if isinstance(waited, int | float) else None,
    )
    figure = ax.get_figure()
    assert figure is not None
    return plots.png(figure, dpi=90)


def _show_timeline(verdict: dict[str, Any]) -> None:
    png = timeline_png(verdict)
    if png is None:
        print("(no request timeline: the app never served)")
        return
    try:
        from IPython.display import Image, display
    except ImportError:  # a script: the text verdict is enough
        return
    display(Image(data=png, format="png"))


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _grade(
    exercise: str, app: Path, timeout: float, command: Sequence[str] | None
) -> dict[str, Any]:
    started = time.monotonic()
    done = run_isolated(command or _grader_command(exercise, app), timeout=timeout)
    if done.stderr.strip():
        print("grader log:")
        for line in done.stderr.strip().splitlines()[-40:]:
            print(f"  {line}")
    if done.timed_out:
        raise RuntimeError(f"the grader gave no verdict within {timeout:.0f} s and was stopped")
    try:
        verdict = json.loads(done.stdout)
    except ValueError:
        tail = done.stdout.strip()[-2000:]
        raise RuntimeError(
            f"the grader gave no verdict (exit status {done.returncode}); it printed:\n{tail}"
        ) from None
    verdict["graded_s"] = round(time.monotonic() - started, 2)
    return verdict


def _record_run(exercise: str, verdict: dict[str, Any] | None, app: Path, log: Path) -> None:
    """One line per grading run, beside the notebook: how often a notebook run graded."""
    entry = {
        "exercise": exercise,
        "nbgrader_execution": os.environ.get("NBGRADER_EXECUTION"),
        "app_sha256": _sha256(app),
        "score": None if verdict is None else verdict.get("score"),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with open(log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def grade_to_cache(
    exercise: str,
    app: str | Path = "app.py",
    *,
    cache: str | Path = VERDICT_FILE,
    timeout: float = GRADE_TIMEOUT,
    command: Sequence[str] | None = None,
) -> None:
    """Grade ``app`` once, cache the JSON verdict in ``cache``, print it and show the timeline.

    Returns None on purpose: a test cell's ``execute_result`` would be read by nbgrader
    as partial credit.
    """
    app, cache = Path(app), Path(cache)
    cache.unlink(missing_ok=True)  # never let a stale (or planted) verdict stand
    with _warnings_on_stdout():
        verdict = None
        try:
            verdict = _grade(exercise, app, timeout, command)
        finally:
            _record_run(exercise, verdict, app, cache.parent / RUNS_LOG)
        verdict["app_sha256"] = _sha256(app)
        cache.write_text(json.dumps(verdict, indent=1))
        print(Verdict.from_dict(verdict).render())
        print(
            f"score: {verdict['score']}/{verdict['max_score']} (graded in {verdict['graded_s']:.1f} s)"
        )
        _show_timeline(verdict)


class CheckFailed(AssertionError):
    """A grader check failed: the test cell gets no points; the message says why."""


def check(name: str, *, cache: str | Path = VERDICT_FILE) -> None:
    """Pass when the cached verdict's check ``name`` passed; else raise with its message."""
    try:
        verdict = json.loads(Path(cache).read_text())
    except (OSError, ValueError):
        raise CheckFailed(f"{name}: no verdict: the grading cell above did not finish") from None
    found = [c for c in verdict.get("checks", []) if c.get("name") == name]
    if not found:
        raise CheckFailed(f"{name}: the grader reported no such check")
    c = found[0]
    print(f"{'✓' if c['passed'] else '✗'} {name}: {c['message']}")
    if not c["passed"]:
        if verdict.get("diagnosis"):
            print(f"diagnosis: {verdict['diagnosis']}")
        raise CheckFailed(f"{name}: {c['message']}")


def check_my_work(
    exercise: str,
    app: str | Path = "app.py",
    *,
    timeout: float = GRADE_TIMEOUT,
    command: Sequence[str] | None = None,
) -> None:
    """The student's "check my work" cell: the same grading, shown as text and a timeline."""
    if os.environ.get("NBGRADER_EXECUTION"):
        # nbgrader is running the notebook (autograde or validate): the hidden test cells
        # grade it once; grading here too would double the time and the load.
        print(f"nbgrader {os.environ['NBGRADER_EXECUTION']}: the test cells below grade app.py")
        return
    if not Path(app).exists():
        print(f"There is no {app} yet: run the cell with your service first.")
        return
    grade_to_cache(exercise, app, timeout=timeout, command=command)


# --------------------------------------------------------------------------- source notebooks


def _readme_text(readme: str) -> str:
    """The exercise README, told for the notebook: the service is in the cell below."""
    lines = [line for line in readme.splitlines() if not line.startswith("Check your work")]
    text = "\n".join(lines).strip()
    text = re.sub(r"^# (\S+): ", r"# \1: ", text)
    return text.replace("`starter.py` serves", "The service below serves")


def build_notebook(exercise_id: str, root: Path) -> Any:
    """The source notebook of one exercise, from its starter and README (nbformat 4.5)."""
    import nbformat.v4 as v4

    from autograder.judges import EXERCISES

    ex = EXERCISES[exercise_id]
    starter = (root / "exercises" / exercise_id / "starter.py").read_text().rstrip("\n")
    readme = (root / "exercises" / exercise_id / "README.md").read_text()
    checks = ("serves", *ex.checks)

    def meta(
        grade_id: str,
        *,
        solution: bool = False,
        grade: bool = False,
        locked: bool = True,
        points: int | None = None,
    ) -> dict[str, Any]:
        m: dict[str, Any] = {
            "grade_id": grade_id,
            "solution": solution,
            "grade": grade,
            "locked": locked,
            "schema_version": 3,
        }
        if points is not None:
            m["points"] = points
        return {"nbgrader": m}

    cells = [
        v4.new_markdown_cell(
            _readme_text(readme)
            + "\n\n**Your task.** Fix the service in the next cell, run that cell (it writes "
            "`app.py`), then run **Check my work**. The grader serves `app.py` with uvicorn, "
            "starts the dependency servers and sends real concurrent requests; each of its "
            f"{len(checks)} checks is worth one point.",
            metadata=meta("task"),
        ),
        # An ordinary cell, not an nbgrader solution cell: generate_assignment replaces a
        # solution cell without BEGIN/END SOLUTION markers by a stub that raises, and the
        # student must start from the broken service, not from a stub.
        v4.new_code_cell(f"%%writefile app.py\n{starter}\n"),
        v4.new_markdown_cell(
            "## Check my work\n\nRuns the same grader that scores your submission (a few "
            "seconds): each check's verdict, the line that blocked the event loop if one did, "
            "and a timeline of the requests (one bar per request, from sent to answered).",
            metadata=meta("check-my-work-intro"),
        ),
        v4.new_code_cell(
            f'from autograder import classroom\n\nclassroom.check_my_work("{exercise_id}")',
            metadata=meta("check-my-work"),
        ),
        v4.new_markdown_cell(
            "## Grading\n\nThe cells below are the autograder's tests, one per check, one point "
            "each. Their code is hidden until you get your feedback; leave them as they are.",
            metadata=meta("grading-intro"),
        ),
    ]
    for i, name in enumerate(checks):
        body = ["from autograder import classroom", ""]
        if i == 0:  # the first test cell grades once for all of them
            body.append(f'classroom.grade_to_cache("{exercise_id}")')
        body.append(f'classroom.check("{name}")')
        source = "\n".join(
            [f"# check: {name} (1 point)", "### BEGIN HIDDEN TESTS", *body, "### END HIDDEN TESTS"]
        )
        cells.append(
            v4.new_code_cell(source, metadata=meta(f"{CHECK_PREFIX}{name}", grade=True, points=1))
        )

    nb = v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {
            "name": "python3",
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        },
        "language_info": {"name": "python"},
    }
    for n, cell in enumerate(nb.cells):
        cell.id = f"{exercise_id}-{n:02d}"  # stable ids: regenerating changes nothing
    return nb


def build_sources(root: Path, course: Path) -> list[Path]:
    """Write ``course/source/<id>/<id>.ipynb`` for every exercise."""
    import nbformat

    from autograder.judges import EXERCISES

    written = []
    for exercise_id in EXERCISES:
        path = course / "source" / exercise_id / f"{exercise_id}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(build_notebook(exercise_id, root), path)
        written.append(path)
    return written


# --------------------------------------------------------------------------- instructor batch


@dataclass
class Row:
    student: str
    exercise: str
    score: float | None
    max_score: float | None
    failed: list[str]
    status: str

    def csv_row(self) -> list[str]:
        def num(x: float | None) -> str:
            return "" if x is None else f"{x:g}"

        return [
            self.student,
            self.exercise,
            num(self.score),
            num(self.max_score),
            ";".join(self.failed),
            self.status,
        ]


CSV_HEADER = ["student", "exercise", "score", "max", "failed_checks", "status"]


@contextlib.contextmanager
def machine_lock(path: Path = LOCK_FILE) -> Iterator[None]:
    """One classroom grading run per machine: timing checks must not share the CPUs."""
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another grading run on this machine ({path}) ...", flush=True)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _nbgrader(*args: str) -> list[str]:
    return [sys.executable, "-m", "nbgrader", *args]


def _nbgrader_env() -> dict[str, str]:
    # nbgrader runs `alembic` (creating gradebook.db) from PATH: put this environment's
    # scripts first, so it works from a venv that was never activated.
    scripts = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}


def submissions(
    course: Path, assignments: Sequence[str] | None, students: Sequence[str] | None
) -> list[tuple[str, str]]:
    """(assignment, student) pairs under ``submitted/``, in a stable order."""
    found = []
    for d in sorted((course / "submitted").glob("*/*")):
        if not d.is_dir():
            continue
        student, assignment = d.parent.name, d.name
        if assignments and assignment not in assignments:
            continue
        if students and student not in students:
            continue
        found.append((assignment, student))
    return sorted(found)


def _quiet_gradebook(course: Path) -> Any:
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{course / 'gradebook.db'}")


def read_row(course: Path, assignment: str, student: str, status: str = "graded") -> Row:
    """One submission's score from nbgrader's gradebook (the source of truth)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SAWarning and friends: harmless, and noisy
        from nbgrader.api import MissingEntry

        with _quiet_gradebook(course) as gb:
            try:
                sub = gb.find_submission(assignment, student)
            except MissingEntry:
                return Row(
                    student,
                    assignment,
                    None,
                    None,
                    [],
                    status if status != "graded" else "not autograded",
                )
            failed = []
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.score is None or g.score < g.max_score:
                        failed.append(g.name.removeprefix(CHECK_PREFIX))
            return Row(
                student, assignment, float(sub.score), float(sub.max_score), sorted(failed), status
            )


def _tail(path: Path) -> str:
    """The log's last error line (or its last line), short enough for a CSV cell."""
    with contextlib.suppress(OSError):
        lines = [x.strip() for x in path.read_text(errors="replace").splitlines() if x.strip()]
        errors = [x for x in lines if "ERROR" in x or "Error" in x]
        last = (errors or lines or [""])[-1]
        return last if len(last) <= 200 else last[:197] + "..."
    return ""


def autograde_class(
    course: Path,
    *,
    assignments: Sequence[str] | None = None,
    students: Sequence[str] | None = None,
    force: bool = False,
    timeout: float = SUBMISSION_TIMEOUT,
    csv_path: Path | None = None,
    feedback: bool = False,
) -> list[Row]:
    """``nbgrader autograde`` every submission, one at a time; write the gradebook CSV."""
    course = course.resolve()
    todo = submissions(course, assignments, students)
    logs = course / "logs" / "autograde"
    rows: list[Row] = []
    print(f"{len(todo)} submission(s) to autograde in {course}", flush=True)
    with machine_lock():
        for i, (assignment, student) in enumerate(todo, 1):
            print(f"[{i}/{len(todo)}] {student} / {assignment} ... ", end="", flush=True)
            log_path = logs / assignment / f"{student}.log"
            log_path.parent.mkdir(parents=True, exist_ok=True)
            started = time.monotonic()
            args = ["autograde", assignment, "--student", student]
            if force:
                args.append("--force")
            with open(log_path, "w") as log:
                # The submission's code runs in there: a hang, a crash or a kill of its
                # parent must cost this one row, never the batch.
                try:
                    done = run_isolated(
                        _nbgrader(*args),
                        timeout=timeout,
                        cwd=course,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=_nbgrader_env(),
                    )
                    problem = None
                    if done.timed_out:
                        problem = f"autograde stopped after {timeout:.0f} s"
                    elif done.returncode != 0:
                        problem = f"autograde failed (exit {done.returncode}): {_tail(log_path)}"
                except OSError as exc:
                    problem = f"autograde could not start: {exc}"
            row = read_row(course, assignment, student, problem or "graded")
            if problem and row.status == "not autograded":
                row.status = problem
            rows.append(row)
            took = time.monotonic() - started
            if problem:
                print(
                    f"ERROR {problem} ({took:.1f} s, log: {log_path.relative_to(course)})",
                    flush=True,
                )
            else:
                failed = f", failed: {', '.join(row.failed)}" if row.failed else ""
                print(f"{row.csv_row()[2]}/{row.csv_row()[3]}{failed} ({took:.1f} s)", flush=True)
        if feedback:
            for assignment in sorted({a for a, _ in todo}):
                print(f"feedback: {assignment} ... ", end="", flush=True)
                with open(logs / assignment / "generate_feedback.log", "w") as log:
                    done = run_isolated(
                        _nbgrader("generate_feedback", assignment, "--force"),
                        timeout=timeout,
                        cwd=course,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env=_nbgrader_env(),
                    )
                print(
                    "done" if done.returncode == 0 else f"failed (exit {done.returncode})",
                    flush=True,
                )
    out = csv_path or course / "grades.csv"
    write_csv(out, rows)
    print(f"gradebook: {out}")
    return rows


def write_csv(path: Path, rows: Sequence[Row]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_HEADER)
        for r in rows:
            w.writerow(r.csv_row())


# --------------------------------------------------------------------------- command line


def add_subcommand(sub: Any) -> None:
    """Register ``classroom`` on the main CLI's subparsers."""
    p = sub.add_parser(
        "classroom",
        help="grade a class with nbgrader",
        description="Run an nbgrader class: autograde every submission one at a time, "
        "export the gradebook, rebuild the source notebooks.",
    )
    cmds = p.add_subparsers(dest="classroom_command", required=True, metavar="ACTION")
    a = cmds.add_parser(
        "autograde",
        help="autograde every submission, one at a time, and write grades.csv",
        description="Run `nbgrader autograde` for each submitted/<student>/<assignment>/ in "
        "turn (never two timing runs at once), then write a CSV from nbgrader's gradebook.",
    )
    a.add_argument(
        "--course",
        type=Path,
        default=Path("exercises"),
        help="the nbgrader course directory (default: exercises)",
    )
    a.add_argument("--assignment", action="append", help="only this assignment (repeatable)")
    a.add_argument("--student", action="append", help="only this student (repeatable)")
    a.add_argument("--force", action="store_true", help="regrade submissions already autograded")
    a.add_argument(
        "--timeout",
        type=float,
        default=SUBMISSION_TIMEOUT,
        help="seconds allowed per submission (default: %(default)s)",
    )
    a.add_argument(
        "--csv", type=Path, help="where to write the gradebook CSV (default: COURSE/grades.csv)"
    )
    a.add_argument(
        "--feedback",
        action="store_true",
        help="then run `nbgrader generate_feedback` for each assignment",
    )
    a.add_argument(
        "--allow-unconfined",
        action="store_true",
        help="grade even where the machine gives no sandbox (each submission could then "
        "read your files and reach the network)",
    )
    e = cmds.add_parser("export", help="write the gradebook CSV without grading")
    e.add_argument("--course", type=Path, default=Path("exercises"))
    e.add_argument("--assignment", action="append")
    e.add_argument("--csv", type=Path)
    b = cmds.add_parser(
        "build", help="regenerate COURSE/source/ from exercises/<id>/starter.py and README.md"
    )
    b.add_argument("--course", type=Path, default=Path("exercises"))


def run(args: argparse.Namespace) -> int:
    course: Path = args.course
    if args.classroom_command == "build":
        root = Path(__file__).resolve().parent.parent
        for path in build_sources(root, course):
            print(path)
        return 0
    if not (course / "nbgrader_config.py").exists():
        print(f"error: {course} is not an nbgrader course (no nbgrader_config.py)", file=sys.stderr)
        return 2
    if args.classroom_command == "export":
        rows = [
            read_row(course.resolve(), a, s) for a, s in submissions(course, args.assignment, None)
        ]
        out = args.csv or course / "grades.csv"
        write_csv(out, rows)
        print(f"gradebook: {out} ({len(rows)} rows)")
        return 0
    if not args.allow_unconfined and environment.confinement().bwrap is None:
        note = environment.confinement().note()
        print(f"error: not grading a class unsandboxed: {note}.", file=sys.stderr)
        print("Pass --allow-unconfined to grade anyway.", file=sys.stderr)
        return 1
    rows = autograde_class(
        course,
        assignments=args.assignment,
        students=args.student,
        force=args.force,
        timeout=args.timeout,
        csv_path=args.csv,
        feedback=args.feedback,
    )
    return 0 if all(r.status == "graded" for r in rows) else 1
