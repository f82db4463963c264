"""Routes that answer ``text/event-stream``: found in the schema or the answer's head,
measured to their first event with the streams held open, closed, never waited to their end.

Fast tests: the schema rule, the stream client against a small asyncio server (an endless
stream, a stream that ends, a plain answer), the table. Slow tests scan
tests/scan_apps/streams.py (streams that never end) and the token-stream exercise's
starter and a solution through the command line.
"""

from __future__ import annotations

import asyncio
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.sse import EventSourceResponse

from autograder.measure.load import Request
from autograder.scan import openapi, report, stream
from autograder.scan.run import RouteResult, ScanResult
from tests.conftest import ROOT
from tests.scan.cli import scan_json

APPS = ROOT / "tests" / "scan_apps"


def test_an_event_source_route_is_declared_a_stream_and_a_bare_streaming_response_is_not():
    app = FastAPI()

    @app.get("/events", response_class=EventSourceResponse)
    async def events():
        yield {"n": 1}

    @app.get("/raw")
    async def raw():
        return StreamingResponse(iter(["data: 1\n\n"]), media_type="text/event-stream")

    @app.get("/json")
    async def plain():
        return {}

    plans = {p.path: p for p in openapi.plans(app.openapi(), unsafe=False)}
    assert plans["/events"].extra.get("stream") is True
    assert "stream" not in plans["/raw"].extra  # found by its answer's head instead
    assert "stream" not in plans["/json"].extra


@asynccontextmanager
async def _server(
    events: int | None, *, plain: bool = False
) -> AsyncIterator[tuple[int, list[str], asyncio.Event]]:
    """Answers every request with an SSE stream of ``events`` events (None: endless), one
    every 10 ms with a comment before each, or with a plain JSON answer; notes who ended
    each stream."""
    ended: list[str] = []
    noticed = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if plain:
            body = b'{"ok": true}'
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n")
            writer.write(f"content-length: {len(body)}\r\n\r\n".encode() + body)
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n")
        writer.write(b"transfer-encoding: chunked\r\n\r\n")
        sent = 0
        while events is None or sent < events:
            data = f": ping\n\ndata: {sent}\n\n".encode()
            writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            sent += 1
            try:  # the client sends nothing more: anything read is its end
                if await asyncio.wait_for(reader.read(1), 0.01) == b"":
                    ended.append("client")
                    noticed.set()
                    writer.close()
                    return
            except TimeoutError:
                continue
        writer.write(b"0\r\n\r\n")
        ended.append("server")
        noticed.set()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], ended, noticed


def test_an_endless_stream_is_read_to_its_first_event_held_then_closed():
    async def go() -> None:
        async with _server(None) as (port, ended, noticed):
            got = await stream.first(port, Request("GET", "/"), wait_at_most=2, host="127.0.0.1")
            assert isinstance(got, stream.Client)
            await stream.hold(got, first_within=2, then=0.1)
            r = got.response
            assert r.done and r.status == 200 and r.latency is not None
            assert got.events >= 1 and not got.ended  # comments are not events
            await asyncio.wait_for(noticed.wait(), 2)  # the server reads the FIN
            assert ended == ["client"]

    asyncio.run(go())


def test_a_burst_of_streams_that_end_and_a_plain_answer():
    async def go() -> None:
        async with _server(3) as (port, ended, _):
            responses, held = await stream.burst(port, Request("GET", "/"), 4, first_within=2)
            assert len(responses) == 4 and all(r.done for r in responses)
            assert held.streams == 4 and held.events == 12 and held.ended == 4
            assert ended == ["server"] * 4
        async with _server(None, plain=True) as (port, _, _):
            got = await stream.first(port, Request("GET", "/"), wait_at_most=2, host="127.0.0.1")
            assert not isinstance(got, stream.Client)
            assert got.done and got.json() == {"ok": True}

    asyncio.run(go())


def test_the_table_marks_a_stream_and_says_what_its_times_are():
    result = ScanResult(
        "app.py",
        [
            RouteResult("GET", "/health", "fine", figures={"alone_ms": 1.0}),
            RouteResult(
                "GET",
                "/chat/{id}",
                "blocks-loop",
                diagnosis="app.py:9 in chat: for line in upstream.iter_lines():",
                reason="an event stream (text/event-stream, OpenAPI schema), measured to its "
                "first event: the event loop was blocked",
                figures={"alone_ms": 510.0, "stream": {"first_event_alone_ms": 510.0}},
            ),
        ],
        concurrency=20,
    )
    text = report.table(result)
    assert "/chat/{id} (stream)" in text and "/health (stream)" not in text
    assert "times to the first event" in text


# -- live ---------------------------------------------------------------------------------------


def _line_of(path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.slow
def test_streams_that_never_end_are_measured_in_bounded_time_in_every_format(tmp_path):
    sarif, junit = tmp_path / "scan.sarif", tmp_path / "junit.xml"
    code, out, err, took = scan_json(
        str(APPS / "streams.py"),
        "-n",
        "5",
        "--timeout",
        "1",
        "--sarif",
        str(sarif),
        "--junit",
        str(junit),
    )
    routes = {r["path"]: r for r in out["routes"]}
    assert {p: r["verdict"] for p, r in routes.items()} == {
        "/ticks": "fine",
        "/blocking-ticks": "blocks-loop",
        "/silent": "errors",
        "/after": "fine",
    }, err
    ticks = routes["/ticks"]["figures"]["stream"]
    assert ticks["seen_in"] == "OpenAPI schema" and ticks["streams_opened"] == 5
    assert ticks["ended_by_the_app"] == 0 and ticks["held_open_ms"] > 0 and ticks["events"] >= 5
    blocking = routes["/blocking-ticks"]
    assert blocking["figures"]["stream"]["seen_in"] == "response head"
    line = _line_of(APPS / "streams.py", "# PROBLEM: blocks-loop")
    assert blocking["diagnosis"] == f"streams.py:{line} in blocking_ticks: time.sleep(0.05)"
    assert "no event within" in routes["/silent"]["reason"]
    assert routes["/after"]["figures"].get("stream") is None
    assert code == 1 and took < 60
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    found = {r["ruleId"]: r for r in results}
    assert found["blocks-loop"]["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    cases = {c.get("name"): c for c in ET.fromstring(junit.read_text()).iter("testcase")}
    assert cases["/ticks"].find("failure") is None
    failure = cases["/blocking-ticks"].find("failure")
    assert failure is not None and "event stream" in (failure.get("message") or "")


@pytest.mark.slow
def test_the_token_stream_starter_blocks_the_loop_at_its_read_and_a_solution_is_fine():
    starter = ROOT / "exercises" / "token-stream" / "starter.py"
    _, out, err, _ = scan_json(str(starter), "-n", "10")
    chat = next(r for r in out["routes"] if r["path"] == "/chat/{chat_id}")
    line = _line_of(starter, "upstream.iter_lines()")
    assert chat["verdict"] == "blocks-loop", err
    assert re.fullmatch(rf"starter\.py:{line} in chat: .*iter_lines\(\):", chat["diagnosis"])
    assert chat["figures"]["stream"]["seen_in"] == "OpenAPI schema"
    code, out, err, _ = scan_json(
        str(ROOT / "solutions" / "token-stream" / "async_client.py"), "-n", "10"
    )
    chat = next(r for r in out["routes"] if r["path"] == "/chat/{chat_id}")
    assert chat["verdict"] == "fine" and code == 0, err
    assert chat["figures"]["stream"]["streams_opened"] == 10
