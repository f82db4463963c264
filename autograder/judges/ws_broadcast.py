"""ws-broadcast: ``WS /ws/{room}`` joins a room; ``POST /rooms/{room}/messages`` is delivered
to every member. One member stops reading, one vanishes; the others must not notice.

The starter's broadcast awaits each member's ``send_text`` in turn. Once a member stops
reading, its socket's buffers fill, the server's send waits on it (uvicorn's send blocks
while its write buffer is over 64 KiB, with no deadline of its own), and every member after
it in the room, and every later publish, waits too.

The scenario, all of it from outside: the stalled member joins first (first in a list, the
one every later send waits behind), then ``HEALTHY`` readers that keep up, then a member
that vanishes (it drains its socket but answers no ping). A publisher posts ``MESSAGES``
messages of ``MESSAGE_SIZE`` characters at ``RATE`` per second, open loop. The stalled
member reads nothing until ``RESUME_AT`` s after the first publish, then reads everything
the server still sends it; ``AFTER`` more messages follow. The event loop is probed all
along and the service's memory (its process's RSS, read from ``/proc`` outside the sandbox)
sampled. uvicorn's keepalive (ping every ``WS_PING_INTERVAL`` s, close after
``WS_PING_TIMEOUT`` s without an answer, ``harness/serve.py``) is the grader's, not the
submission's: a submission cannot ping through ASGI.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from typing import Any

from autograder.harness.app import WS_PING_INTERVAL, WS_PING_TIMEOUT
from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.measure import load
from autograder.measure.load import Request, Response, percentile
from autograder.measure.session import Figures, Session
from autograder.measure.streams import Stream, ws_member, ws_silent

HEALTHY = 30  # members that keep up
MESSAGES = 135  # published while the stalled member reads nothing
MESSAGE_SIZE = 32 * 1024  # characters of text per message
RATE = 60.0  # messages per second, open loop
RESUME_AT = MESSAGES / RATE + 0.5  # s after the first publish: the stalled member reads again
AFTER = 10  # published after it resumed: a member the app still holds would get them
AFTER_RATE = 20.0
JOIN_WAIT = 10.0  # every member's handshake, at most
LATENCY_LIMIT = 0.25  # healthy members' publish-to-receive p95
PUBLISH_LIMIT = 2.0  # every POST answered within this
# The service's RSS may grow this much from MEMORY_FROM s after the first publish until the
# stalled member reads again: by then a member that fell behind has been dropped (a send
# deadline drops it within ~1 s; a queue of 64, the contract's largest bound, fills with the
# kernel's ~13 messages at ~1.4 s), while a backlog with no bound keeps growing by
# RATE x MESSAGE_SIZE a second until the last publish (MESSAGES / RATE). (RSS is a
# high-water mark: what a fix held for a moment before MEMORY_FROM, in-flight POSTs or a
# full queue, is not counted against it.)
MEMORY_FROM = 1.25
MEMORY_LIMIT = 1.0 * 1024 * 1024
DROP_LIMIT = 2.0  # the stalled member's connection ended within this of its reading again
VANISH_LIMIT = WS_PING_INTERVAL + WS_PING_TIMEOUT + 1.5  # s after joining: the keepalive's end
LAG_LIMIT = 0.3  # the worst loop probe
MEMORY_EVERY = 0.05


def seq_of(message: str | bytes) -> int:
    """A message's sequence number: its first six characters (-1 if it has none)."""
    try:
        return int(message[:6])
    except (ValueError, TypeError):
        return -1


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 1)


