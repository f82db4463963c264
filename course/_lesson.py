"""What every course notebook needs around its lesson: a check that nothing is left
running, waiting for something another process does, and the figures too long to read
in a lesson cell.

The notebooks import these so that their own cells show the experiment and its claims,
not the harness.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psutil
from matplotlib.figure import Figure

from autograder import lab, plots
from autograder.lab import Burst

T = TypeVar("T")


class LeakCheck:
    """Notes the threads alive when created; :meth:`finish` closes the lab and asserts
    that no thread started since and no child process is still alive."""

    def __init__(self) -> None:
        self._threads_at_start = {t.ident for t in threading.enumerate()}

    def leftovers(self) -> tuple[list[str], list[psutil.Process]]:
        threads = [
            t.name
            for t in threading.enumerate()
            # pyzmq (the kernel's messaging) starts a helper thread of its own for large outputs
            if t.ident not in self._threads_at_start and not type(t).__module__.startswith("zmq")
        ]
        return threads, psutil.Process().children(recursive=True)

    def finish(self) -> None:
        lab.close()  # stops any app still served, then the lab's own loop thread
        threads, processes = self.leftovers()
        assert not threads and not processes, (
            f"left running: threads {threads}, child processes {processes}"
        )
        print("nothing left running: every server, thread and process this notebook started is gone")


def wait_until(condition: Callable[[], T], within: float = 10.0) -> T:
    """Poll ``condition`` every 20 ms until it returns something truthy (returned), or fail."""
    deadline = time.monotonic() + within
    while not (value := condition()):
        assert time.monotonic() < deadline, f"the condition never came true within {within} s"
        time.sleep(0.02)
    return value


def burst_figure(burst: Burst, title: str, *, probe_title: str = "/health latency") -> Figure:
    """A burst's request timeline above the latency of the probes sent meanwhile, on one
    time axis (ms since the burst's first request)."""
    return plots.burst_figure(
        burst.responses, burst.probes, title=title, started=burst.started, probe_title=probe_title
    )


def tasks_and_lag_figure(
    bars: Sequence[dict[str, Any]], lag: Sequence[tuple[float, float]], title: str
) -> Figure:
    """Tasks' bars (left) beside the loop-lag meter's samples taken meanwhile (right)."""
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    plots.timeline(bars, ax=left, title=title)
    left.set_xlabel("ms since the tasks were created")
    left.set_ylabel("task (sorted by finish)")
    plots.lag_samples(lag, ax=right, title="loop-lag meter (5 ms sampler)")
    right.set_xlabel("ms since the meter started")
    return fig


def limiter_figure(burst: Burst, limiter: dict[str, Any], title: str) -> Figure:
    """A burst's request timeline above the thread limiter's tokens in use (and threads
    alive), sampled inside the app every 5 ms, on one time axis.

    ``limiter`` is what the lab apps' ``GET /lab/limiter`` returns: ``total_tokens`` and a
    ``trace`` of ``(time, borrowed, threads)`` samples.
    """
    fig = Figure(figsize=(9, 6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    plots.timeline(burst.responses, ax=top, title=title)
    t0 = min(r.start for r in burst.responses)
    horizon = (max(r.end for r in burst.answered) - t0) * 1000 + 100
    trace = [s for s in limiter["trace"] if (s[0] - t0) * 1000 <= horizon]
    xs = [(t - t0) * 1000 for t, _, _ in trace]
    bottom.step(xs, [b for _, b, _ in trace], where="post", color=plots.OK_COLOUR,
                label="limiter tokens in use")
    bottom.step(xs, [th for _, _, th in trace], where="post", color="#888888",
                linewidth=1, label="threads alive")
    bottom.axhline(limiter["total_tokens"], color=plots.BAD_COLOUR, linestyle="--",
                   linewidth=1, label=f"total_tokens = {limiter['total_tokens']}")
    peak_threads = max((th for *_, th in trace), default=0)
    bottom.set_ylim(0, max(limiter["total_tokens"], peak_threads) * 1.15)
    bottom.set_ylabel("count")
    bottom.set_xlabel("time since the first request was sent (ms)")
    bottom.legend(loc="center right", fontsize="small")
    top.set_xlabel("")
    return fig
