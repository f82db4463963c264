"""The predict drills on streaming and timeouts: files present, references hold live."""

from __future__ import annotations

import pytest

from autograder import lab
from autograder.drills import predict, predict_stalls


def test_each_drill_has_its_snippet_and_a_fresh_id():
    ids = {d.id for d in predict.DRILLS}
    for d in predict_stalls.DRILLS:
        assert d.path.is_file(), d.snippet
        assert d.id not in ids
        assert d.explanation and d.question
    assert len({d.id for d in predict_stalls.DRILLS}) == len(predict_stalls.DRILLS)


@pytest.mark.slow
@pytest.mark.parametrize("drill", predict_stalls.DRILLS, ids=lambda d: d.id)
def test_reference_answer_holds_live(drill):
    with lab.serve(drill.path) as app:
        measured = drill.measure(app)
    result = drill.score(drill.reference(), measured)
    assert result.passed, f"{drill.id}: {result.message} {measured.notes}"
