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

from autograder.measure.load import Response, percentile


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


def answered_before_the_work(alone: Response | None, minimum: float) -> bool:
    """A request sent alone, on an idle loop, got a 2xx answer sooner than the work takes:
    the endpoint answers first and leaves the work to run (or not) after the answer."""
    return (
        alone is not None
        and alone.done
        and alone.latency is not None
        and 200 <= (alone.status or 0) < 300
        and alone.latency < minimum
    )


def work_took_its_time(
    name: str,
    responses: Sequence[Response],
    minimum: float,
    *,
    alone: Response | None,
    work: str,
) -> Check:
    """The work still takes ``minimum`` seconds, judged on what the endpoint itself does.

    ``alone`` is a request sent alone on an idle loop: a burst's latencies also hold the
    time spent waiting behind other requests, or behind work left running by an earlier
    answer, so a fire-and-forget endpoint can look slow in a burst while doing nothing
    before it answers.
    """
    burst = each_took_at_least(name, responses, minimum)
    if not answered_before_the_work(alone, minimum):
        if alone is None or not burst.passed or not alone.done or alone.latency is None:
            return burst
        fastest = min(r.latency for r in responses if r.done and r.latency is not None)
        return Check(
            name,
            True,
            f"a request sent alone took {_s(alone.latency)}, the fastest of the burst "
            f"{_s(fastest)} (at least {_s(minimum)}: the work still takes its time)",
        )
    assert alone is not None and alone.latency is not None
    waited = ""
    if burst.passed:
        waited = (
            f"; the burst's requests took longer only because they waited behind the {work}s "
            "of earlier ones"
        )
    return Check(
        name,
        False,
        f"a request sent alone, on an idle loop, was answered in {_ms(alone.latency)} (must be "
        f"at least {_s(minimum)}): the endpoint answers before its {work} is done{waited}. A "
        f"fire-and-forget {work} (a task created and never awaited, or a background task) runs "
        "after the answer, and if it blocks, it blocks every request that comes later",
    )


def judged_only_if_the_work_is_done(
    check: Check, alone: Response | None, minimum: float, *, work: str, by: str
) -> Check:
    """``check`` as it is, unless the endpoint answers before its work is done (then it
    cannot pass: answering at once says nothing about doing the work at once)."""
    if not answered_before_the_work(alone, minimum):
        return check
    return Check(
        check.name,
        False,
        f"not judged: the endpoint answers before its {work} is done (see {by}), so how "
        f"fast it answers says nothing about doing the {work}s at once",
    )


def _each_answer(
    name: str,
    responses: Sequence[Response],
    mismatch: Callable[[Response], str | None],
    *,
    what: str,
) -> Check:
    """Every answered response passes ``mismatch`` (None; else what was wrong with it)."""
    answered = [r for r in responses if r.done]
    if not answered:
        return not_measured(name, f"none of the {what} was answered")
    for r in answered:
        if (wrong := mismatch(r)) is not None:
            return Check(name, False, f"{r.request.method} {r.request.path} answered {wrong}")
    skipped = len(responses) - len(answered)
    tail = f" ({skipped} unanswered ones not checked)" if skipped else ""
    return Check(name, True, f"all {len(answered)} answered {what} were correct{tail}")


def bodies_match(
    name: str,
    responses: Sequence[Response],
    expected: Callable[[Response], tuple[int, Any]],
    *,
    what: str,
) -> Check:
    """Every answered response has the expected status and JSON body."""

    def mismatch(r: Response) -> str | None:
        status, body = expected(r)
        if r.status == status and r.json() == body:
            return None
        return f"{r.status} {r.body[:200].decode(errors='replace')}; expected {status} {body}"

    return _each_answer(name, responses, mismatch, what=what)


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


def each_began_within(
    name: str,
    responses: Sequence[Response],
    firsts: Sequence[float | None],
    limit: float,
    *,
    what: str,
    part: str,
) -> Check:
    """Each streamed response's first ``part`` arrived within ``limit`` seconds of its request.

    ``firsts[i]`` is that delay for ``responses[i]``, None when it never arrived.
    """
    n = len(responses)
    if not n:
        return not_measured(name, f"no {what} were sent")
    late = [f for f in firsts if f is None or f >= limit]
    arrived = [f for f in firsts if f is not None]
    worst = max(arrived, default=None)
    if late:
        missing = sum(1 for f in firsts if f is None)
        detail = f"for {len(late)} of {n} {what} the {part} took {_s(limit)} or more to arrive"
        if missing:
            detail += f" ({missing} never sent it in time)"
        if worst is not None:
            detail += f"; the slowest {part} that arrived took {_s(worst)}"
        return Check(name, False, detail + f" (limit {_s(limit)}: stream each part as it comes)")
    return Check(
        name,
        True,
        f"each of {n} {what} sent its {part} in under {_s(limit)} (slowest {_s(worst or 0.0)})",
    )


