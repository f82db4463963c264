"""The source notebook of each exercise, built from its starter and README."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

CHECK_PREFIX = "check-"


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
