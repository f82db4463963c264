"""What a predict drill measures: one figure from a served snippet, taken from outside.

Each function here builds a drill's ``measure``: given a :class:`autograder.lab.LabApp`
(the snippet serving in its own process, beside the dependency servers), it sends the
load and reads one figure: the total time, the slowest request, the upstream's peak in
flight, a ``/health`` percentile, the cores the process kept busy (from the OS), or the
lines background tasks wrote (also after a signal ended the app), or how many answers
had a given status. :mod:`autograder.drills.measures_upstream` reads figures only an
upstream has. Notes beside the figure say what else was seen.
"""

from __future__ import annotations

import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

from autograder.drills.scoring import Value
from autograder.lab import Burst, LabApp


@dataclass
class Measurement:
    """What the drill measured: the figure to score, and what to show beside it."""

    value: Value
    burst: Burst | None = None
    notes: dict[str, str] = field(default_factory=dict)


Measure = Callable[[LabApp], Measurement]


def _ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def _burst(app: LabApp, method: str, path: str | list[str], n: int | None, probe: str) -> Burst:
    app.request(method, path if isinstance(path, str) else path[0])  # warm-up: first-call costs
    app.reset_stats()
    return app.burst(method, path, n, probe=probe)


def timing_notes(b: Burst) -> dict[str, str]:
    """What a burst looked like from outside, to show beside any figure."""
    lat = b.latencies
    statuses = sorted({r.status for r in b.answered if r.status is not None})
    notes = {
        "answered": f"{len(b.answered)} of {len(b.responses)}",
        "statuses": ", ".join(map(str, statuses)) or "none",
        "total time": f"{b.total:.2f} s",
        "fastest / slowest request": f"{min(lat, default=math.nan):.2f} s / {b.slowest:.2f} s",
        "waves of answers": str(b.waves()),
    }
    if b.probes:
        notes["probe p95 / worst"] = f"{_ms(b.probe_p95())} / {_ms(b.max_probe_latency)}"
    return notes


def total_time(method: str, path: str, n: int, probe: str = "loop") -> Measure:
    def measure(app: LabApp) -> Measurement:
        b = _burst(app, method, path, n, probe)
        return Measurement(b.total, b, timing_notes(b))

    return measure


def slowest_request(method: str, path: str, n: int) -> Measure:
    def measure(app: LabApp) -> Measurement:
        b = _burst(app, method, path, n, "loop")
        return Measurement(b.slowest, b, timing_notes(b))

    return measure


def upstream_peak(n: int, figure: str = "peak") -> Measure:
    """``n`` requests at ``/items/1..n``; the upstream's peak in flight (or the total time)."""

    def measure(app: LabApp) -> Measurement:
        b = _burst(app, "GET", [f"/items/{i}" for i in range(1, n + 1)], None, "loop")
        peak = app.stats()["upstream"]["peak"]
        notes = {"upstream peak in flight": str(peak), **timing_notes(b)}
        return Measurement(float(peak) if figure == "peak" else b.total, b, notes)

    return measure


def weather_peak(n: int) -> Measure:
    def measure(app: LabApp) -> Measurement:
        b = _burst(app, "GET", [f"/weather/city{i}" for i in range(n)], None, "loop")
        peak = app.stats()["upstream"]["peak"]
        return Measurement(
            float(peak), b, {"upstream peak in flight": str(peak), **timing_notes(b)}
        )

    return measure


def health_under(method: str, path: str, n: int, figure: str) -> Measure:
    """``n`` requests at once while ``/health`` is probed every 20 ms; ``figure`` is
    ``p95`` or ``worst`` (of /health) or ``total`` (of the burst)."""

    def measure(app: LabApp) -> Measurement:
        app.request("GET", "/health")
        b = app.burst(method, path, n, probe="/health")
        value = {"p95": b.probe_p95(), "worst": b.max_probe_latency, "total": b.total}[figure]
        notes = {
            "/health p95 / worst": f"{_ms(b.probe_p95())} / {_ms(b.max_probe_latency)}",
            "/health probes": str(len(b.probe_latencies)),
            **timing_notes(b),
        }
        return Measurement(value, b, notes)

    return measure