def texts_match(
    name: str,
    responses: Sequence[Response],
    expected: Callable[[Response], tuple[int, str]],
    *,
    what: str,
) -> Check:
    """Every answered response has the expected status and text body."""

    def mismatch(r: Response) -> str | None:
        status, text = expected(r)
        got = r.body.decode(errors="replace")
        if r.status == status and got == text:
            return None
        return f"{r.status} {got[:120]!r}; expected {status} {text[:120]!r}"

    return _each_answer(name, responses, mismatch, what=what)


def percentile_under(
    name: str,
    latencies: Sequence[float | None],
    limit: float,
    *,
    q: float,
    what: str,
) -> Check:
    """The q-th percentile of ``latencies`` under ``limit``; None (never answered) counts as
    slower than any limit."""
    if not latencies:
        return not_measured(name, f"no {what} were measured")
    missing = sum(1 for v in latencies if v is None)
    value = percentile([math.inf if v is None else v for v in latencies], q)
    ok = value < limit
    n = len(latencies)
    if math.isinf(value):
        return Check(
            name,
            False,
            f"{missing} of {n} {what} were never answered correctly in time, so their "
            f"{q:g}th percentile is over the {_ms(limit)} limit",
        )
    tail = f"; {missing} never answered correctly in time" if missing else ""
    return Check(
        name,
        ok,
        f"{n} {what} answered in {_ms(value)} at the {q:g}th percentile "
        f"({'under' if ok else 'over'} the {_ms(limit)} limit{tail})",
    )


def closed_within(
    name: str, held: Sequence[tuple[float, float | None]], limit: float, *, what: str
) -> Check:
    """Each (opened, closed) connection was closed within ``limit`` seconds of opening;
    ``closed`` None means it was still open when the grader stopped watching."""
    if not held:
        return not_measured(name, f"no {what} reached the upstream")
    late = [(o, c) for o, c in held if c is None or c - o > limit]
    still_open = sum(1 for _, c in late if c is None)
    if late:
        return Check(
            name,
            False,
            f"{len(late)} of {len(held)} {what} were not closed within {_s(limit)} of opening "
            f"({still_open} still open when the grader stopped watching): the calls behind "
            "them are still waiting",
        )
    worst = max(c - o for o, c in held if c is not None)
    return Check(
        name,
        True,
        f"all {len(held)} {what} were closed within {_s(limit)} of opening (slowest {_s(worst)})",
    )


def at_most(name: str, value: float, maximum: float, *, message: str) -> Check:
    """``message`` is formatted with ``value`` and ``maximum``."""
    return Check(name, value <= maximum, message.format(value=value, maximum=maximum))


def siblings_cancelled(name: str, calls: Sequence[dict[str, Any]], *, what: str) -> Check:
    """One dashboard's upstream calls, as the upstream recorded them (``start``, ``end``,
    ``outcome``): once one call ``failed``, none of the others may be answered (or still
    running) after it; the service must have closed them (``abandoned``)."""
    failed = [c for c in calls if c.get("outcome") == "failed"]
    if not failed:
        return not_measured(name, f"the {what} call that fails never reached the upstream")
    failed_at = min(c["end"] for c in failed)
    later = [
        c
        for c in calls
        if c.get("outcome") not in {"failed", "refused"} and (c.get("end") or math.inf) > failed_at
    ]
    left = [c for c in later if c.get("outcome") != "abandoned"]  # answered, or still running
    closed = [c["end"] - failed_at for c in later if c.get("outcome") == "abandoned"]
    if left:
        return Check(
            name,
            False,
            f"the upstream went on serving {len(left)} call(s) of the dashboard after its "
            f"{what} call had failed (answered them, or they were still running): the service "
            f"left them running (none expected: cancel the siblings of a failed call)",
        )
    if not later:
        return Check(
            name, True, f"no other call of the dashboard was in flight when its {what} call failed"
        )
    return Check(
        name,
        True,
        f"all {len(later)} sibling calls in flight when the {what} call failed were closed by "
        f"the service, at most {_ms(max(closed))} after the failure (none left running)",
    )
