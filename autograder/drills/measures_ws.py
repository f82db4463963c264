"""What the WebSocket drills measure: who received a room's messages, seen by its members.

Each function builds a drill's ``measure`` (as :mod:`autograder.drills.measures` does):
WebSocket members join a served room (:mod:`autograder.measure.streams`: the same clients as
the ``ws-broadcast`` exercise), a publisher posts from outside, and the figure is counted
at the members. :func:`stalled_broadcast`: one member that reads nothing (small socket
buffers, as on a real network) joins first, then readers that keep up; how many of the
messages a reader that keeps up received. :func:`replicas_reached`: members placed
explicitly on two replicas of the same app sharing one ``redis-server``; one message
posted to the first replica; how many members received it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

from autograder import lab
from autograder.drills.measures import Measure, Measurement
from autograder.judges.ws_broadcast import seq_of
from autograder.lab import LabApp
from autograder.measure import load
from autograder.measure.load import Request, Response
from autograder.measure.session import Session
from autograder.measure.streams import Stream, join_member
from autograder.servers import brokers


async def _stalled_broadcast(
    s: Session, readers: int, messages: int, size: int, rate: float, watch: float
) -> tuple[list[Stream], Stream, list[Response]]:
    port, room = s.port, f"room-{uuid.uuid4().hex[:8]}"
    path = f"/ws/{room}"
    stop, never = asyncio.Event(), asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    senders: list[asyncio.Task[Response]] = []
    posts: list[Response] = []
    try:
        async with asyncio.timeout(10):
            stalled = await join_member(
                port, path, seq_of, stop=stop, tasks=tasks, reading=never, small_buffers=True
            )
            healthy = list(
                await asyncio.gather(
                    *(join_member(port, path, seq_of, stop=stop, tasks=tasks) for _ in range(readers))
                )
            )
        pad = "x" * (size - 7)
        start = time.monotonic()
        for i in range(messages):  # open loop: each POST on its own connection, on time
            await asyncio.sleep(max(start + i / rate - time.monotonic(), 0.0))
            request = Request("POST", f"/rooms/{room}/messages", {"text": f"{i:06d} {pad}"})
            posts.append(Response(request=request, start=time.monotonic()))
            senders.append(
                asyncio.create_task(
                    load.send(load.HOST, port, request, wait_at_most=watch + 5, record=posts[-1])
                )
            )

        async def all_read() -> bool:
            return all(len(h.messages) >= messages for h in healthy)

        await s.wait_until(all_read, wait_at_most=watch)  # or the watch is over
        return healthy, stalled, posts
    finally:
        stop.set()
        for t in senders:
            t.cancel()
        await asyncio.gather(*tasks, *senders, return_exceptions=True)


def stalled_broadcast(
    readers: int, messages: int, size: int, rate: float, watch: float = 1.5
) -> Measure:
    """A member that never reads joins first, then ``readers`` readers; ``messages``
    messages of ``size`` characters posted at ``rate`` per second; the figure: the fewest
    messages a reader received by ``watch`` s after the last post."""

    def measure(app: LabApp) -> Measurement:
        app.request("POST", "/rooms/warm-up/messages", {"text": "000000 warm-up"})
        healthy, stalled, posts = lab.run(
            _stalled_broadcast(app.session, readers, messages, size, rate, watch), 60
        )
        got = [len(h.messages) for h in healthy]
        got_text = ", ".join(map(str, got)) + f" of {messages}"
        in_order = all(h.messages == list(range(len(h.messages))) for h in healthy)
        lat = [
            t - posts[q].start
            for h in healthy
            for q, t in zip(h.messages, h.times, strict=True)
            if 0 <= q < len(posts)
        ]
        answered = [p for p in posts if p.done and p.status == 202]
        notes = {
            "received by each reader": got_text + ("" if in_order else " (out of order)"),
            "received by the member that never reads": str(len(stalled.messages)),
            "POSTs answered 202": f"{len(answered)} of {messages}, "
            f"{watch:.1f} s after the last was sent",
            "slowest answered POST": f"{max(p.latency or 0.0 for p in answered) * 1000:.0f} ms"
            if answered
            else "none answered",
            "publish-to-receive p95 (messages received)": f"{load.percentile(lat, 95) * 1000:.0f} ms"
            if lat
            else "none received",
        }
        return Measurement(float(min(got)), None, notes)

    return measure


# -- two replicas, one broker ------------------------------------------------------------------


@contextlib.contextmanager
def served_with_broker(path: Any) -> Iterator[LabApp]:
    """``path`` served with a private ``redis-server`` it reaches as ``REDIS_URL``."""
    with (
        brokers.redis_server() as broker,
        lab.serve(path, env={"REDIS_URL": broker.url}, reachable=[broker.folder]) as app,
    ):
        yield app


async def _replicas(
    a: Session, b: Session, per_replica: int, wait: float
) -> tuple[list[Stream], list[Stream], Response]:
    ports = (a.port, b.port)
    room = f"room-{uuid.uuid4().hex[:8]}"
    path = f"/ws/{room}"
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        async with asyncio.timeout(10):
            on_a = [
                await join_member(ports[0], path, seq_of, stop=stop, tasks=tasks)
                for _ in range(per_replica)
            ]
            on_b = [
                await join_member(ports[1], path, seq_of, stop=stop, tasks=tasks)
                for _ in range(per_replica)
            ]
        post = await load.send(
            load.HOST,
            ports[0],
            Request("POST", f"/rooms/{room}/messages", {"text": "000000 hello"}),
            wait_at_most=5,
        )

        async def all_received() -> bool:
            return all(m.messages for m in on_a + on_b)

        await a.wait_until(all_received, wait_at_most=wait)  # or the wait is over
        return on_a, on_b, post
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def replicas_reached(per_replica: int, wait: float = 1.0) -> Measure:
    """Replica A is the served app (with ``REDIS_URL``); a replica B of the same file is
    served beside it with the same broker. ``per_replica`` members join each, explicitly;
    one message is posted to A; the figure: how many members received it within ``wait`` s."""

    def measure(a: LabApp) -> Measurement:
        env = a.run.extra_env
        with lab.serve(a.run.app_file, env=env, reachable=a.run.reachable) as b:
            on_a, on_b, post = lab.run(_replicas(a.session, b.session, per_replica, wait), 30)
        got_a = sum(1 for s in on_a if s.messages)
        got_b = sum(1 for s in on_b if s.messages)
        notes = {
            "members on replica A that received it": f"{got_a} of {per_replica}",
            "members on replica B that received it": f"{got_b} of {per_replica}",
            "the POST to A": f"{post.status} {post.body.decode(errors='replace')[:60]}"
            if post.done
            else f"unanswered ({post.error})",
        }
        return Measurement(float(got_a + got_b), None, notes)

    return measure
