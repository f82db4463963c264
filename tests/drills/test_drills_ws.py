"""The WebSocket drills: a member that stops reading, a fleet of replicas behind Redis, a room
that keeps a member it should drop, and the questions that cite them. Slow tests measure live:
each reference figure lands within its drill's tolerance, the spot-and-fix starter fails on
its named check and the reference fix passes (with the other spot-and-fix drills, in
test_drills_fixes.py), and no redis-server is left behind."""

from __future__ import annotations

import contextlib

import psutil
import pytest

from autograder.drills import predict_ws, questions_ws, spot_fix_ws
from autograder.drills.catalog import DRILLS
from autograder.servers import brokers


def test_the_ws_drills_are_in_the_catalogue_with_their_files():
    for d in [*predict_ws.DRILLS, *spot_fix_ws.DRILLS, *questions_ws.DRILLS]:
        assert DRILLS[d.id] is d
    for p in predict_ws.DRILLS:
        assert p.path.is_file() and p.explanation and p.tolerance is not None, p.id
    for f in spot_fix_ws.DRILLS:
        assert f.starter.is_file() and f.reference.is_file(), f.id
        assert f.exercise.id == f.id and f.fails_on in f.exercise.checks


def test_each_fleet_drill_serves_its_file_beside_a_broker():
    fleet = [d for d in predict_ws.DRILLS if d.topic == "WebSockets at scale"]
    assert {type(d) for d in fleet} == {predict_ws.BrokerDrill}
    assert {d.snippet for d in fleet} == {"ws_broadcast_sequential.py", "ws_rooms_redis.py"}


def test_the_stalled_and_queued_figures_separate_beyond_their_tolerances():
    stalled, queued = (next(d for d in predict_ws.DRILLS if d.id == i) for i in (
        "predict-ws-stalled-reader", "predict-ws-queued-reader"))  # fmt: skip
    gap = queued.reference() - stalled.reference()
    assert stalled.tolerance is not None and queued.tolerance is not None
    assert gap > stalled.tolerance.absolute + queued.tolerance.absolute


def test_the_questions_cite_the_ws_drills():
    assert set(questions_ws.DRILLS[0].cited()) == {
        "predict-ws-stalled-reader",
        "predict-ws-queued-reader",
        "fix-room-keeps-dead-member",
    }
    assert set(questions_ws.DRILLS[1].cited()) == {
        "predict-ws-replicas-in-memory",
        "predict-ws-replicas-redis",
    }
    for q in questions_ws.DRILLS:
        answer = q.model_answer()
        assert "{cite:" not in answer and "python -m autograder drill predict-ws-" in answer
    assert "Redis pub/sub" in questions_ws.DRILLS[1].model_answer()


def _redis_children() -> list[int]:
    found = []
    for p in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a child that ended meanwhile
            if p.name().startswith("redis-serv"):
                found.append(p.pid)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("drill", predict_ws.DRILLS, ids=lambda d: d.id)
def test_reference_answer_holds_live(drill):
    if isinstance(drill, predict_ws.BrokerDrill) and brokers.executable() is None:
        if brokers.required():
            pytest.fail(f"{brokers.REQUIRE_VARIABLE}=1 but {brokers.INSTALL_HINT}")
        pytest.skip(brokers.INSTALL_HINT)
    try:
        measured = drill.run()
    finally:
        assert _redis_children() == [], "a redis-server was left running"
    result = drill.score(drill.reference(), measured)
    assert result.passed, f"{drill.id}: {result.message} {measured.notes}"
