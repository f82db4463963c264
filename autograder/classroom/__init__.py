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

from autograder.classroom.batch import autograde_class, machine_lock
from autograder.classroom.cli import add_subcommand, run
from autograder.classroom.gradebook import Row, read_row, submissions, write_csv
from autograder.classroom.notebook import CHECK_PREFIX, build_notebook, build_sources
from autograder.classroom.processes import STOP_GRACE, run_isolated
from autograder.classroom.student import (
    GRADE_TIMEOUT,
    RUNS_LOG,
    VERDICT_FILE,
    CheckFailed,
    check,
    check_my_work,
    grade_to_cache,
    timeline_png,
)

__all__ = [
    "CHECK_PREFIX",
    "GRADE_TIMEOUT",
    "RUNS_LOG",
    "STOP_GRACE",
    "VERDICT_FILE",
    "CheckFailed",
    "Row",
    "add_subcommand",
    "autograde_class",
    "build_notebook",
    "build_sources",
    "check",
    "check_my_work",
    "grade_to_cache",
    "machine_lock",
    "read_row",
    "run",
    "run_isolated",
    "submissions",
    "timeline_png",
    "write_csv",
]
