"""The class's scores, read from nbgrader's gradebook, and the CSV written from them."""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.classroom.notebook import CHECK_PREFIX


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


def db_url(course: Path) -> str:
    """The course's gradebook, as nbgrader's default configuration places it."""
    return f"sqlite:///{course.resolve() / 'gradebook.db'}"


def read_row(url: str, assignment: str, student: str, status: str = "graded") -> Row:
    """One submission's score from nbgrader's gradebook (the source of truth)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SAWarning and friends: harmless, and noisy
        from nbgrader.api import Gradebook, MissingEntry

        with Gradebook(url) as gb:
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


def write_csv(path: Path, rows: Sequence[Row]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_HEADER)
        for r in rows:
            w.writerow(r.csv_row())


def record_zero(url: str, assignment: str, student: str) -> None:
    """A submission nbgrader cannot read: every grade 0 (nbgrader's way for a missing notebook)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from nbgrader.api import Gradebook

        with Gradebook(url) as gb:
            gb.update_or_create_student(student)
            sub = gb.update_or_create_submission(assignment, student)
            for nb in sub.notebooks:
                for g in nb.grades:
                    g.auto_score = 0
                    g.needs_manual_grade = False
            gb.db.commit()
