"""Figures.metrics (the verdict's JSON ``metrics``) and the Burst record, on synthetic
responses: milliseconds since the first request, unanswered requests kept apart."""

from __future__ import annotations

import math

from autograder.measure.burst import Burst, timeline_bars
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures


def resp(
    start: float, end: float | None, status: int | None = 200, error: str | None = None
) -> Response:
    return Response(Request("GET", "/r"), start=start, end=end, status=status, error=error)


def test_metrics_of_a_burst_in_milliseconds():
    requests = (
        resp(100.0, 100.3),
        resp(100.0, 100.6),
        resp(100.01, 100.9),
        resp(100.0, None, status=None),  # never answered
        resp(100.0, 100.2, status=None, error="ConnectionResetError: reset"),
    )
    figures = Figures(
        requests=requests,
        waited=1.1,
        loop_lag=0.8316,
        probes=58,
        extra={"upstream_peak_in_flight": 3, "_private": "not in the JSON"},
    )
    m = figures.metrics()
    assert m["requests"] == 5 and m["answered"] == 3
    assert m["waited_ms"] == 1100.0
    assert m["latency_ms"] == {"min": 300.0, "median": 600.0, "max": 890.0}
    assert m["total_ms"] == 900.0
    assert m["max_loop_lag_ms"] == 831.6 and m["loop_probes"] == 58
    assert m["upstream_peak_in_flight"] == 3 and "_private" not in m
    assert m["timeline"] == [
        {"start_ms": 0.0, "end_ms": 300.0, "status": 200},
        {"start_ms": 0.0, "end_ms": 600.0, "status": 200},
        {"start_ms": 10.0, "end_ms": 900.0, "status": 200},
        {"start_ms": 0.0, "end_ms": None, "status": None},
        {"start_ms": 0.0, "end_ms": None, "status": None},
    ]


def test_metrics_when_nothing_was_answered_have_no_latencies():
    m = Figures(requests=(resp(5.0, None, None),), waited=1.0).metrics()
    assert m["answered"] == 0
    assert "latency_ms" not in m and "total_ms" not in m
    assert "max_loop_lag_ms" not in m  # no probe ran


def test_metrics_of_nothing_measured_are_empty():
    assert Figures().metrics() == {}
    assert Figures(extra={"emails": 2}).metrics() == {"emails": 2}


def test_timeline_bars_round_to_the_digits_asked():
    bars = timeline_bars([resp(1.0, 1.23456), resp(1.0001, None, None)], digits=3)
    assert bars == [
        {"start_ms": 0.0, "end_ms": 234.56, "status": 200},
        {"start_ms": 0.1, "end_ms": None, "status": None},
    ]
    assert timeline_bars([]) == []


def probe(start: float, latency: float | None) -> Response:
    return Response(
        Request("GET", "/health"),
        start=start,
        end=None if latency is None else start + latency,
        status=200,
    )


def test_a_burst_record_answers_what_the_notebooks_ask():
    b = Burst(
        [resp(10.0, 10.3), resp(10.0, 10.31), resp(10.0, 10.6), resp(10.0, None, None)],
        [probe(9.99, 0.002), probe(10.02, 0.25), probe(10.04, 0.23), probe(10.7, 0.001)],
        started=10.0,
        finished=10.6,
        probe_path="/health",
    )
    assert len(b.answered) == 3
    assert [round(x, 2) for x in b.latencies] == [0.3, 0.31, 0.6]
    assert round(b.total, 2) == 0.6 and round(b.slowest, 2) == 0.6
    # probes sent before the first request or after the last answer are not counted
    assert [round(x, 2) for x in b.probe_latencies] == [0.25, 0.23]
    assert round(b.max_probe_latency, 2) == 0.25 and round(b.probe_p95(), 2) == 0.25
    assert b.loop == (b.max_probe_latency, 2)
    assert b.waves() == 2  # 0.3 s and 0.31 s together, then 0.6 s


def test_a_burst_window_can_start_before_the_burst_and_cut_off_late():
    b = Burst(
        [resp(10.0, 10.1)],
        [probe(9.9, 0.01), probe(10.05, None)],
        started=10.0,
        finished=10.1,
        probe_since=9.8,  # the grader's loop probe starts before the warm-up request
        probe_cut_off=10.4,  # when the probe stopped: a probe pending until then waited 0.35 s
    )
    assert [round(x, 2) for x in b.probe_latencies] == [0.01, 0.35]


def test_an_empty_burst_has_no_figures():
    b = Burst([resp(1.0, None, None)], started=1.0, finished=2.0)
    assert b.answered == [] and math.isnan(b.total) and math.isnan(b.slowest)
    assert math.isnan(b.max_probe_latency) and math.isnan(b.probe_p95())
    assert b.loop == (None, 0) and b.waves() == 0
