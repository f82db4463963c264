"""What an exercise's scenario works with while the submission is serving.

A :class:`Session` wraps one run: it sends requests from outside, keeps the open-loop
loop probe going from the first request to the last, reads the dependency servers'
figures, and finally freezes everything into :class:`Figures`, the record the checks
judge.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder import load
from autograder.load import OpenLoopProbe, Request, Response
from autograder.runner import Run
from autograder.serve import PROBE_PATH

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Figures:
    """Everything a scenario measured, from outside the submission's process.

    ``requests`` is the main burst; ``waited`` how long the grader waited for it (it
    stops early once a limit is already missed). ``loop_lag`` is the worst latency of
    the open-loop probe, in seconds. ``extra`` holds the exercise's own figures.
    """

    requests: tuple[Response, ...] = ()
    waited: float = 0.0
    loop_lag: float | None = None
    probes: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    alive: bool = True
    began: float = 0.0

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
            out["timeline"] = [
                {
                    "start_ms": round((r.start - t0) * 1000, 1),
                    "end_ms": None if r.end is None or r.error else round((r.end - t0) * 1000, 1),
                    "status": r.status,
                }
                for r in self.requests
            ]
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
        assert run.deps is not None
        self.deps = run.deps
        self._probe = OpenLoopProbe(HOST, self.port, PROBE_PATH)
        self._since = time.monotonic()
        self.began = self._since  # the first request the scenario sends
        self.prepared: Any = None  # what the exercise's ``prepare`` computed

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

    def probe(self, path: str) -> OpenLoopProbe:
        """A second open-loop probe (e.g. on the app's own /health); caller starts/stops it."""
        return OpenLoopProbe(HOST, self.port, path)

    # -- the loop probe, from the first request to the last -----------------------------
    def start_loop_probe(self) -> None:
        self._since = time.monotonic()
        self._probe.start()

    async def stop_loop_probe(self) -> tuple[float | None, int]:
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

        ``reset_deps`` forgets what the warm-up did to the dependency servers' figures.
        Returns the burst's responses and the loop probe's (worst lag, probes counted).
        """
        self.start_loop_probe()
        await self.send(warm_up)
        if reset_deps:
            await self.reset_deps()
        responses = await self.burst(requests, give_up_after=give_up_after)
        return responses, await self.stop_loop_probe()

    async def upstream_peak(self) -> int:
        """The most requests the upstream had in flight at once since the last reset."""
        return (await self.deps_stats())["upstream"]["peak"]

    # -- dependency servers and files -----------------------------------------------------
    async def deps_stats(self) -> dict[str, Any]:
        return await self.deps.stats()

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
    ) -> Figures:
        return Figures(
            requests=tuple(requests),
            waited=waited,
            loop_lag=loop[0],
            probes=loop[1],
            extra=dict(extra or {}),
            alive=self.run.app_alive(),
            began=self.began,
        )
