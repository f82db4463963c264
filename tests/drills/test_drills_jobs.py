"""The crash drills (``predict_jobs``): served restartable, killed mid-work, started again;
each reference answer lands within its tolerance of the live count at the SMTP server.

Slow: each drill serves its snippet twice (before and after the SIGKILL), about 8 s.
"""

from __future__ import annotations

import pytest

from autograder.drills import predict_jobs
from autograder.drills.catalog import DRILLS


def test_the_crash_drills_are_in_the_catalogue_and_restartable():
    for d in predict_jobs.DRILLS:
        assert DRILLS[d.id] is d and d.restartable and d.path.is_file()


@pytest.mark.slow
@pytest.mark.parametrize("drill", predict_jobs.DRILLS, ids=lambda d: d.id)
def test_reference_answer_holds_live(drill):
    measured = drill.run()
    scored = drill.score(drill.reference(), measured)
    assert scored.passed, (scored.message, measured.notes)
    assert measured.notes["sent twice"] == "0", measured.notes
