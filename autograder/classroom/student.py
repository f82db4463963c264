"""The student's side, inside the notebook's kernel: "check my work".

It is advice, never a grade: the points come from the class grader, which reads the
notebook file and never runs this kernel (see :mod:`autograder.classroom.grading`).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from autograder.classroom import feedback
from autograder.classroom.processes import run_isolated
from autograder.judges.verdict import Verdict

# The contract: a broken submission gets its verdict within 60 s. Python start-up and the
# grader's own clean-up need a margin on a busy 2-core machine.
GRADE_TIMEOUT = 90.0


class GradedOutside(RuntimeError):
    """A test cell was run in a kernel: its point only ever comes from the class grader."""


def graded_outside(name: str) -> None:
    """The hidden body of every test cell: run in a kernel, it fails (and scores nothing)."""
    raise GradedOutside(
        f"check {name!r} is graded outside the notebook's kernel: "
        "run `python -m autograder classroom autograde` (or `nbgrader autograde` with the "
        "course's nbgrader_config.py)"
    )


def _grader_command(exercise: str, app: Path) -> list[str]:
    # -v: the grader's progress log (on its stderr) tells the student what it did.
    return [sys.executable, "-m", "autograder", "-v", "grade", exercise, str(app), "--json"]


def _grade(exercise: str, app: Path, timeout: float, command: Sequence[str] | None) -> Verdict:
    started = time.monotonic()
    done = run_isolated(command or _grader_command(exercise, app), timeout=timeout)
    if done.stderr.strip():
        print("grader log:")
        for line in done.stderr.strip().splitlines()[-40:]:
            print(f"  {line}")
    if done.timed_out:
        raise RuntimeError(f"the grader gave no verdict within {timeout:.0f} s and was stopped")
    try:
        verdict = Verdict.from_dict(json.loads(done.stdout))
    except (ValueError, KeyError, TypeError):
        tail = done.stdout.strip()[-2000:]
        raise RuntimeError(
            f"the grader gave no verdict (exit status {done.returncode}); it printed:\n{tail}"
        ) from None
    print(f"(graded in {time.monotonic() - started:.1f} s)")
    return verdict


def _show(verdict: Verdict, code: str | None) -> None:
    print(verdict.render())
    if verdict.diagnosis:
        print()
        print(feedback.blocking_line(verdict.diagnosis, code))
    png = feedback.timeline_png(verdict)
    if png is None:
        print("(no request timeline: the app never served)")
        return
    try:
        from IPython.display import Image, display
    except ImportError:  # a script: the text verdict is enough
        return
    display(Image(data=png, format="png"))
    print(feedback.timeline_caption(verdict))


def check_my_work(
    exercise: str,
    app: str | Path = "app.py",
    *,
    timeout: float = GRADE_TIMEOUT,
    command: Sequence[str] | None = None,
) -> None:
    """The student's "check my work" cell: the same grading, shown as text and a timeline."""
    if os.environ.get("NBGRADER_EXECUTION"):
        # nbgrader is running the notebook (validate): the points come from the class grader.
        print(f"nbgrader {os.environ['NBGRADER_EXECUTION']}: not grading here")
        return
    app = Path(app)
    if not app.exists():
        print(f"There is no {app} yet: run the cell with your service first.")
        return
    verdict = _grade(exercise, app, timeout, command)
    code = app.read_text(errors="replace")
    _show(verdict, code)