async def measure(s: Session) -> Figures:
    room = f"room-{uuid.uuid4().hex[:8]}"
    path = f"/ws/{room}"
    publish_path = f"/rooms/{room}/messages"
    loop_probe = s.probe("loop")
    began = time.monotonic()
    loop_probe.start()
    alone = await s.send(
        Request("POST", f"/rooms/warm-{room}/messages", {"text": "000000 warm-up"}), wait_at_most=5
    )

    memory: list[tuple[float, int]] = []

    async def sample_memory() -> None:
        while True:
            value = await asyncio.to_thread(s.app_memory)
            if value is not None:
                memory.append((time.monotonic(), value))
            await asyncio.sleep(MEMORY_EVERY)

    sampler = asyncio.create_task(sample_memory())
    stop, resume = asyncio.Event(), asyncio.Event()
    stalled, silent = Stream(), Stream()
    healthy = [Stream() for _ in range(HEALTHY)]
    tasks: list[asyncio.Task[None]] = []

    async def join(member: Any, stream: Stream, **kw: Any) -> None:
        joined = asyncio.Event()
        tasks.append(
            asyncio.create_task(member(s.port, path, stream, seq_of, joined=joined, stop=stop, **kw))
        )
        await joined.wait()

    try:
        async with asyncio.timeout(JOIN_WAIT):
            await join(ws_member, stalled, reading=resume, small_buffers=True)
            await asyncio.gather(*(join(ws_member, h) for h in healthy))
            await join(ws_silent, silent)
    except TimeoutError:  # the app never finished some handshakes: those members did not join
        for st in (stalled, *healthy, silent):
            if st.opened is None and st.error is None:
                st.error = f"the handshake did not finish within {JOIN_WAIT:.0f} s"
    joined_at = time.monotonic()
    await asyncio.sleep(0.2)
    before = memory[-1][1] if memory else None

    pad = "x" * (MESSAGE_SIZE - 7)
    posts: dict[int, Response] = {}
    senders: list[asyncio.Task[Response]] = []

    def publish(seq: int) -> None:
        request = Request("POST", publish_path, {"text": f"{seq:06d} {pad}"})
        posts[seq] = Response(request=request, start=time.monotonic())
        senders.append(
            asyncio.create_task(
                load.send(load.HOST, s.port, request, wait_at_most=15, record=posts[seq])
            )
        )

    start = time.monotonic()
    for i in range(MESSAGES):
        await asyncio.sleep(max(start + i / RATE - time.monotonic(), 0.0))
        publish(i)
    await asyncio.sleep(max(start + RESUME_AT - time.monotonic(), 0.0))
    resumed = time.monotonic()
    resume.set()
    for j in range(AFTER):
        await asyncio.sleep(max(resumed + 0.1 + j / AFTER_RATE - time.monotonic(), 0.0))
        publish(MESSAGES + j)
    total = MESSAGES + AFTER

    # Wait for the keepalive's verdict on the vanished member (uvicorn's, not the app's),
    # for every healthy member's last message and for the stalled member's end (or its
    # limit), at most until the vanished member is overdue.
    def over(st: Stream) -> bool:  # nothing more will arrive on it
        return st.ended is not None or st.opened is None

    async def settled() -> bool:  # every figure a check reads is final
        return (
            over(silent)
            and all(len(h.messages) >= total or over(h) for h in healthy)
            and (over(stalled) or time.monotonic() > resumed + DROP_LIMIT)
            and all(t.done() for t in senders)
        )

    await s.wait_until(
        settled, wait_at_most=max(joined_at + VANISH_LIMIT + 0.3 - time.monotonic(), 0)
    )
    lag = await loop_probe.stop()
    lat_loop = load.probe_latencies(
        lag, since=began, until=time.monotonic(), cut_off=loop_probe.stopped_at
    )
    stop.set()
    await asyncio.wait(tasks, timeout=2.0)  # each member closes its side
    for task in tasks:
        task.cancel()  # a handshake still pending
    await asyncio.gather(*tasks, return_exceptions=True)
    for t in senders:
        t.cancel()
    await asyncio.gather(*senders, return_exceptions=True)
    sampler.cancel()
    await asyncio.gather(sampler, return_exceptions=True)
    after = await asyncio.to_thread(s.app_memory)  # the members gone (informative only)
    during = [v for t, v in memory if start <= t <= resumed]
    peak = max(during, default=None)
    late = [v for t, v in memory if start + MEMORY_FROM <= t <= resumed]
    growth = (max(late) - late[0]) if late else None

    published = {seq: r.start for seq, r in posts.items()}
    latencies: list[float | None] = []
    for h in healthy:
        got = dict(zip(h.messages, h.times, strict=True))
        latencies += [got[q] - published[q] if q in got else None for q in range(total)]
    post_ms = [
        _ms(r.latency) if r.done and r.status in (200, 201, 202, 204) else None
        for r in posts.values()
    ]

    def member(role: str, st: Stream) -> dict[str, Any]:
        return {
            "role": role,
            "joined_ms": _ms(st.opened - start) if st.opened else None,
            "received": len(st.messages),
            "in_order": st.messages == sorted(set(st.messages)),
            "received_ms": [round((t - start) * 1000) for t in st.times],
            "ended_ms": _ms(st.ended - start) if st.ended else None,
            "close_code": st.close_code,
            "error": st.error,
        }

    members = [member("stalled", stalled)] + [member("healthy", h) for h in healthy]
    members.append(member("vanished", silent))
    later = [q for q in stalled.messages if q >= MESSAGES]
    return s.figures(
        requests=list(posts.values()),
        waited=time.monotonic() - start,
        loop=((max(lat_loop) if lat_loop else None), len(lat_loop)),
        alone=alone,
        extra={
            "members": members,
            "published_ms": [round((published[q] - start) * 1000) for q in range(total)],
            "resumed_ms": _ms(resumed - start),
            "healthy_complete": sum(1 for h in healthy if h.messages == list(range(total))),
            "latency_p95_ms": _p95_ms(latencies),
            "publish_max_ms": _max_ms(post_ms),
            "memory_mib": {
                "before": _mib(before),
                "peak": _mib(peak),
                "after": _mib(after),
                "growth": _mib(peak - before) if peak is not None and before is not None else None,
                "late_growth": _mib(growth),
            },
            "memory_timeline": [
                [round((t - start) * 1000), round(v / 2**20, 2)] for t, v in memory
            ],
            "stalled": {
                "received_before_resuming": len(stalled.messages) - len(later),
                "received_after_resuming": len(later),
                "ended_after_resuming_ms": _ms(stalled.ended - resumed) if stalled.ended else None,
                "close_code": stalled.close_code,
            },
            "vanished": {
                "ended_after_joining_ms": _ms(silent.ended - silent.opened)
                if silent.ended and silent.opened
                else None,
                "close_code": silent.close_code,
            },
            "_healthy": [(h.messages, h.error) for h in healthy],
            "_latencies": latencies,
            "_posts": post_ms,
            "_growth": growth,
            "_stalled": (
                stalled.opened is not None,
                len(later),
                stalled.ended and stalled.ended - resumed,
            ),
            "_vanished": (
                silent.opened is not None,
                silent.ended - silent.opened if silent.ended and silent.opened else None,
            ),
        },
    )


