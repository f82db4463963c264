"""What one burst measured, from outside the app: the record the grader, the notebooks and
the drills all get back from :meth:`autograder.measure.session.Session.measure_burst`.

A burst is ``n`` requests sent at once, optionally while an open-loop probe (every 20 ms,
whatever the previous probe is doing) measures how long a request to the probed path
waits: the loop probe (``"loop"``: the harness's own endpoint, answered by the event loop
alone) or one of the app's paths (``"/health"``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from autograder.harness.app import PROBE_PATH
from autograder.measure import load
from autograder.measure.load import Response, percentile

LOOP = "loop"  # the probe name of the harness's loop probe (``harness.app.PROBE_PATH``)


def probe_target(probe: str) -> str:
    """The path a probe name stands for: ``"loop"`` is the harness's loop probe."""
    return PROBE_PATH if probe == LOOP else probe


def timeline_bars(responses: Sequence[Response], *, digits: int = 1) -> list[dict[str, Any]]:
    """Requests as timeline bars (the ``timeline`` of a verdict's metrics): start and end in
    ms since the first request was sent; ``end_ms`` is None for an unanswered request."""
    if not responses:
        return []
    t0 = min(r.start for r in responses)
    return [
        {
            "start_ms": round((r.start - t0) * 1000, digits),
            "end_ms": None if r.end is None or r.error else round((r.end - t0) * 1000, digits),
            "status": r.status,
        }
        for r in responses
    ]


@dataclass
class Burst:
    """A burst's requests and the probes sent meanwhile (``time.monotonic()`` seconds).

    ``started``: the burst's first request; ``finished``: its last answer (or when the
    grader stopped waiting, or ``probe_for`` later). Probes sent in ``[probe_since,
    finished]`` count (``probe_since`` defaults to ``started``; the grader's loop probe
    starts before a warm-up request); a probe still unanswered when the probe stopped
    (``probe_cut_off``, default ``finished``) counts as having waited until then.
    """

    responses: list[Response]
    probes: list[Response] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    probe_path: str | None = None  # what was probed: "loop", a path, or None
    probe_since: float | None = None
    probe_cut_off: float | None = None
    warm_up: Response | None = None  # sent alone, before the burst, on an idle loop

    @property
    def answered(self) -> list[Response]:
        return [r for r in self.responses if r.done]

    @property
    def latencies(self) -> list[float]:
        return [r.latency for r in self.answered if r.latency is not None]

    @property
    def total(self) -> float:
        """Seconds from the first request sent to the last answer received."""
        ends = [r.end for r in self.answered if r.end is not None]
        return (max(ends) - self.started) if ends else math.nan

    @property
    def slowest(self) -> float:
        return max(self.latencies, default=math.nan)

    @property
    def probe_latencies(self) -> list[float]:
        return load.probe_latencies(
            self.probes,
            since=self.started if self.probe_since is None else self.probe_since,
            until=self.finished,
            cut_off=self.finished if self.probe_cut_off is None else self.probe_cut_off,
        )

    @property
    def max_probe_latency(self) -> float:
        return max(self.probe_latencies, default=math.nan)

    @property
    def loop(self) -> tuple[float | None, int]:
        """(worst probe latency or None, probes counted): what the grader's checks read."""
        lat = self.probe_latencies
        return (max(lat) if lat else None), len(lat)

    def probe_p95(self) -> float:
        lat = self.probe_latencies
        return percentile(lat, 95) if lat else math.nan

    def waves(self, gap: float = 0.1) -> int:
        """Groups of answers separated by more than ``gap`` seconds (a limiter's waves)."""
        ends = sorted(r.end for r in self.answered if r.end is not None)
        return (
            0
            if not ends
            else 1 + sum(1 for a, b in zip(ends, ends[1:], strict=False) if b - a > gap)
        )
