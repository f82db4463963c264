"""WebSocket routes: listed by the app itself, measured as connections held open.

FastAPI's OpenAPI schema lists no WebSocket route, so the harness lists them from the app's
own routes (``WEBSOCKETS_PATH``, :func:`autograder.harness.app.websocket_routes`): a
declaration, as the schema is, never a verdict. :func:`plans` turns that listing into
plans: a path parameter is filled with a plain value of the type its convertor declares
(``1`` for ``str``, ``int``, ``float`` and ``path``, as :mod:`openapi` fills a parameter
the schema gives no example for); a ``uuid`` or an unknown convertor skips the route, and
so does an app whose environment cannot serve WebSockets at all.

A connection is the engine's WebSocket client (:func:`autograder.measure.streams.ws_member`,
no compression). It connects, waits ``SPEAKS_FIRST`` s for a message the route sends
unasked, and only then sends its one text message (``GREETING``); once the first connection
showed whether the route speaks first, the others send at once (or not at all). The latency
the verdicts read is the time from connecting to the first message; a route that sends
nothing counts as answered by its handshake. A burst holds ``n`` connections open together
while the loop probe runs, then closes them all: no connection is waited to its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass
from typing import Any

from autograder.measure.load import Request, Response
from autograder.measure.streams import Stream, ws_member
from autograder.scan.openapi import Plan

METHOD = "WS"  # how a WebSocket route is named in the report, beside GET and POST
GREETING = "{}"  # text, and JSON too: a route that reads either can parse it
SPEAKS_FIRST = 0.3  # s the first connection waits for an unasked message before it sends
FIRST_WITHIN = 2.0  # s at most a connection waits for its first message
ALONE_HOLD = 0.2  # s a connection alone stays open after its first message
BURST_HOLD = 0.5  # s the burst's connections stay open once every one had its first message
NO_LIBRARY = "the app's environment has no websockets or wsproto: uvicorn cannot serve WebSockets"
# Convertors ``1`` satisfies (a str, an int, a float, a path), as openapi.py fills them
PLAIN = ("StringConvertor", "IntegerConvertor", "FloatConvertor", "PathConvertor")
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")


def plans(listing: Any) -> list[Plan]:
    """One plan per WebSocket route the harness listed (``{"served": ..., "routes": ...}``)."""
    if not isinstance(listing, dict) or not isinstance(listing.get("routes"), list):
        return []
    out = []
    for route in listing["routes"]:
        path, params = str(route.get("path", "")), route.get("params") or {}
        shown = _PARAM.sub(lambda m: "{" + m.group(1) + "}", path)
        plan = Plan(METHOD, shown, source="routes", extra={"websocket": True})
        out.append(plan)
        if not listing.get("served"):
            plan.reason = NO_LIBRARY
            continue
        unfillable = [f"{k!r} ({v})" for k, v in params.items() if v not in PLAIN]
        if unfillable:
            plan.reason = (
                f"path parameter {', '.join(unfillable)}: its type gives no plain value "
                "to send (a uuid, or a convertor of the app's own)"
            )
            continue
        plan.request = Request("GET", _PARAM.sub("1", path))
    return out


async def warm_up(port: int, path: str) -> None:
    """One handshake to ``path`` (no WebSocket route: the app refuses it) before the probe
    starts: the app's first upgrade imports the server's WebSocket code on its loop, a
    one-off pause that is not the route's."""
    stream = Stream()
    stop = asyncio.Event()
    stop.set()
    await ws_member(port, path, stream, lambda m: m, joined=asyncio.Event(), stop=stop)


@dataclass
class Connection:
    """One WebSocket as the scan saw it: ``response`` is what the verdicts read (``end``:
    the first message, or the handshake if none came; 101 once the handshake is done),
    ``stream`` what arrived."""

    response: Response
    stream: Stream