def _mib(x: float | None) -> float | None:
    return None if x is None else round(x / 2**20, 2)


def _p95_ms(values: list[float | None]) -> float | None:
    if not values:
        return None
    value = percentile([math.inf if v is None else v for v in values], 95)
    return None if math.isinf(value) else round(value * 1000, 1)


def _max_ms(values: list[float | None]) -> float | None:
    if not values or any(v is None for v in values):
        return None
    return max(v for v in values if v is not None)


def judge(f: Figures) -> list[Check]:
    total = MESSAGES + AFTER
    return [
        delivered_check(f.extra.get("_healthy", []), total),
        checks.percentile_under(
            "latency",
            f.extra.get("_latencies", []),
            LATENCY_LIMIT,
            q=95,
            what="messages to the members that keep up (publish to receive)",
        ),
        publish_check(f.extra.get("_posts", [])),
        memory_check(f.extra.get("_growth")),
        stalled_check(f.extra.get("_stalled")),
        vanished_check(f.extra.get("_vanished")),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
    ]


def delivered_check(healthy: list[tuple[list[int], str | None]], total: int) -> Check:
    if not healthy:
        return checks.not_measured("delivered", "no member joined")
    short = [(msgs, err) for msgs, err in healthy if msgs != list(range(total))]
    if short:
        msgs, err = short[0]
        how = (
            f"the handshake failed: {err}"
            if err and not msgs
            else f"it received {len(msgs)}, {len(set(msgs))} different"
            + ("" if msgs == sorted(msgs) else ", out of order")
        )
        return Check(
            "delivered",
            False,
            f"{len(short)} of {len(healthy)} members that kept reading did not receive each of "
            f"the {total} messages exactly once, in order (e.g. {how})",
        )
    return Check(
        "delivered",
        True,
        f"each of {len(healthy)} members that kept reading received all {total} messages, "
        "once each, in order",
    )


