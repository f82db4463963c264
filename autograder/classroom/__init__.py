"""nbgrader classroom: a class graded by measuring, never by running a student's kernel.

- :mod:`.notebook`: the source notebook of each exercise (its app cell, "check my work",
  one test cell per check), built from ``exercises/<id>/starter.py`` and ``README.md``.
- :mod:`.submission`: the service's code, read from the submitted notebook file.
- :mod:`.grading`: nbgrader's autograde with its kernel step replaced by the grader.
- :mod:`.feedback`: the verdict written into the cells a student reads.
- :mod:`.gradebook`: scores read from (and zeros written to) nbgrader's gradebook; the CSV.
- :mod:`.batch`: a class, one submission at a time, then the feedback.
- :mod:`.student`: "check my work" in the student's kernel (advice, not a grade).
- :mod:`.cli`: ``python -m autograder classroom autograde | export | build``.

The package's top level is what a notebook cell imports, so it stays light (no nbgrader).
"""

from autograder.classroom.cli import add_subcommand, run
from autograder.classroom.notebook import APP_ID, CHECK_PREFIX
from autograder.classroom.student import GRADE_TIMEOUT, check_my_work, graded_outside

__all__ = [
    "APP_ID",
    "CHECK_PREFIX",
    "GRADE_TIMEOUT",
    "add_subcommand",
    "check_my_work",
    "graded_outside",
    "run",
]
