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

# A grading cell runs the measuring grader (a real uvicorn, real load): a few seconds for
# a fix, up to 60 s for a submission that hangs, plus start-up. nbgrader's default 30 s
# per cell would cut it off; the grader's own limit is autograder.classroom.GRADE_TIMEOUT
# (90 s), below this one so the cell reports the timeout itself.
c.ExecutePreprocessor.timeout = 150

# The exchange (release_assignment / fetch / submit / collect): a shared, writable folder.
# On a JupyterHub, point NBGRADER_EXCHANGE at the folder every user's server mounts.
c.Exchange.root = os.environ.get(
    "NBGRADER_EXCHANGE", str(Path(__file__).resolve().parent / "exchange")
)
