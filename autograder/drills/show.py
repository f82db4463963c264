"""What a drill shows after the measurement: a text timeline for a terminal, the
course's matplotlib pictures for a notebook (both from the same ``Burst``)."""

from __future__ import annotations

from autograder.lab.plots import burst_figure
from autograder.measure.burst import Burst

BAR = "█"


def text_timeline(burst: Burst, *, width: int = 50, rows: int = 16) -> str:
    """One row per request (sorted by finish, thinned to ``rows``), start to end.

    Requests served together stack up as equal bars; served one after another, they
    form a staircase; a thread limiter makes blocks.
    """
    done = sorted(
        (r for r in burst.responses if r.end is not None and r.error is None),
        key=lambda r: (r.end, r.start),
    )
    if not done:
        return "  (no request was answered)"
    t0 = min(r.start for r in burst.responses)
    horizon = max(r.end for r in done if r.end is not None) - t0
    if len(done) > rows:  # keep the first and the last, evenly spaced in between
        done = [done[round(i * (len(done) - 1) / (rows - 1))] for i in range(rows)]
    scale = width / horizon if horizon > 0 else 0.0
    lines = []
    for r in done:
        assert r.end is not None
        a = int((r.start - t0) * scale)
        b = max(int((r.end - t0) * scale), a + 1)
        lines.append(f"  {' ' * a}{BAR * (b - a)}{' ' * (width - b)} {r.end - r.start:5.2f} s")
    lines.append(f"  0 s{' ' * (width - 8)}{horizon:5.2f} s")
    return "\n".join(lines)


# A drill's picture is the course's one burst figure (timeline over probe latency).
figure = burst_figure
