"""The source notebook of each exercise, built from its starter and README."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CHECK_PREFIX = "check-"
# The app cell's nbgrader grade_id: the class grader takes the service from this cell of the
# submitted notebook file. It is neither a solution nor a grade nor a locked cell, so
# generate_assignment leaves the starter in it and the student edits it freely.
APP_ID = "app"


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
        # Not an nbgrader solution cell: generate_assignment replaces a solution cell
        # without BEGIN/END SOLUTION markers by a stub that raises, and the student must
        # start from the broken service. Its grade_id is how the class grader finds it.
        v4.new_code_cell(f"%%writefile app.py\n{starter}\n", metadata=meta(APP_ID, locked=False)),
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
            "## Grading\n\nOne cell per check, one point each. Your grade does not come "
            "from running this notebook: the class grader takes the service from the cell "
            "that writes `app.py` (keep that cell, and the service in it), serves it in its "
            "confined grader, and writes each check's verdict into these cells. Nothing "
            "else in the notebook runs or counts.",
            metadata=meta("grading-intro"),
        ),
    ]
    for name in checks:
        # Run in a kernel (a plain `nbgrader autograde` without the course's config), the
        # cell fails: a point never comes from the student's kernel.
        body = [
            "# Graded outside this notebook: the class grader served your app cell and wrote",
            "# this check's verdict below. Run in a kernel, this cell only fails.",
            "from autograder import classroom",
            "",
            f'classroom.graded_outside("{name}")',
        ]
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
