"""Measure one route: a request alone, then a burst, the loop probe running throughout.

A route that answers ``text/event-stream`` (declared so in the OpenAPI schema, or seen in
the head of its first answer) is measured as streams (:mod:`autograder.scan.stream`): one
alone, then a burst held open together; the latency the verdicts read is the time to the
first event, and no stream is waited to its end. A WebSocket route
(:mod:`autograder.scan.websocket`) is measured alike: connections to their first message,
a burst held open together, all closed.

Everything that decides a verdict is taken here, outside the app: the client's
timestamps and statuses, the open-loop probe's latency and the app process's CPU time
(the kernel's accounting, read with psutil). From the harness's report (inside the app)
come only the explanations: the line that held the loop and the thread tokens in use.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psutil

from autograder.harness.app import PROBE_PATH, WEBSOCKETS_PATH, exception_line
from autograder.measure import load
from autograder.measure.load import Request, Response
from autograder.measure.session import Session
from autograder.run import runner
from autograder.run.deaths import death_message
from autograder.run.handles import Run
from autograder.scan import stream
from autograder.scan import websocket as ws_route
from autograder.scan.classify import LATE_PROBE, Summary

MIN_BUDGET = 1.5  # s a burst may take before the verdict counts as settled
MAX_BUDGET = 8.0
SETTLE = 0.02  # s: the harness notes a change of thread tokens within 5 ms


@dataclass
class Measured:
    """One route's raw figures, and the summary the verdict is read from."""

    summary: Summary
    alone: list[Response]
    burst: list[Response]
    probes: list[Response]
    burst_started: float | None
    began: float
    ended: float
    waited: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    probes_stopped: float | None = None  # a probe unanswered by then waited at least until then
    stream: dict[str, Any] | None = None  # an event stream: how it was seen, what it sent
    websocket: dict[str, Any] | None = None  # a WebSocket route: what its connections got

    @property
    def left_work_behind(self) -> bool:
        """Requests the client gave up on may still run in the app: measure the next
        route on a fresh one."""
        unanswered = any(r.end is None for r in self.burst)
        return unanswered or self.summary.alone is None or self.summary.died is not None


def _cpu_seconds(run: Run) -> float | None:
    total = 0.0
    found = False
    for p in runner.host_app_processes(run):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
            found = True
    return total if found else None


def budget(alone: float, n: int) -> float:
    """How long a burst may run: enough for a route that serves the burst together (a few
    times its latency), bounded so a queue shows its shape without being waited out."""
    return min(max(MIN_BUDGET, 3 * alone + 1.0), MAX_BUDGET)


async def measure(
    session: Session,
    request: Request,
    *,
    n: int,
    hang_after: float,
    declared_stream: bool = False,
    websocket: bool = False,
) -> Measured:
    run = session.run
    if websocket:
        await ws_route.warm_up(session.port, WEBSOCKETS_PATH)
    probe = session.probe(PROBE_PATH)
    began = time.monotonic()
    probe.start()
    alone: list[Response] = []
    burst: list[Response] = []
    burst_started = None
    cpu_busy = None
    waited = 0.0
    streamed: dict[str, Any] | None = None
    ws: dict[str, Any] | None = {"speaks_first": None} if websocket else None
    first_within = min(hang_after, ws_route.FIRST_WITHIN)
    greet_after = ws_route.SPEAKS_FIRST
    try:
        opener = stream.open_stream if declared_stream else stream.first
        for _ in range(2):
            got: Response | stream.Client
            if ws is not None:
                conn = await ws_route.alone(
                    session.port,
                    request,
                    greet_unless_within=greet_after,
                    first_within=first_within,
                )
                if ws["speaks_first"] is None and conn.stream.opened is not None:
                    ws["speaks_first"] = conn.stream.said is None and bool(conn.stream.times)
                    greet_after = ws_route.SPEAKS_FIRST if ws["speaks_first"] else 0.0
                ws.setdefault("connect_ms", []).append(_since(conn.stream.opened, conn.response))
                got = conn.response
            else:
                got = await opener(session.port, request, wait_at_most=hang_after)
            if isinstance(got, stream.Client):
                if streamed is None:
                    streamed = {"seen": "OpenAPI schema" if declared_stream else "response head"}
                await stream.hold(got, first_within=hang_after, then=stream.ALONE_HOLD)
                got = got.response
            alone.append(got)
            if not got.done or (got.status or 0) >= 500 or not run.app_alive():
                break
        done = [r for r in alone if r.done]
        best = min((r.latency for r in done if r.latency is not None), default=None)
        if best is not None and len(done) == len(alone) and (alone[-1].status or 0) < 500:
            waited = budget(best, n)
            cpu0 = _cpu_seconds(run)
            burst_started = time.monotonic()
            if ws is not None:
                burst, together = await ws_route.burst(
                    session.port,
                    request,
                    n,
                    greet_unless_within=greet_after,
                    first_within=min(waited, first_within),
                )
                ws.update(
                    connections=together.connections,
                    messages=together.messages,
                    ended=together.ended,
                    held=together.held,
                )
            elif streamed is not None:
                burst, held = await stream.burst(session.port, request, n, first_within=waited)
                streamed.update(
                    streams=held.streams, events=held.events, ended=held.ended, held=held.held
                )
            else:
                burst = await session.burst([request] * n, give_up_after=waited)
            wall = time.monotonic() - burst_started
            cpu1 = _cpu_seconds(run)
            if cpu0 is not None and cpu1 is not None and wall > 0:
                cpu_busy = (cpu1 - cpu0) / wall
    finally:
        until = time.monotonic()
        records = await probe.stop()
    ended = time.monotonic()
    lags = load.probe_latencies(records, since=began, until=until, cut_off=probe.stopped_at)
    summary = _summarise(
        run, alone, burst, burst_started, waited, lags, cpu_busy, (began, ended), hang_after
    )
    statuses = Counter(str(r.status) for r in burst if r.status is not None)
    return Measured(
        summary,
        alone,
        burst,
        records,
        burst_started,
        began,
        ended,
        waited,
        dict(statuses),
        probes_stopped=probe.stopped_at,
        stream=streamed,
        websocket=ws,
    )


