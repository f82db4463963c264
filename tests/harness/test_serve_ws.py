"""WebSockets in the grading environment: uvicorn serves them with ``websockets``' sans-I/O
protocol and the grader's keepalive; an environment without it still serves HTTP."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from autograder.harness import app, serve
from autograder.measure.load import HOST, Request
from autograder.measure.session import Session
from autograder.measure.streams import Stream, ws_member
from autograder.run import runner

APP = """
from fastapi import FastAPI, WebSocket

app = FastAPI()


@app.get("/health")
async def health():
    return {"ok": True}


@app.websocket("/echo")
async def echo(ws: WebSocket):
    await ws.accept()
    for i in range(3):
        await ws.send_text(f"{i:06d} hello")
    await ws.close(code=1000)
"""


def test_the_grader_serves_websockets_sansio_with_its_keepalive():
    assert app.ws_options() == {
        "ws": "websockets-sansio",
        "ws_ping_interval": app.WS_PING_INTERVAL,
        "ws_ping_timeout": app.WS_PING_TIMEOUT,
    }


def test_without_the_websockets_package_websockets_stay_off(monkeypatch: pytest.MonkeyPatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "websockets" else real(name)
    )
    assert app.ws_options() == {"ws": "none"}


def test_an_older_uvicorn_without_the_sansio_protocol_keeps_websockets_off(
    monkeypatch: pytest.MonkeyPatch,
):
    import uvicorn.config

    older = {k: v for k, v in uvicorn.config.WS_PROTOCOLS.items() if k != "websockets-sansio"}
    monkeypatch.setattr(uvicorn.config, "WS_PROTOCOLS", older)
    assert app.ws_options() == {"ws": "none"}


def test_config_options_an_older_uvicorn_lacks_are_dropped():
    def old_config(app, loop="auto", http="auto", ws="auto"):  # no keepalive options
        pass

    options = {"loop": "asyncio", "ws": "none", **app.ws_options()}
    assert serve.supported(old_config, options) == {"loop": "asyncio", "ws": "websockets-sansio"}


@pytest.mark.slow
def test_a_served_app_accepts_a_websocket(tmp_path: Path):
    app_file = tmp_path / "app.py"
    app_file.write_text(APP)

    async def main() -> tuple[Stream, int | None]:
        async with runner.running(app_file) as run:
            s = Session(run)
            health = await s.send(Request("GET", "/health"))
            stream = Stream()
            joined, stop = asyncio.Event(), asyncio.Event()
            await asyncio.wait_for(
                ws_member(run.app_port, "/echo", stream, lambda m: m, joined=joined, stop=stop),
                timeout=10,
            )
            return stream, health.status

    stream, status = asyncio.run(main())
    assert status == 200 and HOST
    assert stream.error is None, stream.error
    assert stream.messages == [f"{i:06d} hello" for i in range(3)]
    assert stream.close_code == 1000 and stream.ended is not None
