"""The measuring engine: what a scenario, a notebook or a drill works with while an app serves.

A :class:`Session` wraps one run (``runner.running``): it sends requests from outside,
sends bursts while an open-loop probe measures how long a request waits
(:meth:`Session.measure_burst`, returning a :class:`~autograder.measure.burst.Burst`), reads the
dependency servers' figures and what the harness saw inside the app (the diagnosis). The
grader's scenarios freeze what they measured into :class:`Figures`, the record the checks
judge; ``lab/blocking.py`` is a blocking face over the same session for notebooks and drills.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder.measure import load
from autograder.measure.burst import LOOP, Burst, probe_target, timeline_bars
from autograder.measure.diagnosis import diagnose
from autograder.measure.load import HOST, OpenLoopProbe, Request, Response
from autograder.run.handles import DepServers, Run

PROBE_EVERY = 0.02


@dataclass(frozen=True)
class Figures:
    """Everything a scenario measured, from outside the submission's process.

    ``requests`` is the main burst; ``waited`` how long the grader waited for it (it
    stops early once a limit is already missed). ``loop_lag`` is the worst latency of
    the open-loop probe, in seconds. ``extra`` holds the exercise's own figures (keys
    starting with ``_`` stay out of the JSON).
    """

    requests: tuple[Response, ...] = ()
    waited: float = 0.0
    loop_lag: float | None = None
    probes: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    alive: bool = True
    began: float = 0.0
    # A request sent alone on an idle loop (the warm-up): what the endpoint itself takes,
    # whatever other requests or leftover background work did to the burst's latencies.
    alone: Response | None = None

    def metrics(self) -> dict[str, Any]:
        """The JSON ``metrics`` object: the figures, in milliseconds, plus the timeline."""
        out: dict[str, Any] = {}
        if self.requests:
            t0 = min(r.start for r in self.requests)
            done = [r for r in self.requests if r.done and r.latency is not None]
            lat = sorted(r.latency for r in done if r.latency is not None)
            out["requests"] = len(self.requests)
            out["answered"] = len(done)
            out["waited_ms"] = round(self.waited * 1000, 1)
            if lat:
                out["latency_ms"] = {
                    "min": round(lat[0] * 1000, 1),
                    "median": round(lat[len(lat) // 2] * 1000, 1),
                    "max": round(lat[-1] * 1000, 1),
                }
                out["total_ms"] = round((max(r.end for r in done if r.end) - t0) * 1000, 1)
            out["timeline"] = timeline_bars(self.requests)
        if self.loop_lag is not None:
            out["max_loop_lag_ms"] = round(self.loop_lag * 1000, 1)
            out["loop_probes"] = self.probes
        for key, value in self.extra.items():
            if not key.startswith("_"):
                out[key] = value
        return out


class Session:
    def __init__(self, run: Run) -> None:
        self.run = run
        self.port = run.app_port
        self._probe = OpenLoopProbe(HOST, self.port, probe_target(LOOP))
        self._since = time.monotonic()
        self.began = self._since  # the first request the scenario sends
        self.prepared: Any = None  # what the exercise's ``prepare`` computed
        self.beside: Any = None  # the server the grader started beside the run, if any
        self._app_procs: list[Any] = []

    # -- requests ---------------------------------------------------------------------
    async def send(self, request: Request, *, wait_at_most: float = 10.0) -> Response:
        return await load.send(HOST, self.port, request, wait_at_most=wait_at_most)

    async def burst(self, requests: Sequence[Request], *, give_up_after: float) -> list[Response]:
        return await load.burst(HOST, self.port, requests, give_up_after=give_up_after)

    async def staggered(
        self, requests: Sequence[Request], *, interval: float, give_up_after: float
    ) -> list[Response]:
        return await load.staggered(
            HOST, self.port, requests, interval=interval, give_up_after=give_up_after
        )

    def probe(self, path: str, *, interval: float = PROBE_EVERY) -> OpenLoopProbe:
        """An open-loop probe on ``path`` (``"loop"``: the loop probe); caller starts/stops it."""
        return OpenLoopProbe(HOST, self.port, probe_target(path), interval=interval)

    async def measure_burst(
        self,
        requests: Sequence[Request],
        *,
        give_up_after: float,
        probe: str | None = None,
        probe_every: float = PROBE_EVERY,
        probe_for: float = 0.0,
        warm_up: Request | None = None,
        reset_deps: bool = False,
        every: float = 0.0,
    ) -> Burst:
        """Send ``requests`` at once (or one every ``every`` seconds, open loop) and wait
        for them (at most ``give_up_after`` s).

        ``probe`` (``"loop"`` or a path like ``"/health"``) is probed open-loop from before
        the ``warm_up`` request (if any) until the last answer, or until ``probe_for``
        seconds after the first request if that is later (to watch what the app does
        after answering, e.g. its background tasks). ``reset_deps`` forgets what the
        warm-up did to the dependency servers' figures.
        """
        prober = self.probe(probe, interval=probe_every) if probe else None
        if prober is not None:
            prober.start()
        since = time.monotonic()
        alone = await self.send(warm_up) if warm_up is not None else None
        if reset_deps:
            await self.reset_deps()
        started = time.monotonic()
        if every > 0:
            responses = await self.staggered(requests, interval=every, give_up_after=give_up_after)
        else:
            responses = await self.burst(requests, give_up_after=give_up_after)
        if prober is not None and probe_for > 0:
            await asyncio.sleep(max(started + probe_for - time.monotonic(), 0.0))
        finished = time.monotonic()
        probes = await prober.stop() if prober is not None else []
        return Burst(
            responses,
            probes,
            started,
            finished,
            probe_path=probe,
            probe_since=since if warm_up is not None else started,
            probe_cut_off=prober.stopped_at if prober is not None else None,
            warm_up=alone,
        )

    # -- the loop probe, from the first request to the last -----------------------------
    def start_loop_probe(self) -> None:
        self._since = time.monotonic()
        self._probe.start()

    async def stop_loop_probe(self) -> tuple[float | None, int]:
        """The loop probe's (worst latency, probes counted) since :meth:`start_loop_probe`."""
        until = time.monotonic()
        probes = await self._probe.stop()
        lat = load.probe_latencies(
            probes, since=self._since, until=until, cut_off=self._probe.stopped_at
        )
        return (max(lat) if lat else None), len(lat)

    async def probed_burst(
        self,
        warm_up: Request,
        requests: Sequence[Request],
        *,
        give_up_after: float,
        reset_deps: bool = False,
    ) -> tuple[list[Response], tuple[float | None, int]]:
        """The common scenario: the loop probe from the warm-up request on, then the burst.

        Returns the burst's responses and the loop probe's (worst lag, probes counted).
        """
        burst = await self.measure_burst(
            requests,
            give_up_after=give_up_after,
            probe=LOOP,
            warm_up=warm_up,
            reset_deps=reset_deps,
        )
        return burst.responses, burst.loop

    # -- the submission's memory, read from outside ------------------------------------------
    def app_memory(self) -> int | None:
        """The submission's resident memory in bytes: the RSS of its process (and of what it
        started), read from ``/proc`` outside the sandbox; None when it is gone."""
        import psutil

        from autograder.run.runner import host_app_processes

        if not self._app_procs:
            self._app_procs = host_app_processes(self.run)
        total, seen = 0, False
        for proc in self._app_procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
                seen = True
        return total if seen else None

    # -- dependency servers and files -----------------------------------------------------
    @property
    def deps(self) -> DepServers:
        assert self.run.deps is not None, "this run has no dependency servers"
        return self.run.deps

    async def deps_stats(self) -> dict[str, Any]:
        return await self.deps.stats()

    async def upstream_peak(self) -> int:
        """The most requests the upstream had in flight at once since the last reset."""
        peak: int = (await self.deps_stats())["upstream"]["peak"]
        return peak

    async def reset_deps(self) -> None:
        await self.deps.command("reset")

    async def refuse_smtp(self) -> None:
        await self.deps.command("smtp_refuse")

    def audit_lines(self) -> list[str]:
        with contextlib.suppress(OSError):
            return self.run.audit_log.read_text(errors="replace").splitlines()
        return []

    def log_records(self, min_level: int) -> list[dict[str, Any]]:
        """Log records the submission emitted (captured by the harness)."""
        return [
            r
            for r in self.run.report()
            if r.get("kind") == "log" and r.get("levelno", 0) >= min_level
        ]

    def diagnosis(self, *, outside_lag: float | None = None, since: float = 0.0) -> str | None:
        """Which line of the app held the loop (``file:line``), from the harness's stack
        samples taken after ``since``; explains a verdict, never decides one."""
        return diagnose(
            self.run.report(), str(self.run.app_file), outside_lag=outside_lag, since=since
        )

    async def wait_until(
        self, condition: Callable[[], Awaitable[bool]], *, wait_at_most: float, every: float = 0.05
    ) -> bool:
        """Poll ``condition`` until it holds or ``wait_at_most`` passes; stop early if the app died."""
        deadline = time.monotonic() + wait_at_most
        while True:
            if await condition():
                return True
            if time.monotonic() >= deadline or not self.run.app_alive():
                return await condition()
            await asyncio.sleep(every)

    def figures(
        self,
        *,
        requests: Sequence[Response] = (),
        waited: float = 0.0,
        loop: tuple[float | None, int] = (None, 0),
        extra: Mapping[str, Any] | None = None,
        alone: Response | None = None,
    ) -> Figures:
        return Figures(
            alone=alone,
            requests=tuple(requests),
            waited=waited,
            loop_lag=loop[0],
            probes=loop[1],
            extra=dict(extra or {}),
            alive=self.run.app_alive(),
            began=self.began,
        )
