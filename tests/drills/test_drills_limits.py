"""The predict drills on fan-out and thread-pool starvation: files present, references hold live."""

from __future__ import annotations

from collections import defaultdict

import pytest

from autograder import lab
from autograder.drills import predict, predict_limits


def test_each_drill_has_its_snippet_and_a_fresh_id():
    ids = {d.id for d in predict.DRILLS}
    for d in predict_limits.DRILLS:
        assert d.path.is_file(), d.snippet
        assert d.id not in ids
        assert d.explanation and d.question
    assert len({d.id for d in predict_limits.DRILLS}) == len(predict_limits.DRILLS)


BY_SNIPPET: dict[str, list] = defaultdict(list)
for _d in predict_limits.DRILLS:
    BY_SNIPPET[_d.snippet].append(_d)


@pytest.mark.slow
@pytest.mark.parametrize("snippet", sorted(BY_SNIPPET))
def test_reference_answers_hold_live(snippet):
    """One serve per snippet; each of its drills measures afresh and scores its reference."""
    with lab.serve(predict.SNIPPETS / snippet) as app:
        results = [(d, d.measure(app)) for d in BY_SNIPPET[snippet]]
    for d, m in results:
        s = d.score(d.reference(), m)
        assert s.passed, f"{d.id}: {s.message} {m.notes}"