async def connect(
    port: int,
    request: Request,
    *,
    greet_unless_within: float,
    first_within: float,
    stop: asyncio.Event,
    settled: asyncio.Event | None = None,
) -> Connection:
    """Open one connection and read it until its first message (at most ``first_within``
    s), set ``settled``, then keep it open until ``stop`` is set or the app ends it."""
    response = Response(request=request, start=time.monotonic())
    stream = Stream()
    joined, arrived = asyncio.Event(), asyncio.Event()
    member = asyncio.create_task(
        ws_member(
            port,
            request.path,
            stream,
            lambda message: message,
            joined=joined,
            stop=stop,
            greeting=GREETING,
            greet_unless_within=greet_unless_within,
            arrived=arrived,
        )
    )
    try:
        waiting = asyncio.ensure_future(arrived.wait())
        try:
            await asyncio.wait(
                {member, waiting}, timeout=first_within, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiting.cancel()
        _settle(response, stream)
        if settled is not None:
            settled.set()
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({member, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if stream.opened is not None:  # open: it sees ``stop`` itself and closes
            await member
    finally:  # still in its handshake: given up
        if not member.done():
            member.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await member
        if settled is not None:
            settled.set()
    return Connection(response, stream)


def _settle(response: Response, stream: Stream) -> None:
    """What the verdicts read once the first message came, the app ended the connection,
    it failed, or ``first_within`` passed."""
    if stream.error is not None:
        response.end = time.monotonic()
        response.error = stream.error
        return
    if stream.opened is None:  # the handshake itself took longer than we wait
        return
    response.status = 101
    if stream.times:
        response.end = stream.times[0]
    elif stream.ended is not None and stream.close_code not in (1000, 1001):
        response.end = stream.ended
        response.error = f"closed with code {stream.close_code} before any message"
    else:  # silent, or ended cleanly: answered by its handshake
        response.end = stream.opened


async def alone(
    port: int, request: Request, *, greet_unless_within: float, first_within: float
) -> Connection:
    """One connection: to its first message, held ``ALONE_HOLD`` s more, then closed."""
    stop = asyncio.Event()
    settled = asyncio.Event()
    task = asyncio.create_task(
        connect(
            port,
            request,
            greet_unless_within=greet_unless_within,
            first_within=first_within,
            stop=stop,
            settled=settled,
        )
    )
    await settled.wait()
    if task.done():
        return task.result()
    await asyncio.wait({task}, timeout=ALONE_HOLD)  # held open: what the app does meanwhile
    stop.set()
    return await task


@dataclass
class Held:
    """A burst of WebSockets: how many opened, the messages they got, how many the app
    ended, how long they were held open together after the last first message (0: some
    never settled)."""

    connections: int
    messages: int
    ended: int
    held: float


async def burst(
    port: int,
    request: Request,
    n: int,
    *,
    greet_unless_within: float,
    first_within: float,
    then: float = BURST_HOLD,
) -> tuple[list[Response], Held]:
    """``n`` connections at once; each read to its first message (or ``first_within`` s),
    then all held open ``then`` s more, then all closed."""
    stop = asyncio.Event()
    settled = [asyncio.Event() for _ in range(n)]
    tasks = [
        asyncio.create_task(
            connect(
                port,
                request,
                greet_unless_within=greet_unless_within,
                first_within=first_within,
                stop=stop,
                settled=s,
            )
        )
        for s in settled
    ]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(first_within + 1.0):
            await asyncio.gather(*(s.wait() for s in settled))
    all_in = time.monotonic()
    held = 0.0
    try:
        if all(s.is_set() for s in settled):
            await asyncio.wait(tasks, timeout=then)  # held open together: the loop meanwhile
            held = time.monotonic() - all_in
    finally:
        stop.set()
        got = await asyncio.gather(*tasks)
    responses = [c.response for c in got]
    if not all(r.done for r in responses):
        held = 0.0
    return responses, Held(
        connections=sum(1 for c in got if c.stream.opened is not None),
        messages=sum(len(c.stream.messages) for c in got),
        ended=sum(1 for c in got if c.stream.ended is not None),
        held=held,
    )
