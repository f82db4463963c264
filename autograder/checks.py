"""Checks: pure functions from measured figures to a pass/fail with a message.

Each message says what was measured against what limit, so a student knows what to
look at without reading the grader. Nothing here touches a process or a clock; the
judges (``autograder/judges/``) call these on the figures their scenario measured, and the unit tests call
them on synthetic figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from autograder.load import Response


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "message": self.message}


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); no interpolation between samples."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def not_measured(name: str, why: str) -> Check:
    return Check(name, False, f"not measured: {why}")


def all_finished_within(
    name: str, responses: Sequence[Response], limit: float, *, waited: float, what: str
) -> Check:
    """The whole burst (sent at once) answered within ``limit`` seconds of its start."""
    n = len(responses)
    answered = [r for r in responses if r.done]
    if not answered:
        return Check(
            name,
            False,
            f"none of the {n} {what} had been answered after {_s(waited)} (limit {_s(limit)} for all {n})",
        )
    if len(answered) < n:
        return Check(
            name,
            False,
            f"only {len(answered)} of {n} {what} had been answered after {_s(waited)} "
            f"(limit {_s(limit)} for all {n}): they were served one after another, not at once",
        )
    total = max(r.end for r in answered if r.end is not None) - min(r.start for r in responses)
    ok = total < limit
    return Check(
        name,
        ok,
        f"{n} concurrent {what} finished in {_s(total)} in all "
        f"({'under' if ok else 'over'} the {_s(limit)} limit)",
    )


def each_answered_within(
    name: str, responses: Sequence[Response], limit: float, *, what: str
) -> Check:
    n = len(responses)
    late = [r for r in responses if not r.done or (r.latency or 0) >= limit]
    if late:
        worst = max((r.latency for r in responses if r.done and r.latency), default=None)
        unanswered = sum(1 for r in responses if not r.done)
        detail = f"{len(late)} of {n} {what} took {_s(limit)} or more"
        if unanswered:
            detail += f" ({unanswered} never answered in time)"
        if worst is not None:
            detail += f"; the slowest answered one took {_s(worst)}"
        return Check(name, False, detail + f" (limit {_s(limit)} each)")
    worst = max(r.latency or 0 for r in responses)
    return Check(
        name, True, f"each of {n} {what} answered in under {_s(limit)} (slowest {_s(worst)})"
    )


def each_took_at_least(name: str, responses: Sequence[Response], minimum: float) -> Check:
    answered = [r for r in responses if r.done and r.latency is not None]
    if not answered:
        return not_measured(name, "no response arrived")
    fastest = min(r.latency for r in answered if r.latency is not None)
    ok = fastest >= minimum
    return Check(
        name,
        ok,
        f"the fastest response took {_s(fastest)} "
        + (
            f"(at least {_s(minimum)}: the work still takes its time)"
            if ok
            else f"(must be at least {_s(minimum)}: the simulated work was skipped)"
        ),
    )


def bodies_match(
    name: str,
    responses: Sequence[Response],
    expected: Callable[[Response], tuple[int, Any]],
    *,
    what: str,
) -> Check:
    """Every answered response has the expected status and JSON body."""
    answered = [r for r in responses if r.done]
    if not answered:
        return not_measured(name, f"none of the {what} was answered")
    for r in answered:
        status, body = expected(r)
        if r.status != status or r.json() != body:
            got = r.body[:200].decode(errors="replace")
            return Check(
                name,
                False,
                f"{r.request.method} {r.request.path} answered {r.status} {got}; "
                f"expected {status} {body}",
            )
    skipped = len(responses) - len(answered)
    tail = f" ({skipped} unanswered ones not checked)" if skipped else ""
    return Check(name, True, f"all {len(answered)} answered {what} were correct{tail}")


def at_least(name: str, value: float, minimum: float, *, message: str) -> Check:
    """``message`` is formatted with ``value`` and ``minimum``."""
    return Check(name, value >= minimum, message.format(value=value, minimum=minimum))


def loop_lag_under(name: str, lag: float | None, limit: float, *, probes: int) -> Check:
    if lag is None or probes == 0:
        return not_measured(name, "no loop probe was sent")
    ok = lag <= limit
    return Check(
        name,
        ok,
        f"the event loop was blocked for up to {_ms(lag)} "
        f"({'within' if ok else 'over'} the {_ms(limit)} limit; {probes} probes sent every 20 ms "
        "from the first request to the last)",
    )


def p95_under(
    name: str, latencies: Sequence[float], limit: float, *, min_count: int, what: str
) -> Check:
    if len(latencies) < min_count:
        return not_measured(name, f"only {len(latencies)} {what} probes (need {min_count})")
    p95 = percentile(latencies, 95)
    ok = p95 < limit
    return Check(
        name,
        ok,
        f"{what} answered in {_ms(p95)} at the 95th percentile over {len(latencies)} probes "
        f"sent every 20 ms while the work was in flight ({'under' if ok else 'over'} the "
        f"{_ms(limit)} limit; worst {_ms(max(latencies))})",
    )
