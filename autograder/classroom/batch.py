"""Grade a class: every submission through nbgrader's autograde (without a kernel), then feedback.

nbgrader runs in this process, through its Python API, with the course's configuration
and :func:`grading.autograde_preprocessors` enforced: whatever the course's config says,
no cell of a submitted notebook is executed, and the points nbgrader stores come from
the grader's verdict on the app cell. Gradings run one at a time (a machine-wide lock).
"""

from __future__ import annotations

import logging
import shutil
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autograder.classroom.gradebook import Row, read_row, record_zero, submissions, write_csv
from autograder.classroom.shards import share
from autograder.classroom.submission import Unreadable, read_notebook
from autograder.run import slots

VERDICTS = Path("logs") / "verdicts"
LOGS = Path("logs") / "autograde"


def open_api(course: Path) -> Any:
    """nbgrader's API on ``course``, autograding with the grader instead of a kernel."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.classroom.grading import autograde_preprocessors, sanitize_preprocessors

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    cfg.CourseDirectory.root = str(course)
    cfg.Autograde.sanitize_preprocessors = sanitize_preprocessors()
    cfg.Autograde.autograde_preprocessors = autograde_preprocessors()
    cfg.GradeOutside.verdict_dir = str(course / VERDICTS)
    cfg.GradeOutside.exclusive = False  # the class run holds the machine for all of them
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def _last_line(text: str) -> str:
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    last = lines[-1] if lines else ""
    return last if len(last) <= 200 else last[:197] + "..."


def _write_log(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result.get("log", "") + result.get("error", ""))


def grade_one(api: Any, course: Path, assignment: str, student: str, *, force: bool) -> str:
    """Autograde one submission; the row's status ("graded" or what went wrong)."""
    folder = course / "submitted" / student / assignment
    try:
        for path in sorted(folder.glob("*.ipynb")):
            read_notebook(path)
    except Unreadable as exc:
        # nbgrader cannot read it either: a clear zero, and no stale autograded copy.
        record_zero(api.coursedir.db_url, assignment, student)
        shutil.rmtree(course / "autograded" / student / assignment, ignore_errors=True)
        return f"unreadable: {exc}"
    result = api.autograde(assignment, student, force=force, create=True)
    _write_log(course / LOGS / assignment / f"{student}.log", result)
    if not result["success"]:
        return f"autograde failed: {_last_line(result.get('error', ''))}"
    return "graded"


def autograde_class(
    course: Path,
    *,
    assignments: Sequence[str] | None = None,
    students: Sequence[str] | None = None,
    force: bool = False,
    csv_path: Path | None = None,
    feedback: bool = False,
    shard: str | None = None,
) -> list[Row]:
    """Autograde every submission (or shard K/N's share), one at a time; feedback; CSV."""
    course = course.resolve()
    todo = submissions(course, assignments, students)
    if shard is not None:
        todo = share(todo, shard)
    print(f"{len(todo)} submission(s) to autograde in {course}", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's SAWarning and MissingIDFieldWarning
        # nbgrader's own log lines go to the per-submission log files, not the terminal.
        logging.getLogger("traitlets").propagate = False
        api = open_api(course)
        machine = slots.exclusive(f"class {course}", waiting=lambda why: print(why, flush=True))
        with machine:
            rows = _grade_all(api, course, todo, force=force, feedback=feedback)
    out = csv_path or course / "grades.csv"
    write_csv(out, rows)
    print(f"gradebook: {out}")
    return rows


def _grade_all(
    api: Any, course: Path, todo: list[tuple[str, str]], *, force: bool, feedback: bool
) -> list[Row]:
    rows: list[Row] = []
    for i, (assignment, student) in enumerate(todo, 1):
        print(f"[{i}/{len(todo)}] {student} / {assignment} ... ", end="", flush=True)
        started = time.monotonic()
        status = grade_one(api, course, assignment, student, force=force)
        row = read_row(api.coursedir.db_url, assignment, student, status)
        rows.append(row)
        took = time.monotonic() - started
        if status != "graded":
            print(f"ERROR {status} ({took:.1f} s)", flush=True)
        else:
            failed = f", failed: {', '.join(row.failed)}" if row.failed else ""
            print(f"{row.csv_row()[2]}/{row.csv_row()[3]}{failed} ({took:.1f} s)", flush=True)
    if feedback:
        for assignment in sorted({a for a, _ in todo}):
            print(f"feedback: {assignment} ... ", end="", flush=True)
            result = api.generate_feedback(assignment, force=True)
            _write_log(course / LOGS / assignment / "generate_feedback.log", result)
            print("done" if result["success"] else "failed (see its log)", flush=True)
    return rows