def _since(t: float | None, response: Response) -> float | None:
    return None if t is None else t - response.start


def _summarise(
    run: Run,
    alone: list[Response],
    burst: list[Response],
    burst_started: float | None,
    waited: float,
    lags: list[float],
    cpu_busy: float | None,
    window: tuple[float, float],
    hang_after: float,
) -> Summary:
    done = [r for r in alone if r.done]
    best = min((r.latency for r in done if r.latency is not None), default=None)
    last = alone[-1] if alone else None
    alone_error = None
    if last is not None and not last.done:
        alone_error = last.error or f"no answer within {hang_after:.0f} s"
        best = None
    died = None
    if not run.app_alive():
        assert run.app_process is not None
        code = run.app_process.returncode or 0
        died = death_message(run, code, before_ready=False)
    answered = [r for r in burst if r.done]
    latencies = [r.latency for r in answered if r.latency is not None]
    unanswered = len(burst) - len(answered)
    max_latency = None
    parallelism = None
    if burst:
        max_latency = max([*latencies, waited if unanswered else 0.0])
        if answered and best is not None and burst_started is not None:
            span = max(r.end for r in answered if r.end is not None) - burst_started
            parallelism = min(len(answered) * best / span, float(len(burst))) if span > 0 else None
    report = run.report()
    tokens = tokens_in_window(report, *window)
    return Summary(
        alone=best,
        alone_status=last.status if last is not None else None,
        alone_error=alone_error,
        sent=len(burst),
        answered=len(answered),
        server_errors=sum(1 for r in answered if (r.status or 0) >= 500),
        dropped=sum(1 for r in burst if r.end is not None and r.error is not None),
        max_latency=max_latency,
        parallelism=parallelism,
        loop_lag=max(lags) if lags else None,
        late_probes=sum(1 for x in lags if x >= LATE_PROBE),
        cpu_busy=cpu_busy,
        died=died,
        tokens_peak=tokens[0],
        tokens_total=tokens[1],
        logged_error=logged_error(report, *window),
    )


def logged_error(report: list[dict[str, Any]], since: float, until: float) -> str | None:
    """The exception of the last ERROR the app logged during the window (uvicorn logs an
    unhandled one with its traceback): what a 500 was."""
    errors = [
        r.get("exception") or exception_line(r["message"])
        for r in report
        if r.get("kind") == "log" and r.get("levelno", 0) >= 40 and since <= r["t"] <= until
    ]
    return errors[-1] if errors else None


def tokens_in_window(
    report: list[dict[str, Any]], since: float, until: float
) -> tuple[int | None, int | None]:
    """The most thread tokens in use during the window, and the limiter's total.

    The harness writes a record when the count changes (checked every 5 ms), so the
    count at the window's start is the last record before ``since + SETTLE``: tokens the
    previous route released just before this one began are not counted here."""
    settle = since + SETTLE
    peak: int | None = None
    total: int | None = None
    for r in report:
        if r.get("kind") != "tokens":
            continue
        t = r.get("t", 0.0)
        if t <= settle:
            peak = int(r.get("borrowed", 0))  # the latest so far: the count at the start
        elif t <= until:
            peak = max(peak or 0, int(r.get("borrowed", 0)))
        else:
            break
        total = int(r.get("total", 0)) or total
    return peak, total
