"""Grade a class: every submission, one at a time, then the feedback."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from autograder.classroom.gradebook import Row, read_row, submissions, write_csv
from autograder.classroom.processes import run_isolated

LOCK_FILE = Path(tempfile.gettempdir()) / "autograder-classroom.lock"
SUBMISSION_TIMEOUT = 600.0


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
