"""ws-broadcast's judge (figures in, checks out) and its feedback picture, without serving."""

from __future__ import annotations

from typing import Any

from autograder.classroom import feedback
from autograder.judges import ws_broadcast as wb
from autograder.judges.checks import Check
from autograder.judges.verdict import Verdict
from autograder.measure.session import Figures

TOTAL = wb.MESSAGES + wb.AFTER


def figures(**changes: Any) -> Figures:
    """The figures of a valid fix, with ``changes`` to the exercise's own records."""
    extra: dict[str, Any] = {
        "_healthy": [(list(range(TOTAL)), None)] * wb.HEALTHY,
        "_latencies": [0.006] * (wb.HEALTHY * TOTAL),
        "_posts": [8.0] * TOTAL,
        "_growth": 0.02 * 2**20,
        "_stalled": (True, 0, 0.05),
        "_vanished": (True, wb.WS_PING_INTERVAL + wb.WS_PING_TIMEOUT),
    }
    extra.update(changes)
    return Figures(loop_lag=0.02, probes=400, extra=extra)


def verdict_of(f: Figures) -> dict[str, Check]:
    return {c.name: c for c in wb.judge(f)}


def test_a_valid_fix_passes_every_check():
    checks = verdict_of(figures())
    assert set(checks) == set(wb.EXERCISE.checks)
    assert all(c.passed for c in checks.values()), [c for c in checks.values() if not c.passed]


def test_the_starters_figures_fail_latency_publish_memory_and_the_drop():
    checks = verdict_of(
        figures(
            _latencies=[4.0] * (wb.HEALTHY * TOTAL),
            _posts=[4190.0] * TOTAL,
            _growth=7.6 * 2**20,
            _stalled=(True, wb.AFTER, None),
        )
    )
    failed = {name for name, c in checks.items() if not c.passed}
    assert failed == {"latency", "publish", "memory", "stalled-dropped"}
    assert "never ended" in checks["stalled-dropped"].message
    assert "7.60 MiB" in checks["memory"].message


def test_a_member_fed_later_messages_or_closed_late_was_not_dropped():
    fed = verdict_of(figures(_stalled=(True, 3, 0.05)))["stalled-dropped"]
    assert not fed.passed and "3 of the 10" in fed.message
    late = verdict_of(figures(_stalled=(True, 0, wb.DROP_LIMIT + 0.5)))["stalled-dropped"]
    assert not late.passed and "ended only 2.5 s later" in late.message


def test_lost_duplicated_or_reordered_messages_fail_delivered():
    lost = list(range(TOTAL - 1))
    swapped = [1, 0, *range(2, TOTAL)]
    for got in (lost, swapped, [*range(TOTAL), TOTAL - 1]):
        healthy = [(list(range(TOTAL)), None)] * (wb.HEALTHY - 1) + [(got, None)]
        check = verdict_of(figures(_healthy=healthy))["delivered"]
        assert not check.passed and "1 of 30" in check.message


def test_an_unanswered_post_or_vanished_member_still_open_fails():
    checks = verdict_of(figures(_posts=[8.0] * (TOTAL - 1) + [None], _vanished=(True, None)))
    assert not checks["publish"].passed and "never answered" in checks["publish"].message
    assert not checks["vanished-dropped"].passed


def test_missing_figures_are_not_measured_not_passed():
    checks = verdict_of(Figures())
    assert not any(c.passed for c in checks.values())


def test_the_feedback_picture_shows_each_member_over_time():
    members = [
        {"role": "stalled", "received_ms": [2760, 2770], "ended_ms": 2810.0},
        {"role": "healthy", "received_ms": [10, 30, 3000], "ended_ms": None},
        {"role": "vanished", "received_ms": [12, 31], "ended_ms": 4800.0},
    ]
    verdict = Verdict(
        "ws-broadcast",
        (Check("delivered", True, "ok"),),
        metrics={
            "timeline": [{"start_ms": 0.0, "end_ms": 8.0, "status": 202}],
            "members": members,
            "published_ms": [0, 20, 2850],
            "resumed_ms": 2750.0,
        },
    )
    png = feedback.timeline_png(verdict)
    assert png is not None and png.startswith(b"\x89PNG")
    assert "each member of the room" in feedback.timeline_caption(verdict)