def _cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def cores_busy(method: str, path: str, n: int) -> Measure:
    """``n`` requests at once; the app process's CPU seconds (read from the OS, outside the
    app) divided by the wall time of the burst: how many cores it kept busy on average."""

    def measure(app: LabApp) -> Measurement:
        app.request("GET", "/health")
        procs = app.processes()
        before = _cpu_seconds(procs)
        b = app.burst(method, path, n, probe="/health")
        cpu = _cpu_seconds(procs) - before
        wall = b.finished - b.started
        notes = {
            "CPU seconds used by the app": f"{cpu:.2f} s in {wall:.2f} s of wall time",
            "/health p95 / worst": f"{_ms(b.probe_p95())} / {_ms(b.max_probe_latency)}",
            **timing_notes(b),
        }
        busy = cpu / wall if procs and wall > 0 else math.nan
        return Measurement(busy, b, notes)

    return measure


def _audit(app: LabApp) -> list[str]:
    try:
        return app.run.audit_log.read_text().splitlines()
    except OSError:
        return []


def _errors_logged(app: LabApp) -> list[str]:
    return [
        r["message"] for r in app.inside() if r.get("kind") == "log" and r.get("levelno", 0) >= 40
    ]


def poll(done: Callable[[], bool], within: float) -> bool:
    """Poll a condition the app's own output will make true (files, log records)."""
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def task_lines(path: str, *, expected_lines: int) -> Measure:
    """One POST; then the lines its background tasks wrote to AUDIT_LOG, in order.

    Reading stops when ``expected_lines`` are there or when the app logged an error (an
    exception escaping the tasks ends the request: nothing of it runs after that).
    """

    def measure(app: LabApp) -> Measurement:
        r = app.request("POST", path)
        poll(lambda: len(_audit(app)) >= expected_lines or bool(_errors_logged(app)), 5.0)
        lines = tuple(_audit(app))
        errors = _errors_logged(app)
        after = app.request("POST", path)  # is the service still answering?
        notes = {
            "response": f"{r.status} after {_ms(r.latency or math.nan)} (before any task ran)",
            "AUDIT_LOG": " / ".join(lines) or "(empty)",
            "errors logged": "; ".join(e.splitlines()[0] for e in errors) or "none",
            "next request": f"{after.status}",
        }
        return Measurement(lines, None, notes)

    return measure


def answered_with(status: int, method: str, path: str, n: int, figure: str = "count") -> Measure:
    """``n`` requests at once at ``path/1..n``; how many answered ``status`` (or, with
    ``figure="total"``, the time until the last answer)."""

    def measure(app: LabApp) -> Measurement:
        b = _burst(app, method, [f"{path}/{i}" for i in range(1, n + 1)], None, "loop")
        count = sum(1 for r in b.answered if r.status == status)
        notes = {f"answered {status}": f"{count} of {n}", **timing_notes(b)}
        return Measurement(float(count) if figure == "count" else b.total, b, notes)

    return measure


def lines_after_signal(sig: signal.Signals, n: int, task_ms: int) -> Measure:
    """``n`` POST /receipts at once (each leaves a ``task_ms`` background task); as soon as
    all are answered, ``sig`` to the app's process; the lines in AUDIT_LOG once it exited.
    The app is gone afterwards: one measurement per serve."""

    def measure(app: LabApp) -> Measurement:
        b = app.burst("POST", [f"/receipts/{i}/{task_ms}" for i in range(n)])
        signalled = time.monotonic()
        code = app.kill(sig)
        lines = _audit(app)
        notes = {
            "exit status": str(code),
            "exited after the signal": _ms(time.monotonic() - signalled),
            "AUDIT_LOG": " / ".join(lines) or "(empty)",
            **timing_notes(b),
        }
        return Measurement(float(len(lines)), b, notes)

    return measure


def notifications_delivered(path: str, n: int, *, then: str, within: float) -> Measure:
    """``n`` POST ``path/ID`` at once (each queues a notification), then one POST ``then``;
    how many of the ``n`` lines reach AUDIT_LOG within ``within`` seconds."""

    def measure(app: LabApp) -> Measurement:
        base = len(_audit(app)) * 1000 + 1000  # ids no earlier measurement used
        ids = {str(base + i) for i in range(n)}
        b = app.burst("POST", [f"{path}/{i}" for i in sorted(ids)])
        after = app.request("POST", then)

        def delivered() -> int:
            return sum(1 for line in _audit(app) if line.rsplit(" ", 1)[-1] in ids)

        poll(lambda: delivered() >= n, within)
        errors = _errors_logged(app)
        notes = {
            f"POST {then}": str(after.status),
            "errors logged": f"{len(errors)}"
            + (f" (first: {errors[0].splitlines()[0]})" if errors else ""),
            **timing_notes(b),
        }
        return Measurement(float(delivered()), b, notes)

    return measure
