"""The drills on Server-Sent Event streams: files present, references hold live, the
question cites them. The spot-and-fix drill ``fix-relay-never-closes`` is graded live with
every other one in ``test_drills.py`` (its starter fails ``upstream-closed``, its reference
fix passes); here, its judge on figures made by hand."""

from __future__ import annotations

from collections import defaultdict

import pytest

from autograder import lab
from autograder.drills import fix_streams, predict, predict_streams, spot_fix
from autograder.drills.catalog import DRILLS
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures
from autograder.servers.model import answer_events


def test_each_drill_has_its_snippet_and_a_fresh_id():
    others = {d.id for d in DRILLS.values()} - {d.id for d in predict_streams.DRILLS}
    for d in predict_streams.DRILLS:
        assert d.path.is_file() and d.path.parent == predict.SNIPPETS, d.snippet
        assert d.id not in others
        assert d.explanation and d.question and d.tolerance is not None


def test_the_relay_drill_names_its_failing_check():
    d = DRILLS["fix-relay-never-closes"]
    assert isinstance(d, spot_fix.SpotFixDrill)
    assert d.fails_on == "upstream-closed" and d.fails_on in d.exercise.checks
    assert d.starter.is_file() and d.reference.is_file()


def test_the_sse_question_cites_every_stream_drill():
    q = DRILLS["q-sse-clients-per-worker"]
    assert set(q.cited()) == {d.id for d in predict_streams.DRILLS} | {"fix-relay-never-closes"}
    assert "{cite:" not in q.model_answer()


def _figures(closed_after: float | None, stayer_tokens: list) -> Figures:
    rows = [
        {"id": "0", "leaver": False, "end_ms": 1000.0, "left_ms": None,
         "upstream_closed_ms": None, "wasted_tokens": None, "tokens": 20},
        {"id": "1", "leaver": True, "end_ms": None, "left_ms": 650.0,
         "upstream_closed_ms": None if closed_after is None else 650.0 + closed_after,
         "wasted_tokens": 0 if closed_after is not None else 75, "tokens": 5},
    ]  # fmt: skip
    r = Response(Request("GET", "/chat/0?prompt=p-0"), 0.0, 1.0, 200)
    return Figures(
        requests=(r,),
        loop_lag=0.02,
        probes=50,
        extra={
            "streams": rows,
            "_secret": "s",
            "_prompts": {"0": "p-0", "1": "p-1-long"},
            "_tokens": {"0": stayer_tokens, "1": []},
        },
    )


def test_the_relay_judge_fails_a_model_stream_left_open_and_passes_a_closed_one():
    good = answer_events("s", "p-0")
    open_ = {c.name: c for c in fix_streams.judge_relay(_figures(None, good))}
    assert not open_["upstream-closed"].passed and open_["tokens"].passed
    assert "75 tokens nobody received" in open_["upstream-closed"].message
    closed = {c.name: c for c in fix_streams.judge_relay(_figures(3.0, good))}
    assert all(c.passed for c in closed.values()), closed
    wrong = {c.name: c for c in fix_streams.judge_relay(_figures(3.0, good[:-1]))}
    assert not wrong["tokens"].passed


SHARED: dict[str, list] = defaultdict(list)
for _d in predict_streams.DRILLS:
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