def publish_check(posts: list[float | None]) -> Check:
    if not posts:
        return checks.not_measured("publish", "no message was posted")
    late = [p for p in posts if p is None or p > PUBLISH_LIMIT * 1000]
    worst = max((math.inf if p is None else p) for p in posts)
    shown = "was never answered (2xx)" if math.isinf(worst) else f"took {worst:.0f} ms"
    if late:
        return Check(
            "publish",
            False,
            f"{len(late)} of {len(posts)} POSTs were not answered 2xx within "
            f"{PUBLISH_LIMIT:.1f} s (the slowest {shown}): publishing waited for the member "
            "that stopped reading",
        )
    return Check(
        "publish",
        True,
        f"all {len(posts)} POSTs answered 2xx within {PUBLISH_LIMIT:.1f} s (the slowest {shown})",
    )


def memory_check(growth: float | None) -> Check:
    if growth is None:
        return checks.not_measured("memory", "the service's memory could not be read")
    ok = growth <= MEMORY_LIMIT
    mib = growth / 2**20
    window = RESUME_AT - MEMORY_FROM
    volume = (MESSAGES / RATE - MEMORY_FROM) * RATE * MESSAGE_SIZE / 2**20  # to the last publish
    return Check(
        "memory",
        ok,
        f"the service's memory (RSS, read from outside) grew {mib:.2f} MiB over the last "
        f"{window:.1f} s the member that stopped reading stalled, while {volume:.1f} MiB of "
        f"messages were published ({'within' if ok else 'over'} the "
        f"{MEMORY_LIMIT / 2**20:.1f} MiB limit"
        + ("" if ok else ": what is kept for the member that stopped reading has no bound")
        + ")",
    )


def stalled_check(stalled: tuple[bool, int, float | None] | None) -> Check:
    if not stalled or not stalled[0]:
        return checks.not_measured("stalled-dropped", "the stalled member never joined")
    _, later, ended = stalled
    if later or ended is None or ended > DROP_LIMIT:
        # What the member's client saw, no more: a member the room forgot but whose
        # connection stays open looks, from outside, like one that was never dropped.
        parts = []
        if later:
            parts.append(f"it still received {later} of the {AFTER} messages published after")
        else:
            parts.append(f"none of the {AFTER} messages published after reached it")
        if ended is None:
            parts.append("its connection was never ended")
        elif ended > DROP_LIMIT:
            parts.append(f"its connection ended only {ended:.1f} s later")
        return Check(
            "stalled-dropped",
            False,
            f"the member that read nothing for {RESUME_AT:.1f} s, once it read again: "
            f"{'; '.join(parts)} (a member that falls behind must be disconnected, its "
            f"connection ending within {DROP_LIMIT:.1f} s of its reading again)",
        )
    return Check(
        "stalled-dropped",
        True,
        f"the member that read nothing for {RESUME_AT:.1f} s had been dropped: none of the "
        f"later messages reached it and its connection ended {ended * 1000:.0f} ms after it "
        "read again",
    )


def vanished_check(vanished: tuple[bool, float | None] | None) -> Check:
    if not vanished or not vanished[0]:
        return checks.not_measured("vanished-dropped", "the vanished member never joined")
    _, ended = vanished
    if ended is None or ended > VANISH_LIMIT:
        return Check(
            "vanished-dropped",
            False,
            f"the member that answered no ping was not closed within {VANISH_LIMIT:.1f} s of "
            "joining (the server's keepalive: ping every "
            f"{WS_PING_INTERVAL:.0f} s, closed after {WS_PING_TIMEOUT:.0f} s unanswered)",
        )
    return Check(
        "vanished-dropped",
        True,
        f"the member that answered no ping was closed {ended:.1f} s after joining "
        f"(within {VANISH_LIMIT:.1f} s)",
    )


EXERCISE = Exercise(
    id="ws-broadcast",
    title="A WebSocket broadcast that one slow reader must not stall",
    summary=f"WS /ws/{{room}} joins a room, POST /rooms/{{room}}/messages reaches every member; "
    f"{HEALTHY} members keep up, one stops reading, one vanishes; {MESSAGES} messages of "
    f"{MESSAGE_SIZE // 1024} KiB at {RATE:.0f}/s: every message to every reader in order, p95 "
    f"under {LATENCY_LIMIT * 1000:.0f} ms, POSTs within {PUBLISH_LIMIT:.0f} s, memory bounded, "
    "the stalled member dropped",
    checks=(
        "delivered",
        "latency",
        "publish",
        "memory",
        "stalled-dropped",
        "vanished-dropped",
        "loop-free",
    ),
    measure=measure,
    judge=judge,
)
