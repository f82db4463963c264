"""nbgrader configuration of the course's graded exercises (this folder is the course).

Run nbgrader from this folder: `cd exercises && nbgrader generate_assignment blocking-sleep`.
"""

import os
from pathlib import Path

c = get_config()  # type: ignore[name-defined]  # noqa: F821  (nbgrader provides it)

c.CourseDirectory.course_id = "fastapi-concurrency"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)

# Each source/<id>/ holds only its notebook: the student's service is written by a cell
# of the notebook (%%writefile app.py), so autograde copies nothing over the student's
# files (it copies every non-notebook file of source/<id>/ before grading).

# Autograde never runs a submitted notebook: its kernel step (Execute) is replaced by the
# grader, which takes the service from the notebook's app cell, serves it confined and
# measures it from outside; nbgrader then scores the test cells from that verdict. So a
# plain `nbgrader autograde` here is as safe as `python -m autograder classroom autograde`
# (which enforces the same steps whatever this file says).
from autograder.classroom.grading import (  # noqa: E402
    autograde_preprocessors,
    sanitize_preprocessors,
)

c.Autograde.sanitize_preprocessors = sanitize_preprocessors()
c.Autograde.autograde_preprocessors = autograde_preprocessors()
c.GradeOutside.verdict_dir = str(Path(__file__).resolve().parent / "logs" / "verdicts")

# The exchange (release_assignment / fetch / submit / collect): a shared, writable folder.
# On a JupyterHub, point NBGRADER_EXCHANGE at the folder every user's server mounts.
c.Exchange.root = os.environ.get(
    "NBGRADER_EXCHANGE", str(Path(__file__).resolve().parent / "exchange")
)
