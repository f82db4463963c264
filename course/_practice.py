"""Doing, not only watching: a prediction scored against the live figure, and "your
turn" endpoints graded by the course's grader.

- :func:`score` scores a learner's prediction with the drills' tolerance rules
  (:mod:`autograder.drills.scoring`), against what the notebook just measured.
- :class:`YourTurn` is a small broken app the learner fixes. Its checks are the grader's
  (:mod:`autograder.judges.checks`, through :func:`autograder.grade.grade_async`: the same
  runner, dependency servers, load client, loop probe and diagnosis as a graded
  exercise). The learner's copy lives in ``course/mine/``; the starter in ``apps/``, a
  reference answer in ``_answers/``.

Executed headless (CI sets ``COURSE_REFERENCE=1``), a "your turn" cell grades the
reference answer, so the notebook's run proves the reference passes;
``tests/course/test_notebooks.py`` proves every untouched starter fails.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from IPython.display import Code, Markdown, display

from autograder import lab
from autograder.drills.scoring import Tolerance, Value, format_value, judge
from autograder.judges import Exercise, checks
from autograder.judges.checks import Check
from autograder.judges.verdict import Verdict
from autograder.measure.session import Figures

COURSE = Path(__file__).resolve().parent
MINE = COURSE / "mine"
REFERENCE = os.environ.get("COURSE_REFERENCE") == "1"

__all__ = ["REFERENCE", "Tolerance", "YourTurn", "score", "show_answer", "turn"]


def score(
    what: str,
    predicted: Value | None,
    measured: Value,
    *,
    tolerance: Tolerance | None = None,
    unit: str = "",
) -> None:
    """Score ``predicted`` against ``measured`` with the drills' rules (a figure within
    ``tolerance``; words, given as a tuple, in the same order) and show the result.

    ``None`` is a prediction not made yet (the cell as shipped, e.g. under Run All): it is
    not scored, only the measurement is shown. Returns nothing, so that a cell ending in
    ``score(...)`` does not echo the result a second time.
    """
    display(Markdown(f"**Your prediction, {what}:** {verdict(predicted, measured, tolerance, unit)}"))


def verdict(predicted: Value | None, measured: Value, tolerance: Tolerance | None, unit: str) -> str:
    """What :func:`score` shows after "Your prediction, ...:"."""
    if predicted is None:
        shown = (
            "nothing was measured"
            if isinstance(measured, float) and math.isnan(measured)
            else f"measured: {format_value(measured, unit)}"
        )
        return (
            f"not made yet ({shown}). Put your figure in the prediction cell in place of "
            "`None`, run it, then run this cell again."
        )
    result = judge(predicted, measured, tolerance=tolerance, unit=unit)
    return f"{'✓' if result.passed else '✗'} {result.message}"


def show_answer(path: Path) -> None:
    """Show a reference answer in the notebook, highlighted and read-only.

    Not a link: JupyterLab would open the answer in an editor tab titled like the
    learner's own file (``01-brew.py``), one edit away from being mistaken for it.
    """
    display(Markdown(f"**One answer** (`{path.name}`, shown here read-only: edit your own copy):"))
    display(Code(filename=str(path), language="python"))


@dataclass(frozen=True)
class YourTurn:
    id: str
    starter: Path  # what the learner starts from (deliberately broken)
    reference: Path  # one passing answer
    exercise: Exercise
    fails_on: str  # the check an untouched starter fails

    @property
    def mine(self) -> Path:
        return MINE / f"{self.id}.py"

    def start(self) -> Path:
        """Copy the starter to ``mine/`` unless the learner already has a copy; return it."""
        MINE.mkdir(exist_ok=True)
        if not self.mine.exists():
            shutil.copy(self.starter, self.mine)
            self.mine.chmod(0o644)  # the grader serves it as a user of its own
        return self.mine

    def grade(self, path: str | Path) -> Verdict:
        from autograder.grade import grade_async  # the grader's own entry point

        return lab.run(grade_async(self.exercise, Path(path)), 120)

    def show_answer(self) -> None:
        """Show the reference answer (for a learner who is stuck), read-only."""
        show_answer(self.reference)

    def check(self) -> Verdict:
        """Grade the learner's copy (the reference, headless) and show the verdict."""
        path = self.reference if REFERENCE else self.start()
        if REFERENCE:
            print(f"(headless run: grading the reference answer, {os.path.relpath(path, COURSE)})")
        verdict = self.grade(path)
        print(verdict.render())
        return verdict


# -- what the scenarios share (each notebook's are in _turns/) ---------------------------

N = 20
TOTAL_LIMIT = 1.0
LAG_LIMIT = 0.2
GRACE = 0.1


def loop_free(f: Figures) -> Check:
    return checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes)


def concurrent(f: Figures, what: str) -> Check:
    return checks.all_finished_within(
        "concurrent", f.requests, TOTAL_LIMIT, waited=f.waited, what=what
    )


def turn(id: str, exercise: Exercise, *, fails_on: str, reference: str | None = None) -> YourTurn:
    """The turn ``NN-name``: starter ``apps/nbNN_name_starter.py``, answer ``_answers/<reference or id>.py``."""
    number, name = id.split("-", 1)
    return YourTurn(
        id=id,
        starter=COURSE / "apps" / f"nb{number}_{name}_starter.py",
        reference=COURSE / "_answers" / f"{reference or id}.py",
        exercise=exercise,
        fails_on=fails_on,
    )
