"""Routes that answer ``text/event-stream``: measured as streams, not as requests.

A stream may never end, so it is never waited to its end. Every request a scan sends to
a route starts with :func:`first`: it reads the response's head and, when the head says
``text/event-stream`` (or the OpenAPI schema declared it), hands the open connection over
as a :class:`Client`; any other response is read to its end as :func:`load.send` reads it.

A :class:`Client` reads Server-Sent Events with the engine's SSE client code
(:mod:`autograder.measure.streams`: ``data:`` lines up to a blank line; comments such as
``: ping`` are not events) into a :class:`~autograder.measure.streams.Stream` record and
notes when the first one arrived, until it is told to close, the server ends the stream,
or its deadline passes. Only the opening is the scan's own (:func:`first`): the scan does
not know a route streams until it has read the head of its answer, and then reads the
same connection on, while :func:`~autograder.measure.streams.read_sse` opens a connection
to a route known to stream. The latency the verdicts
read for a stream is its time to the first event; how long the streams were held open
after it, how many events arrived and how many streams the server ended are reported
beside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from autograder.measure import load
from autograder.measure.load import HOST, Request, Response
from autograder.measure.streams import Stream, sse_body

MEDIA_TYPE = "text/event-stream"
ALONE_HOLD = 0.2  # s a stream sent alone stays open after its first event
BURST_HOLD = 0.5  # s the burst's streams stay open once every one had its first event


def is_event_stream(headers: dict[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == MEDIA_TYPE


@dataclass
class Client:
    """One open stream, read with the engine's SSE client code (:func:`streams.sse_body`)
    into its record (:class:`streams.Stream`: each event with when it arrived, when the
    client left or the app ended it). ``response.end`` is when its first event arrived
    (None: no event yet); ``response.error`` says why none did."""

    response: Response
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    stream: Stream = field(default_factory=Stream)
    first_event: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def events(self) -> int:
        return len(self.stream.messages)

    @property
    def ended(self) -> bool:
        """The server ended the stream."""
        return self.stream.ended is not None

    def _event(self, data: str) -> bool:
        self.stream.arrived(data)
        if self.response.end is None:
            self.response.end = self.stream.times[-1]
            self.first_event.set()
        return False  # read on: the caller decides when to leave

    async def read(self, stop: asyncio.Event, deadline: float) -> None:
        """Read events until ``stop`` is set, the stream ends or ``deadline`` passes; then
        close the connection (a FIN, as a browser tab that closes)."""
        assert self.reader is not None
        reading = asyncio.ensure_future(sse_body(self.reader, self.response.headers, self._event))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait(
                {reading, stopping},
                timeout=max(deadline - time.monotonic(), 0.0),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for task in (reading, stopping):
                task.cancel()
            await asyncio.gather(reading, stopping, return_exceptions=True)
            self.close()
        now = time.monotonic()
        if reading in done and not reading.cancelled():
            exc = reading.exception()
            if exc is None:
                self.stream.ended = now
            else:
                self.stream.error = f"{type(exc).__name__}: {exc}"
                if self.response.end is None:
                    self.response.end = now
                    self.response.error = self.stream.error
        if not self.ended and self.stream.error is None:
            self.stream.left = now
        if self.response.end is None:
            if self.ended:  # ended without an event: answered when it ended
                self.response.end = now
            else:
                self.response.error = f"no event within {now - self.response.start:.1f} s"
        self.first_event.set()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def first(
    port: int, request: Request, *, wait_at_most: float, host: str = HOST
) -> Response | Client:
    """Send ``request``; a :class:`Client` on the open connection when the answer is an
    event stream, else the whole :class:`Response` (as :func:`load.send` records it)."""
    response = Response(request=request, start=time.monotonic())
    writer = None
    handed_over = False
    try:
        async with asyncio.timeout(wait_at_most):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request.encode(host, port))
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                head = exc.partial
            if head.endswith(b"\r\n\r\n"):
                response.status, response.headers, _ = load.parse_response(head)
                if is_event_stream(response.headers):
                    handed_over = True
                    return Client(response, reader, writer)
            raw = await load.read_rest(reader, head) if head.endswith(b"\r\n\r\n") else head
        response.end = time.monotonic()
        if not raw:
            response.error = "the server closed the connection without answering"
        else:
            response.status, response.headers, response.body = load.parse_response(raw)
    except TimeoutError:
        response.error = f"no answer within {wait_at_most:.1f} s"
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        response.end = time.monotonic()
        response.error = f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None and not handed_over:
            writer.close()
    return response


async def open_stream(
    port: int, request: Request, *, wait_at_most: float, host: str = HOST
) -> Response | Client:
    """:func:`first`, with the ``Accept`` header an ``EventSource`` sends."""
    if not any(name.lower() == "accept" for name, _ in request.headers):
        request = Request(
            request.method,
            request.path,
            request.json_body,
            (*request.headers, ("Accept", MEDIA_TYPE)),
        )
    return await first(port, request, wait_at_most=wait_at_most, host=host)


async def hold(client: Client, *, first_within: float, then: float) -> Client:
    """Read ``client`` until its first event (at most ``first_within`` s from its start),
    ``then`` s more, then close it."""
    stop = asyncio.Event()
    reading = asyncio.create_task(client.read(stop, client.response.start + first_within + then))
    await _first_event(client, client.response.start + first_within)
    if client.response.end is not None and client.response.error is None:
        await asyncio.wait({reading}, timeout=then)  # held open: what the app does meanwhile
    stop.set()
    await reading
    return client


async def _first_event(client: Client, deadline: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(max(deadline - time.monotonic(), 0.0)):
            await client.first_event.wait()


@dataclass
class Held:
    """A burst of streams: how many the app answered as streams, and how long they were
    held open together after the last first event (0: some never had one)."""

    streams: int
    events: int
    ended: int
    held: float


async def burst(
    port: int, request: Request, n: int, *, first_within: float, then: float = BURST_HOLD
) -> tuple[list[Response], Held]:
    """``n`` streams at once; each read until every stream had its first event (or at most
    ``first_within`` s), then all held open ``then`` s more, then all closed."""
    opened = time.monotonic()
    deadline = opened + first_within
    stop = asyncio.Event()
    settled = [asyncio.Event() for _ in range(n)]
    got: list[Response | Client | None] = [None] * n

    async def one(i: int) -> None:
        try:
            answer = got[i] = await open_stream(port, request, wait_at_most=first_within)
            if isinstance(answer, Client):
                reading = asyncio.create_task(answer.read(stop, deadline + then))
                await answer.first_event.wait()  # read() sets it when it gives up, too
                settled[i].set()
                await reading
        finally:
            settled[i].set()

    tasks = [asyncio.create_task(one(i)) for i in range(n)]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(first_within):
            await asyncio.gather(*(e.wait() for e in settled))
    all_in = time.monotonic()
    responses = [g.response if isinstance(g, Client) else g for g in got]
    held = 0.0
    if all(r is not None and r.end is not None and r.error is None for r in responses):
        await asyncio.wait(tasks, timeout=then)  # held open together: the loop meanwhile
        held = time.monotonic() - all_in
    stop.set()
    await asyncio.gather(*tasks)
    clients = [g for g in got if isinstance(g, Client)]
    final = [g.response if isinstance(g, Client) else g for g in got]
    return [r for r in final if r is not None], Held(
        streams=len(clients),
        events=sum(c.events for c in clients),
        ended=sum(1 for c in clients if c.ended),
        held=held,
    )
