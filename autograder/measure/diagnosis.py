"""Which line blocked the event loop: read from the watchdog's stack samples.

The harness's watchdog samples the loop thread's stack every 10 ms while the loop is
stalled for more than 50 ms (``lag.py``). A blocking call sits in one frame for the whole
stall, so a line is named only when most samples of a stall agree on it. A stall made
of GIL contention or many short callbacks spreads its samples (or shows the loop's own
machinery), and gets a description instead of a line that would blame a harmless
``await asyncio.to_thread(...)``.
"""

from __future__ import annotations

import io
import os
import tokenize
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

AGREEMENT = 0.6


@dataclass(frozen=True)
class Stall:
    duration: float
    samples: tuple[tuple[int | None, str | None, str | None], ...]  # (line, func, innermost)

    def agreed_line(self) -> tuple[int, str] | None:
        lines = Counter((s[0], s[1]) for s in self.samples if s[0] is not None)
        if not lines or not self.samples:
            return None
        (line, func), count = lines.most_common(1)[0]
        if count / len(self.samples) >= AGREEMENT and line is not None and func is not None:
            return line, func
        return None


def stalls(report: Iterable[dict[str, Any]], *, since: float = 0.0) -> list[Stall]:
    """Group the watchdog's samples into stalls, keeping those taken after ``since``."""
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in report:
        if r.get("kind") == "stall_sample" and r["t"] >= since:
            grouped[r["stall"]].append(r)
    out = []
    for samples in grouped.values():
        duration = max(s["t"] for s in samples) - min(s["since"] for s in samples)
        out.append(
            Stall(
                duration, tuple((s.get("line"), s.get("func"), s.get("innermost")) for s in samples)
            )
        )
    return out


def source_line(path: str, line: int) -> str:
    """The code on that line, without a trailing comment; "" if there is no such line.

    Read from the file as saved now, never from a cache: a notebook's kernel grades the
    learner's file again after each edit, and ``linecache`` would keep the first version.
    """
    try:
        with tokenize.open(path) as f:  # honours a coding declaration, as Python does
            lines = f.read().splitlines()
    except (OSError, SyntaxError, UnicodeDecodeError):
        return ""
    text = lines[line - 1].strip() if 1 <= line <= len(lines) else ""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            return text[: tok.start[1]].rstrip()
    return text


def diagnose(
    report: Iterable[dict[str, Any]],
    app_file: str,
    *,
    outside_lag: float | None,
    since: float = 0.0,
    limit: float = 0.2,
) -> str | None:
    """A diagnosis when the loop was blocked past ``limit`` (seen from outside or inside)
    after ``since`` (the grader's first request: start-up is not the student's request path)."""
    found = stalls(report, since=since)
    longest = max((s.duration for s in found), default=0.0)
    worst = max(outside_lag or 0.0, longest)
    if worst <= limit:
        return None
    # The line that held the loop longest, summed over the stalls that agree on it.
    blame: Counter[tuple[int, str]] = Counter()
    for s in found:
        agreed = s.agreed_line()
        if agreed is not None:
            blame[agreed] += s.duration  # type: ignore[assignment]
    name = os.path.basename(app_file)
    if blame:
        (line, func), _ = blame.most_common(1)[0]
        return f"{name}:{line} in {func}: {source_line(app_file, line)}"
    if found:
        where = Counter(s[2] for st in found for s in st.samples).most_common(1)[0][0]
        return (
            f"the event loop stalled for up to {worst * 1000:.0f} ms, but no single line of {name} "
            f"held it (the samples were spread out, mostly in {where}): GIL contention from worker "
            "threads or many short callbacks, not one blocking call"
        )
    return (
        f"the event loop was blocked for up to {worst * 1000:.0f} ms (seen from outside); "
        "no stack sample placed it in the submission"
    )
