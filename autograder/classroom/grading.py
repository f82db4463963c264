"""Grading a submitted notebook without running it: nbgrader's autograde, minus the kernel.

nbgrader's autograde executes every cell in a kernel with the grader's rights, and its
test cells read whatever that kernel left. Here :class:`GradeOutside` takes the place of
nbgrader's ``Execute`` step: it reads the service from the app cell of the (sanitized)
submitted file, grades it with the engine the CLI uses (:func:`autograder.grade.grade`:
the service runs confined, measured from outside, one grading per machine), and writes
the verdict into the test cells' outputs. nbgrader's own ``SaveAutoGrades`` then scores
those cells into the gradebook as usual, so formgrader, ``generate_feedback`` and the
CSV all read the one verdict. No cell of the notebook is executed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Unicode

from autograder.classroom import feedback
from autograder.classroom.submission import (
    NoService,
    Unreadable,
    app_cell,
    app_source,
    read_notebook,
)
from autograder.judges.checks import Check
from autograder.judges.verdict import Verdict

log = logging.getLogger(__name__)


def grade_source(exercise: str, code: str, *, exclusive: bool = True) -> Verdict:
    """Grade the service ``code`` as the CLI grades a file (confined, measured from outside).

    ``exclusive``: first wait to be the machine's only grader (a class run that holds
    :func:`autograder.run.slots.exclusive` for all its gradings passes False)."""
    from autograder.grade import grade
    from autograder.run import slots

    with tempfile.TemporaryDirectory(prefix="autograder-class-") as folder:
        app = Path(folder) / "app.py"
        app.write_text(code, encoding="utf-8")
        with slots.exclusive(str(app)) if exclusive else contextlib.nullcontext():
            return grade(exercise, app)


def no_service(exercise: str, message: str) -> Verdict:
    """The clear zero of a notebook with nothing to serve."""
    from autograder.judges import EXERCISES

    rest = [
        Check(n, False, "not measured: there was no service to grade")
        for n in EXERCISES[exercise].checks
    ]
    return Verdict(exercise, (Check("serves", False, message), *rest))


def grade_file(
    exercise: str, path: Path, *, exclusive: bool = True
) -> tuple[Verdict, str | None, str | None]:
    """The verdict on a notebook file's app cell, the code graded and the cell's id (or None)."""
    try:
        cell = app_cell(read_notebook(path))
        code = app_source(cell)
    except (NoService, Unreadable) as exc:
        return no_service(exercise, str(exc)), None, None
    return grade_source(exercise, code, exclusive=exclusive), code, cell.get("id")


class GradeOutside(NbGraderPreprocessor):
    """Autograde's grading step: the verdict of the app cell, written into the test cells."""

    exclusive = Bool(True, help="Wait to be the machine's only grader before each grading").tag(
        config=True
    )
    verdict_dir = Unicode(
        "", help="Also write each verdict as JSON to VERDICT_DIR/<assignment>/<student>.json"
    ).tag(config=True)

    def _submitted_file(self, resources: dict[str, Any]) -> Path:
        """The file the student submitted (nbgrader's sanitized copy has lost the app cell's
        grade_id: it is not a cell of the gradebook)."""
        converter = getattr(self.parent, "parent", None)  # the exporter's parent: autograde
        coursedir = getattr(converter, "coursedir", None)
        if coursedir is None:
            raise RuntimeError("GradeOutside runs as a step of nbgrader's autograde")
        nbg = resources["nbgrader"]
        folder = coursedir.format_path(
            coursedir.submitted_directory, nbg["student"], nbg["assignment"]
        )
        return Path(folder) / f"{nbg['notebook']}.ipynb"

    def preprocess(self, nb: Any, resources: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        from autograder.judges import EXERCISES

        exercise = resources["nbgrader"]["assignment"]
        student = resources["nbgrader"]["student"]
        if exercise not in EXERCISES:
            raise ValueError(
                f"assignment {exercise!r} is not an exercise of this course "
                f"(one of {', '.join(EXERCISES)})"
            )
        submitted = self._submitted_file(resources)
        self.log.info("grading the app cell of %s outside the notebook", submitted)
        verdict, code, cell_id = grade_file(exercise, submitted, exclusive=self.exclusive)
        self.log.info("%s / %s: %d/%d", student, exercise, verdict.score, verdict.max_score)
        feedback.fill(nb, verdict, code, cell_id)
        if self.verdict_dir:
            out = Path(self.verdict_dir) / exercise / f"{student}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(verdict.to_dict(), indent=1))
        return nb, resources


class DropEmptyMetadata(NbGraderPreprocessor):
    """nbgrader's DeduplicateIds empties the metadata of a duplicated test cell, and its
    metadata check then rejects the whole notebook: a copied cell must not sink a grading."""

    def preprocess_cell(
        self, cell: Any, resources: dict[str, Any], index: int
    ) -> tuple[Any, dict[str, Any]]:
        if cell.metadata.get("nbgrader") == {}:
            del cell.metadata["nbgrader"]
        return cell, resources


def sanitize_preprocessors() -> list[Any]:
    """nbgrader's sanitizing steps, with duplicated test cells made harmless."""
    from nbgrader.preprocessors import (
        CheckCellMetadata,
        ClearOutput,
        DeduplicateIds,
        OverwriteCells,
        OverwriteKernelspec,
    )

    return [
        ClearOutput,
        DeduplicateIds,
        DropEmptyMetadata,
        OverwriteKernelspec,
        OverwriteCells,
        CheckCellMetadata,
    ]


def autograde_preprocessors() -> list[Any]:
    """nbgrader's autograde steps with the kernel's ``Execute`` replaced by the grader."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    return [
        GradeOutside,
        IgnorePattern,
        ClearMetadataPreprocessor,
        LimitOutput,
        SaveAutoGrades,
        AssignLatePenalties,
        CheckCellMetadata,
    ]
