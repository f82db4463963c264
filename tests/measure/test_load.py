"""The load client against a tiny asyncio server that answers with canned bytes: what it
parses, how it ends a response, and what it records when the server misbehaves."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from autograder.measure import load
from autograder.measure.load import OpenLoopProbe, Request, Response

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[int]:
    """Serve ``handler`` on a loopback port; on exit, stop every connection it still holds."""
    tasks: set[asyncio.Task[None]] = set()

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def canned(raw: bytes, *, then_close: bool = True) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(raw)
        await writer.drain()
        if then_close:
            writer.close()

    return handler


def send_to(
    handler: Handler, request: Request | None = None, *, wait_at_most: float = 5.0
) -> Response:
    async def main() -> Response:
        async with serving(handler) as port:
            return await load.send(
                "127.0.0.1", port, request or Request("GET", "/x"), wait_at_most=wait_at_most
            )

    return asyncio.run(main())


def test_a_content_length_response_is_parsed():
    body = b'{"status": "ok"}'
    raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )
    r = send_to(canned(raw))
    assert r.done and r.error is None
    assert r.status == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"status": "ok"}
    assert r.latency is not None and r.latency >= 0


def test_a_chunked_response_is_reassembled_even_when_it_arrives_in_pieces():
    pieces = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5;ext=1\r\nhello\r\n",
        b"7\r\n, world\r\n",
        b"0\r\n\r\n",
    ]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)  # separate TCP segments
        writer.close()

    r = send_to(handler)
    assert r.done and r.status == 200
    assert r.body == b"hello, world"


def test_dechunk_stops_at_the_last_chunk_and_ignores_trailers():
    assert load.dechunk(b"3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n") == b"abc"
    assert load.dechunk(b"a\r\n0123456789\r\n0\r\n\r\n") == b"0123456789"


def test_the_response_ends_with_its_body_not_when_the_connection_closes():
    """A server whose loop is blocked writes its answer at once but closes the socket only
    later: the client must not wait for the close (it would time out here)."""
    release = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await release.wait()
        writer.close()

    async def main() -> Response:
        async with serving(handler) as port:
            r = await load.send("127.0.0.1", port, Request("GET", "/"), wait_at_most=2.0)
            release.set()
            return r

    r = asyncio.run(main())
    assert r.done and r.body == b"ok"


def test_without_length_or_chunking_the_body_runs_to_the_close():
    r = send_to(canned(b"HTTP/1.1 200 OK\r\n\r\nuntil the end"))
    assert r.done and r.body == b"until the end"


def test_a_close_without_an_answer_is_an_error():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    r = send_to(handler)
    assert not r.done
    assert r.error == "the server closed the connection without answering"
    assert r.end is not None


def test_a_garbled_status_line_is_an_error_not_a_crash():
    r = send_to(canned(b"garbage\r\n\r\n"))
    assert not r.done and r.status is None
    assert r.error is not None and "IndexError" in r.error


def test_a_non_numeric_status_is_an_error():
    r = send_to(canned(b"HTTP/1.1 OK fine\r\n\r\n"))
    assert not r.done and r.error is not None and "ValueError" in r.error


def test_a_body_cut_short_is_an_error():
    r = send_to(canned(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b"))
    assert not r.done
    assert r.error is not None and "IncompleteReadError" in r.error


def test_no_answer_within_the_wait_is_a_timeout_with_no_end():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)  # never answers in time

    r = send_to(handler, wait_at_most=0.2)
    assert not r.done and r.end is None
    assert r.error == "no answer within 0.2 s"


def test_a_refused_connection_is_an_error():
    async def main() -> Response:
        async with serving(canned(b"")) as port:
            pass
        return await load.send("127.0.0.1", port, Request("GET", "/"), wait_at_most=2.0)

    r = asyncio.run(main())
    assert not r.done and r.error is not None and "Error" in r.error


def test_requests_are_encoded_with_a_json_body_and_its_length():
    raw = Request("POST", "/orders", {"id": 1}).encode("127.0.0.1", 8000)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /orders HTTP/1.1"
    assert "Host: 127.0.0.1:8000" in lines and "Connection: close" in lines
    assert "Content-Type: application/json" in lines
    assert f"Content-Length: {len(body)}" in lines
    assert json.loads(body) == {"id": 1}
    empty = Request("POST", "/x").encode("h", 1)
    assert b"Content-Length: 0\r\n" in empty and b"Content-Type" not in empty
    assert b"Content-Length" not in Request("GET", "/x").encode("h", 1)


def test_a_burst_gives_up_on_the_unanswered_and_keeps_the_answered():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if head.startswith(b"GET /slow"):
            await asyncio.sleep(5)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        writer.close()

    async def main() -> list[Response]:
        async with serving(handler) as port:
            requests = [Request("GET", "/fast")] * 3 + [Request("GET", "/slow")] * 2
            return await load.burst("127.0.0.1", port, requests, give_up_after=0.3)

    rs = asyncio.run(main())
    assert [r.done for r in rs] == [True, True, True, False, False]
    assert all(r.end is None and r.error is None for r in rs[3:])
    assert len({r.start for r in rs}) == 1  # sent at once: one start time


def test_staggered_requests_are_sent_on_their_schedule():
    async def main() -> list[Response]:
        async with serving(canned(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")) as port:
            return await load.staggered(
                "127.0.0.1", port, [Request("GET", "/")] * 4, interval=0.05, give_up_after=2.0
            )

    rs = asyncio.run(main())
    assert all(r.done and r.status == 204 for r in rs)
    starts = [r.start for r in rs]
    assert starts == sorted(starts)
    # Open loop: request i leaves at t0 + i * interval, never earlier (a late one does not
    # push the later ones back, so gaps between neighbours may be shorter).
    assert all(s - starts[0] >= i * 0.05 - 0.001 for i, s in enumerate(starts))


def test_probe_latencies_count_the_unanswered_as_waiting_until_the_cut_off():
    def probe(start: float, end: float | None, error: str | None = None) -> Response:
        return Response(Request("GET", "/p"), start=start, end=end, error=error)

    probes = [
        probe(0.5, 0.6),  # before the window: ignored
        probe(1.0, 1.01),
        probe(1.5, None),  # never answered: waited until the cut-off at least
        probe(1.8, 1.9, error="reset"),  # failed: counts like the unanswered
        probe(2.5, 2.51),  # after the window: ignored
    ]
    lat = load.probe_latencies(probes, since=1.0, until=2.0, cut_off=2.2)
    assert [round(x, 3) for x in lat] == [0.01, 0.7, 0.4]


def test_an_open_loop_probe_keeps_sending_while_earlier_probes_wait():
    """The server never answers: a sequential prober would send one probe; an open-loop
    one sends on schedule, and stop() cuts the pending ones off."""
    arrived = asyncio.Event()
    seen = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        await reader.readuntil(b"\r\n\r\n")
        seen += 1
        if seen >= 3:
            arrived.set()
        await asyncio.sleep(5)

    async def main() -> tuple[list[Response], float]:
        async with serving(handler) as port:
            probe = OpenLoopProbe("127.0.0.1", port, "/p", interval=0.01)
            probe.start()
            await asyncio.wait_for(arrived.wait(), 5)
            records = await probe.stop(drain=0.05)
            return records, probe.stopped_at

    records, stopped_at = asyncio.run(main())
    assert len(records) >= 3
    assert all(r.end is None for r in records)
    lat = load.probe_latencies(records, since=0.0, until=stopped_at, cut_off=stopped_at)
    assert len(lat) == len(records) and all(x > 0 for x in lat)


def test_dropped_means_closed_or_refused_not_timed_out():
    from autograder.measure.load import Request, Response

    sent = Response(Request("GET", "/"), start=0.0)
    assert not sent.dropped
    closed = Response(Request("GET", "/"), start=0.0, end=0.1, error="the server closed the connection without answering")
    timed_out = Response(Request("GET", "/"), start=0.0, error="no answer within 1.0 s")
    answered = Response(Request("GET", "/"), start=0.0, end=0.1, status=200)
    assert closed.dropped and not timed_out.dropped and not answered.dropped
