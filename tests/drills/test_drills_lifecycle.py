"""The predict drills on shutdown, unreferenced tasks and the database pool: files present,
reference answers hold live (a shutdown drill ends its app: one serve each)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from autograder import lab
from autograder.drills import predict, predict_lifecycle
from autograder.drills.catalog import DRILLS

ENDS_THE_APP = {"shutdown_bg.py"}


def test_each_drill_has_its_snippet_and_a_fresh_id():
    others = {d.id for d in DRILLS.values()} - {d.id for d in predict_lifecycle.DRILLS}
    for d in predict_lifecycle.DRILLS:
        assert d.path.is_file(), d.snippet
        assert d.id not in others
        assert d.explanation and d.question and d.tolerance is not None


SHARED: dict[str, list] = defaultdict(list)
for _d in predict_lifecycle.DRILLS:
    if _d.snippet not in ENDS_THE_APP:
        SHARED[_d.snippet].append(_d)


@pytest.mark.slow
@pytest.mark.parametrize("snippet", sorted(SHARED))
def test_reference_answers_hold_live(snippet):
    """One serve per snippet; each of its drills measures afresh and scores its reference."""
    with lab.serve(predict.SNIPPETS / snippet) as app:
        results = [(d, d.measure(app)) for d in SHARED[snippet]]
    for d, m in results:
        s = d.score(d.reference(), m)
        assert s.passed, f"{d.id}: {s.message} {m.notes}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "drill",
    [d for d in predict_lifecycle.DRILLS if d.snippet in ENDS_THE_APP],
    ids=lambda d: d.id,
)
def test_a_shutdown_reference_holds_live(drill):
    with lab.serve(drill.path) as app:
        m = drill.measure(app)
        assert not app.alive()
    s = drill.score(drill.reference(), m)
    assert s.passed, f"{drill.id}: {s.message} {m.notes}"
