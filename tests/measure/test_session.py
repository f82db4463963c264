"""Session.measure_burst, the one measuring path of the grader, the notebooks and the
drills, against a tiny asyncio HTTP server standing in for a served app (no sandbox)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from autograder.harness.app import PROBE_PATH
from autograder.measure.burst import Burst
from autograder.measure.load import Request
from autograder.measure.session import Session
from autograder.run.handles import Run

WORK = 0.1  # what GET /work takes (an awaited sleep: the loop stays free)


@contextlib.asynccontextmanager
async def app(seen: list[str]) -> AsyncIterator[int]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            seen.append(path)
            if path == "/work":
                await asyncio.sleep(WORK)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


def measure(tmp_path: Path, **kwargs: object) -> tuple[Burst, list[str]]:
    seen: list[str] = []

    async def main() -> Burst:
        async with app(seen) as port:
            run = Run(app_file=tmp_path / "app.py", workdir=tmp_path, token="t", app_port=port)
            return await Session(run).measure_burst(
                [Request("GET", "/work")] * 5, give_up_after=5.0, **kwargs
            )

    return asyncio.run(main()), seen


def test_a_burst_with_a_probe_on_a_path(tmp_path: Path):
    b, seen = measure(tmp_path, probe="/health", probe_every=0.01)
    assert len(b.answered) == 5 and all(r.body == b"ok" for r in b.responses)
    assert b.probe_path == "/health" and b.probes
    assert {p.request.path for p in b.probes} == {"/health"} and "/health" in seen
    assert b.probe_since == b.started  # no warm-up: the window opens with the burst
    assert b.probe_cut_off is not None and b.probe_cut_off >= b.finished
    assert b.started <= min(r.start for r in b.responses) and b.finished >= max(
        r.end for r in b.responses if r.end is not None
    )
    assert b.probe_latencies


def test_the_loop_probe_and_a_warm_up_before_the_burst(tmp_path: Path):
    b, seen = measure(tmp_path, probe="loop", probe_every=0.01, warm_up=Request("GET", "/work"))
    assert seen.count("/work") == 6 and len(b.responses) == 5  # the warm-up is not in the burst
    assert {p.request.path for p in b.probes} == {PROBE_PATH}
    # the window opens before the warm-up: probes sent while it ran are counted
    assert b.probe_since is not None and b.probe_since < b.started
    counted = [p for p in b.probes if b.probe_since <= p.start <= b.finished]
    assert any(p.start < b.started for p in counted)
    assert b.loop[1] == len(counted)


def test_probing_on_after_the_answers(tmp_path: Path):
    b, _ = measure(tmp_path, probe="/health", probe_for=0.3)
    assert b.finished - b.started >= 0.3
    assert max(p.start for p in b.probes) > max(r.end for r in b.responses if r.end is not None)


def test_a_burst_without_a_probe(tmp_path: Path):
    b, seen = measure(tmp_path)
    assert seen == ["/work"] * 5
    assert b.probes == [] and b.probe_path is None and b.probe_cut_off is None
    assert b.loop == (None, 0)


def test_a_steady_stream_instead_of_a_burst(tmp_path: Path):
    b, seen = measure(tmp_path, every=0.05)
    assert len(b.answered) == 5 and seen == ["/work"] * 5
    starts = sorted(r.start for r in b.responses)
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.04, gaps  # one every 50 ms, not all at once
