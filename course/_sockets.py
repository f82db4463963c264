"""Notebook 09's WebSocket experiments, measured from outside the app: a room with one
member that stops reading (who else gets the messages, how late, what the publisher
waits, what the service's memory does) and idle members held open (memory per
connection).

The members are the ``ws-broadcast`` grader's own clients
(``autograder.measure.streams.ws_member``: the ``websockets`` client; a stalled one has
small socket buffers, as on a real network, and reads nothing until told). The rows
returned for each member are the grader's, so ``autograder.lab.plots.members`` draws them.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from typing import Any

from _streams import app_process

from autograder import lab
from autograder.judges.ws_broadcast import seq_of
from autograder.measure import load
from autograder.measure.load import Request, Response, percentile
from autograder.measure.streams import Stream, join_member

MEMORY_EVERY = 0.05  # s between two readings of the app's RSS




async def _room(app: lab.LabApp, way: str, readers: int, messages: int, size: int, rate: float,
                stalled: bool, resume_at: float) -> dict[str, Any]:
    port, room = app.port, uuid.uuid4().hex[:8]
    path, publish_path = f"/ws/{way}/{room}", f"/rooms/{way}/{room}/messages"
    proc = app_process(app)
    stop, resume = asyncio.Event(), asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    senders: list[asyncio.Task[Response]] = []
    posts: list[Response] = []
    memory: list[tuple[float, int]] = []

    async def sample() -> None:
        while True:
            memory.append((time.monotonic(), (await asyncio.to_thread(proc.memory_info)).rss))
            await asyncio.sleep(MEMORY_EVERY)

    sampler = asyncio.create_task(sample())
    try:
        async with asyncio.timeout(10):
            slow = await join_member(port, path, seq_of, stop=stop, tasks=tasks, reading=resume, small_buffers=True) if stalled else None
            healthy = list(await asyncio.gather(*(join_member(port, path, seq_of, stop=stop, tasks=tasks) for _ in range(readers))))
        await asyncio.sleep(0.1)  # a few memory readings before the first publish
        pad = "x" * (size - 7)
        start = time.monotonic()
        for i in range(messages):  # open loop: each POST on its own connection, on time
            await asyncio.sleep(max(start + i / rate - time.monotonic(), 0.0))
            request = Request("POST", publish_path, {"text": f"{i:06d} {pad}"})
            posts.append(Response(request=request, start=time.monotonic()))
            senders.append(asyncio.create_task(
                load.send(load.HOST, port, request, wait_at_most=resume_at + 10, record=posts[-1])))

        async def all_read() -> bool:
            return all(len(h.messages) >= messages for h in healthy)

        if not stalled:
            await app.session.wait_until(all_read, wait_at_most=resume_at)
        await asyncio.sleep(max(start + resume_at - time.monotonic(), 0.0))
        resumed = time.monotonic()
        at_resume = {
            "received_fewest": min(len(h.messages) for h in healthy),
            "posts_answered": sum(p.done for p in posts),
            "rooms": (await app.session.send(Request("GET", "/lab/rooms"))).json(),
            "stalled_connection_open": slow is not None and slow.ended is None,
            "stalled_received": len(slow.messages) if slow else None,
        }
        resume.set()

        async def over() -> bool:
            slow_done = slow is None or slow.ended is not None or len(slow.messages) >= messages  # dropped, or caught up
            return (await all_read()) and all(t.done() for t in senders) and slow_done

        await app.session.wait_until(over, wait_at_most=3.0)
    finally:
        stop.set()
        for t in senders:
            t.cancel()
        sampler.cancel()
        await asyncio.gather(*tasks, *senders, sampler, return_exceptions=True)

    def row(role: str, st: Stream) -> dict[str, Any]:  # as the ws-broadcast grader writes them
        return {"role": role, "received": len(st.messages),
                "received_ms": [round((t - start) * 1000) for t in st.times],
                "ended_ms": round((st.ended - start) * 1000) if st.ended else None,
                "close_code": st.close_code, "error": st.error}

    latencies = [t - posts[q].start for h in healthy for q, t in zip(h.messages, h.times, strict=True)
                 if 0 <= q < len(posts)]
    stalling = [v for t, v in memory if start <= t <= resumed]
    return {
        "way": way,
        "members": ([row("stalled", slow)] if slow else []) + [row("healthy", h) for h in healthy],
        "published_ms": [round((p.start - start) * 1000) for p in posts],
        "resumed_ms": round((resumed - start) * 1000) if stalled else None,
        "messages": messages,
        "latency_p95_ms": round(percentile(latencies, 95) * 1000, 1) if latencies else None,
        "latency_max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "complete": sum(h.messages == list(range(messages)) for h in healthy),
        "last_received_ms": max((round((h.times[-1] - start) * 1000) for h in healthy if h.times), default=None),
        "readers": readers,
        "post_max_ms": round(max((p.latency or 0.0) for p in posts) * 1000) if all(p.done for p in posts) else None,
        "at_resume": at_resume,
        "stalled": None if slow is None else {
            "joined_before_first_publish_s": round(start - (slow.opened or start), 2),
            "received": len(slow.messages),
            "ended_after_resuming_ms": round((slow.ended - resumed) * 1000) if slow.ended else None,
            "close_code": slow.close_code,
        },
        "memory_growth_mib": round((max(stalling) - stalling[0]) / 2**20, 2) if stalling else None,
    }


def room(app: lab.LabApp, way: str, *, readers: int = 10, messages: int = 30, size: int = 32 * 1024,
         rate: float = 30.0, stalled: bool = True, resume_at: float = 2.0) -> dict[str, Any]:
    """A room written ``way`` (``/ws/{way}/...`` of ``apps/nb09_rooms.py``): with
    ``stalled``, a member that reads nothing joins first (the one a broadcast in join order
    waits behind), then ``readers`` members that keep up; ``messages`` of ``size``
    characters posted at ``rate`` a second; the stalled member reads again ``resume_at`` s
    after the first publish. What each member received and when, the publishers' wait,
    the app's memory growth while the member stalled, and the state at ``resume_at``."""
    return lab.run(_room(app, way, readers, messages, size, rate, stalled, resume_at), resume_at + 30)


async def _idle(app: lab.LabApp, steps: Sequence[int]) -> list[dict[str, int]]:
    proc, stop = app_process(app), asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    held: list[Stream] = []
    trace = []
    try:
        for target in steps:
            while len(held) < target:
                batch = min(50, target - len(held))
                held += await asyncio.gather(*(join_member(app.port, f"/ws/bounded/idle-{uuid.uuid4().hex[:6]}", seq_of, stop=stop, tasks=tasks)
                                               for _ in range(batch)))
            await asyncio.sleep(0.1)  # the last handshakes' tasks settle in the app
            state = (await app.session.send(Request("GET", "/lab/rooms"))).json()
            trace.append({"members": target, "in_rooms": sum(state["members"].values()),
                          "rss": proc.memory_info().rss})
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    return trace


def idle_members(app: lab.LabApp, steps: Sequence[int] = (20, 100, 300)) -> dict[str, Any]:
    """Idle members held open in ``steps`` (cumulative counts; each a ``bounded`` room's
    member of its own, a queue and two tasks in the app); the app's RSS after each step.
    Per member: the slope from the second step to the last (the first absorbs first-use
    allocations)."""
    trace = lab.run(_idle(app, steps), 60)
    a, b = trace[1], trace[-1]
    return {"trace": trace, "kb_per_member": round((b["rss"] - a["rss"]) / (b["members"] - a["members"]) / 1024, 1)}
