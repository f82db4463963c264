"""A class graded on several machines: each grades a share, one gradebook gets them all.

Each grading machine holds a copy of the course (``nbgrader_config.py``, ``source/``,
``gradebook.db`` after ``generate_assignment``, and ``submitted/``) and runs
``classroom autograde --shard K/N``: it grades every N-th submission, from the K-th, in
the order every machine sees (sorted by assignment, then student). ``classroom merge``
then brings each shard's scores into the course's gradebook through nbgrader's API,
with its ``autograded/``, ``feedback/`` and verdict files.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path

from autograder.classroom.gradebook import db_url


def share(todo: Sequence[tuple[str, str]], shard: str) -> list[tuple[str, str]]:
    """The submissions shard ``K/N`` grades (1 <= K <= N)."""
    k, n = parse(shard)
    return [item for i, item in enumerate(todo) if i % n == k - 1]


def parse(shard: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise ValueError(f"--shard takes K/N, e.g. 2/3 (got {shard!r})") from None
    if not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N (got {shard!r})")
    return k, n


def _copy_tree(src: Path, dest: Path) -> None:
    if src.is_dir():
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)


def merge(course: Path, shard: Path) -> list[tuple[str, str]]:
    """Bring every graded submission of ``shard`` into ``course``; return (assignment, student)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbgrader's SAWarning
        from nbgrader.api import Gradebook

        merged = []
        with Gradebook(db_url(shard)) as src, Gradebook(db_url(course)) as dest:
            for assignment in src.assignments:
                for sub in assignment.submissions:
                    student = sub.student.id
                    if all(g.auto_score is None for nb in sub.notebooks for g in nb.grades):
                        continue  # in the shard's gradebook, not graded there
                    dest.update_or_create_student(student)
                    target = dest.update_or_create_submission(
                        assignment.name, student, timestamp=sub.timestamp
                    )
                    for nb in sub.notebooks:
                        for grade in nb.grades:
                            mine = dest.find_grade(grade.name, nb.name, assignment.name, student)
                            mine.auto_score = grade.auto_score
                            mine.manual_score = grade.manual_score
                            mine.needs_manual_grade = grade.needs_manual_grade
                    dest.db.commit()
                    assert target is not None
                    merged.append((assignment.name, student))
    for assignment, student in merged:
        for folder in ("autograded", "feedback"):
            _copy_tree(
                shard / folder / student / assignment, course / folder / student / assignment
            )
        for kind in ("verdicts", "autograde"):
            for path in (shard / "logs" / kind / assignment).glob(f"{student}.*"):
                (course / "logs" / kind / assignment).mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, course / "logs" / kind / assignment / path.name)
    return sorted(merged)
