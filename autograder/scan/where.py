"""Which line of the app held the event loop during one route's measurement.

The harness's watchdog samples the loop thread's stack every 10 ms while the loop is
stalled for more than 50 ms, noting the innermost frame in the app's own files
(``lag.py``). As in the grader's diagnosis, a line is named only when most samples of
a stall agree on it; the line that held the loop longest wins.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from autograder.measure.diagnosis import AGREEMENT, source_line
from autograder.scan.target import Target


def blocking_line(
    report: list[dict[str, Any]], target: Target, since: float, until: float
) -> tuple[str | None, str | None]:
    """(``file:line in function: source``, None), or (None, what the samples say instead)."""
    stalls: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in report:
        if r.get("kind") == "stall_sample" and since <= r.get("t", 0.0) <= until:
            stalls[r["stall"]].append(r)
    if not stalls:
        return None, (
            "no stack sample placed the stall in the app's files (a C extension holding "
            "the GIL, or stalls under 50 ms each)"
        )
    blame: dict[tuple[str, int, str], float] = {}
    for samples in stalls.values():
        spots: Counter[tuple[str, int, str]] = Counter(
            (str(s["file"]), int(s["line"]), str(s.get("func")))
            for s in samples
            if s.get("file") and s.get("line") is not None
        )
        if not spots:
            continue
        spot, count = spots.most_common(1)[0]
        if count / len(samples) >= AGREEMENT:
            duration = max(s["t"] for s in samples) - min(s["since"] for s in samples)
            blame[spot] = blame.get(spot, 0.0) + duration
    if blame:
        path, line, func = max(blame, key=lambda k: blame[k])
        return f"{target.relative(path)}:{line} in {func}: {source_line(path, line)}", None
    innermost = Counter(s.get("innermost") for ss in stalls.values() for s in ss)
    where = innermost.most_common(1)[0][0]
    return None, (
        f"no single line of the app held the loop (the samples were spread out, mostly in "
        f"{where}): GIL contention from worker threads or many short callbacks"
    )
