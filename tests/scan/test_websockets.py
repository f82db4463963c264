"""WebSocket routes: listed by the harness from the app's own routes (the schema has
none), planned (a parameter filled with a plain value of its type, or skipped with the
reason), measured as connections to their first message, held open, closed.

Fast tests: the harness's listing, the plans, the connection client against small
``websockets`` servers (an echo, one that speaks first, one that fails), the table.
The slow test scans tests/scan_apps/websockets_app.py in every format.
"""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI, WebSocket
from websockets.asyncio.server import ServerConnection, serve

from autograder.harness import app as harness
from autograder.measure.load import Request
from autograder.scan import report, websocket
from autograder.scan.run import RouteResult, ScanResult
from tests.conftest import ROOT
from tests.scan.cli import scan_json

APPS = ROOT / "tests" / "scan_apps"


def _app() -> FastAPI:
    app = FastAPI()

    @app.websocket("/echo")
    async def echo(ws: WebSocket) -> None: ...

    @app.websocket("/rooms/{room}/{seat:int}")
    async def seat(ws: WebSocket, room: str, seat: int) -> None: ...

    @app.get("/plain")
    async def plain() -> dict[str, str]:
        return {}

    sub = FastAPI()

    @sub.websocket("/orders/{order_id:uuid}")
    async def order(ws: WebSocket) -> None: ...

    app.mount("/shop", sub)
    return app


def test_the_harness_lists_the_apps_websocket_routes_under_its_mounts_too():
    assert harness.websocket_routes(_app()) == [
        {"path": "/echo", "params": {}},
        {
            "path": "/rooms/{room}/{seat:int}",
            "params": {"room": "StringConvertor", "seat": "IntegerConvertor"},
        },
        {"path": "/shop/orders/{order_id:uuid}", "params": {"order_id": "UUIDConvertor"}},
    ]
    assert harness.websocket_routes(object()) == []  # an app without routes declares none


def _get(app: Any, path: str) -> tuple[int, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "method": "GET", "query_string": b"", "headers": []}
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_the_probe_answers_the_listing_and_says_when_websockets_are_not_served(monkeypatch):
    status, body = _get(harness.with_probe(_app()), harness.WEBSOCKETS_PATH)
    listing = json.loads(body)
    assert status == 200 and listing["served"] is True and len(listing["routes"]) == 3
    monkeypatch.setattr(harness, "ws_options", lambda: {"ws": "none"})
    _, body = _get(harness.with_probe(_app()), harness.WEBSOCKETS_PATH)
    plans = websocket.plans(json.loads(body))
    assert [p.reason for p in plans] == [websocket.NO_LIBRARY] * 3
    assert all(p.request is None and p.method == "WS" for p in plans)


def test_plans_fill_plain_parameters_and_skip_a_uuid_with_the_reason():
    _, body = _get(harness.with_probe(_app()), harness.WEBSOCKETS_PATH)
    plans = {p.path: p for p in websocket.plans(json.loads(body))}
    assert plans["/echo"].request == Request("GET", "/echo")
    assert plans["/rooms/{room}/{seat}"].request == Request("GET", "/rooms/1/1")
    uuid = plans["/shop/orders/{order_id}"]
    assert uuid.request is None and uuid.reason and "'order_id' (UUIDConvertor)" in uuid.reason
    assert websocket.plans(None) == []


@asynccontextmanager
async def _server(kind: str) -> AsyncIterator[tuple[int, list[str]]]:
    """A ``websockets`` server: ``echo`` answers each message, ``speaks`` sends every 10 ms
    unasked, ``fails`` closes with 1011 on the first message. Notes what it received."""
    received: list[str] = []

    async def handler(ws: ServerConnection) -> None:
        if kind == "speaks":
            n = 0
            while True:
                await ws.send(str(n))
                n += 1
                await asyncio.sleep(0.01)
        async for message in ws:
            received.append(str(message))
            if kind == "fails":
                await ws.close(1011)
                return
            await ws.send(message)

    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        yield next(iter(server.sockets)).getsockname()[1], received


def test_a_route_that_reads_gets_one_message_and_one_that_speaks_first_gets_none():
    async def go() -> None:
        async with _server("echo") as (port, received):
            conn = await websocket.alone(
                port, Request("GET", "/"), greet_unless_within=0.05, first_within=2
            )
            r = conn.response
            assert r.done and r.status == 101 and received == [websocket.GREETING]
            assert conn.stream.said is not None and conn.stream.messages == [websocket.GREETING]
            assert conn.stream.left is not None  # closed by the client, not waited to an end
        async with _server("speaks") as (port, received):
            conn = await websocket.alone(
                port, Request("GET", "/"), greet_unless_within=1, first_within=2
            )
            assert conn.response.done and conn.stream.said is None and received == []

    asyncio.run(go())


