"""The checks are pure functions: judged here on synthetic figures, in milliseconds."""

from __future__ import annotations

import pytest

from autograder.judges import checks
from autograder.measure.load import Request, Response


def resp(
    start: float, end: float | None, status: int = 200, body: bytes = b'{"status": "ok"}', path="/x"
):
    return Response(
        Request("GET", path), start=start, end=end, status=status if end else None, body=body
    )


def test_all_finished_within_passes_when_everything_answered_in_time():
    rs = [resp(0.0, 0.31 + i * 0.001) for i in range(20)]
    c = checks.all_finished_within("concurrent", rs, 1.0, waited=1.1, what="requests")
    assert c.passed and "0.33 s" in c.message


def test_all_finished_within_fails_on_a_staircase():
    rs = [resp(0.0, 0.3 * (i + 1)) for i in range(20)]
    c = checks.all_finished_within("concurrent", rs, 1.0, waited=6.1, what="requests")
    assert not c.passed and "6.00 s" in c.message and "over" in c.message


def test_all_finished_within_fails_and_counts_unanswered():
    rs = [resp(0.0, 0.3 * (i + 1)) for i in range(3)] + [resp(0.0, None) for _ in range(17)]
    c = checks.all_finished_within("concurrent", rs, 1.0, waited=1.1, what="requests")
    assert not c.passed and "only 3 of 20" in c.message


def test_each_answered_within():
    assert checks.each_answered_within("f", [resp(0, 0.5)] * 5, 1.0, what="r").passed
    c = checks.each_answered_within("f", [resp(0, 0.5), resp(0, 1.2)], 1.0, what="r")
    assert not c.passed and "1 of 2" in c.message and "1.20 s" in c.message


def test_each_took_at_least_catches_a_skipped_wait():
    assert checks.each_took_at_least("w", [resp(0, 0.31)], 0.25).passed
    c = checks.each_took_at_least("w", [resp(0, 0.31), resp(0, 0.01)], 0.25)
    assert not c.passed and "skipped" in c.message


def test_a_lone_request_answered_before_the_work_fails_it_though_the_burst_looked_slow():
    """A fire-and-forget wait: the burst waited behind earlier waits, alone it answers at once."""
    burst = [resp(0, 0.31 + i * 0.01) for i in range(20)]
    c = checks.work_took_its_time("w", burst, 0.25, alone=resp(0, 0.004), work="brew")
    assert not c.passed and "4 ms" in c.message and "fire-and-forget brew" in c.message
    assert "waited behind the brews of earlier ones" in c.message
    concurrent = checks.all_finished_within("c", burst, 1.0, waited=1.1, what="brews")
    assert concurrent.passed  # what the burst alone would have said
    judged = checks.judged_only_if_the_work_is_done(
        concurrent, resp(0, 0.004), 0.25, work="brew", by="w"
    )
    assert not judged.passed and judged.message.startswith("not judged") and "(see w)" in judged.message


def test_a_lone_request_that_takes_its_time_leaves_the_burst_to_judge():
    burst = [resp(0, 0.31)]
    c = checks.work_took_its_time("w", burst, 0.25, alone=resp(0, 0.30), work="brew")
    assert c.passed and "alone took 0.30 s" in c.message and "0.31 s" in c.message
    skipped = checks.work_took_its_time("w", [resp(0, 0.01)], 0.25, alone=resp(0, 0.3), work="x")
    assert not skipped.passed and "skipped" in skipped.message
    concurrent = checks.all_finished_within("c", burst, 1.0, waited=1.1, what="brews")
    assert checks.judged_only_if_the_work_is_done(concurrent, resp(0, 0.3), 0.25, work="b", by="w") is concurrent


def test_a_lone_request_that_failed_or_was_not_sent_does_not_stand_for_the_endpoint():
    burst = [resp(0, 0.31)]
    for alone in (None, resp(0, 0.01, status=500), resp(0, None)):
        assert checks.work_took_its_time("w", burst, 0.25, alone=alone, work="x").passed
        assert not checks.answered_before_the_work(alone, 0.25)


def test_bodies_match_names_the_wrong_answer():
    good = resp(0, 0.3, path="/a")
    bad = resp(0, 0.3, body=b'{"status": "nope"}', path="/b")
    expected = lambda r: (200, {"status": "ok"})  # noqa: E731
    assert checks.bodies_match("b", [good], expected, what="r").passed
    c = checks.bodies_match("b", [good, bad], expected, what="r")
    assert not c.passed and "/b" in c.message and "nope" in c.message


def test_bodies_match_needs_at_least_one_answer():
    c = checks.bodies_match("b", [resp(0, None)], lambda r: (200, {}), what="r")
    assert not c.passed and c.message.startswith("not measured")


@pytest.mark.parametrize(("lag", "ok"), [(0.085, True), (0.2, True), (0.201, False), (6.0, False)])
def test_loop_lag_limit_is_inclusive_at_200_ms(lag, ok):
    assert checks.loop_lag_under("l", lag, 0.2, probes=50).passed is ok


def test_loop_lag_without_probes_is_not_a_pass():
    assert not checks.loop_lag_under("l", None, 0.2, probes=0).passed


def test_p95_needs_enough_probes_and_uses_nearest_rank():
    fast = [0.005] * 19
    assert not checks.p95_under("h", fast, 0.1, min_count=20, what="h").passed  # 19 < 20
    assert checks.p95_under("h", fast + [0.5], 0.1, min_count=20, what="h").passed  # 1 of 20 slow
    assert not checks.p95_under("h", fast + [0.5, 0.5], 0.1, min_count=20, what="h").passed


def test_percentile_nearest_rank():
    assert checks.percentile([1, 2, 3, 4], 50) == 2
    assert checks.percentile(list(range(1, 101)), 95) == 95


def test_at_least_formats_its_message():
    c = checks.at_least("peak", 40, 90, message="saw {value} of {minimum}")
    assert not c.passed and c.message == "saw 40 of 90"