def test_a_burst_is_held_open_together_and_a_failing_route_is_an_error():
    async def go() -> None:
        async with _server("echo") as (port, received):
            responses, held = await websocket.burst(
                port, Request("GET", "/"), 5, greet_unless_within=0, first_within=2, then=0.05
            )
            assert all(r.done for r in responses) and len(received) == 5
            assert held.connections == 5 and held.messages == 5 and held.ended == 0
            assert held.held > 0
        async with _server("fails") as (port, _):
            responses, held = await websocket.burst(
                port, Request("GET", "/"), 2, greet_unless_within=0, first_within=2
            )
            assert [r.error for r in responses] == ["closed with code 1011 before any message"] * 2
            assert held.ended == 2 and held.held == 0
        # nothing listens: the handshake fails, an answer with an error (a dropped connection)
        conn = await websocket.alone(
            port, Request("GET", "/"), greet_unless_within=0, first_within=2
        )
        assert conn.response.end is not None and conn.response.error

    asyncio.run(go())


def test_the_table_marks_a_websocket_route_and_says_what_its_times_are():
    result = ScanResult(
        "app.py",
        [
            RouteResult("GET", "/health", "fine", figures={"alone_ms": 1.0}),
            RouteResult(
                "WS",
                "/echo",
                "fine",
                figures={"alone_ms": 2.0, "websocket": {"speaks_first": False}},
            ),
            RouteResult("WS", "/orders/{id}", "skipped", reason=websocket.NO_LIBRARY),
        ],
        concurrency=20,
    )
    text = report.table(result)
    assert "/echo (websocket)" in text and "/health (websocket)" not in text
    assert "/orders/{id} (websocket)" in text and websocket.NO_LIBRARY in text
    assert "connecting to the first message" in text


# -- live ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_websocket_routes_are_measured_and_a_blocking_handler_is_found_in_every_format(tmp_path):
    sarif, junit = tmp_path / "scan.sarif", tmp_path / "junit.xml"
    app = APPS / "websockets_app.py"
    code, out, err, took = scan_json(
        str(app), "-n", "5", "--sarif", str(sarif), "--junit", str(junit)
    )
    routes = {(r["method"], r["path"]): r for r in out["routes"]}
    assert {k: r["verdict"] for k, r in routes.items()} == {
        ("GET", "/after"): "fine",
        ("WS", "/echo"): "fine",
        ("WS", "/room/{name}"): "fine",
        ("WS", "/blocking-echo"): "blocks-loop",
        ("WS", "/ticks"): "fine",
        ("WS", "/orders/{order_id}"): "skipped",
    }, err
    echo = routes[("WS", "/echo")]["figures"]["websocket"]
    assert echo["speaks_first"] is False and echo["connections_opened"] == 5
    assert echo["messages"] == 5 and echo["held_open_ms"] > 0 and echo["ended_by_the_app"] == 0
    assert routes[("WS", "/ticks")]["figures"]["websocket"]["speaks_first"] is True
    assert routes[("WS", "/room/{name}")]["request"] == "/room/1"
    line = next(
        i
        for i, text in enumerate(app.read_text().splitlines(), 1)
        if "PROBLEM: blocks-loop" in text
    )
    blocking = routes[("WS", "/blocking-echo")]
    assert blocking["diagnosis"] == f"websockets_app.py:{line} in blocking_echo: time.sleep(0.05)"
    assert "UUIDConvertor" in routes[("WS", "/orders/{order_id}")]["reason"]
    assert code == 1 and took < 60
    found = {r["ruleId"]: r for r in json.loads(sarif.read_text())["runs"][0]["results"]}
    assert found["blocks-loop"]["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    cases = {c.get("name"): c for c in ET.fromstring(junit.read_text()).iter("testcase")}
    assert cases["/echo"].get("classname") == "WS" and cases["/echo"].find("failure") is None
    failure = cases["/blocking-echo"].find("failure")
    assert failure is not None and "WebSocket route" in (failure.get("message") or "")


@pytest.mark.slow
def test_an_environment_without_a_websocket_library_skips_every_websocket_route(tmp_path):
    from tests.scan.test_environment import make_venv

    python = make_venv(tmp_path / ".venv")
    site = next((tmp_path / ".venv").glob("lib/python*/site-packages"))
    # the app's environment has neither library: uvicorn's WebSockets stay off
    (site / "zz_no_websockets.pth").write_text(
        'import sys; sys.modules["websockets"] = None; sys.modules["wsproto"] = None\n'
    )
    app = tmp_path / "app.py"
    app.write_text((APPS / "websockets_app.py").read_text())
    code, out, err, _ = scan_json(str(app), "-n", "3", "--python", str(python), cwd=tmp_path)
    routes = {(r["method"], r["path"]): r for r in out["routes"]}
    assert routes[("GET", "/after")]["verdict"] == "fine", err
    ws = [r for (method, _), r in routes.items() if method == "WS"]
    assert len(ws) == 5 and all(r["verdict"] == "skipped" for r in ws)
    assert {r["reason"] for r in ws} == {websocket.NO_LIBRARY}
    assert code == 0
