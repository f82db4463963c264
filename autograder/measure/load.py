"""A minimal HTTP/1.1 load client: one connection per request, nothing else.

httpx is a fine client, but on a 2-core machine it adds ~0.1 s of CPU to a 100-request
burst and one pooled client cannot open hundreds of connections at once. The grader's
figures must describe the server, not the client, so requests here are raw bytes on
a fresh socket (``Connection: close``) and every timestamp is ``time.monotonic()``:
the same clock the dependency servers use in their own process.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["HOST", "Request", "Response", "send", "burst", "OpenLoopProbe", "staggered"]

HOST = "127.0.0.1"  # the submission listens on loopback (in its own network namespace or not)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json_body: Any = None
    headers: tuple[tuple[str, str], ...] = ()  # extra ones (the scan's user-written requests)

    def encode(self, host: str, port: int) -> bytes:
        body = b"" if self.json_body is None else json.dumps(self.json_body).encode()
        head = [
            f"{self.method} {self.path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Connection: close",
            "User-Agent: autograder",
        ]
        head += [f"{name}: {value}" for name, value in self.headers]
        if self.json_body is not None:
            head.append("Content-Type: application/json")
        if body or self.method in {"POST", "PUT", "PATCH"}:
            head.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class Response:
    """One request as the client saw it. ``end`` is None while it is unanswered."""

    request: Request
    start: float
    end: float | None = None
    status: int | None = None
    body: bytes = b""
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.end is not None and self.error is None

    @property
    def latency(self) -> float | None:
        return None if self.end is None else self.end - self.start

    @property
    def dropped(self) -> bool:
        """The server closed or refused the connection without answering (not a time-out)."""
        return self.error is not None and self.end is not None

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = dechunk(body)
    return status, headers, body


def dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


async def send(
    host: str, port: int, request: Request, *, wait_at_most: float, record: Response | None = None
) -> Response:
    """Send one request on a new connection; done when the whole body has arrived.

    The body's end is found from Content-Length (or the last chunk), not from the
    connection closing: a server whose loop is blocked writes the response at once
    but closes the socket only on a later loop iteration.
    """
    response = record or Response(request=request, start=time.monotonic())
    writer = None
    try:
        async with asyncio.timeout(wait_at_most):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(request.encode(host, port))
            raw = await _read_response(reader)
        response.end = time.monotonic()
        if not raw:
            response.error = "the server closed the connection without answering"
        else:
            response.status, response.headers, response.body = _parse(raw)
    except TimeoutError:
        response.error = f"no answer within {wait_at_most:.1f} s"
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        response.end = time.monotonic()
        response.error = f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()
    return response


async def _read_response(reader: asyncio.StreamReader) -> bytes:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        return exc.partial
    return await read_rest(reader, head)


async def read_rest(reader: asyncio.StreamReader, head: bytes) -> bytes:
    """The whole response once its ``head`` (up to the blank line) was read: the head and
    the body, whose end is found as :func:`send` finds it."""
    headers = head.lower()
    for line in headers.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return head + await reader.readexactly(int(line.split(b":", 1)[1]))
    if b"transfer-encoding: chunked" in headers:
        body = b""
        while not body.endswith(b"0\r\n\r\n"):
            chunk = await reader.read(65536)
            if not chunk:
                break
            body += chunk
        return head + body
    return head + await reader.read(-1)


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body de-chunked) of a whole response."""
    return _parse(raw)


async def burst(
    host: str,
    port: int,
    requests: Sequence[Request],
    *,
    give_up_after: float,
    wait_at_most: float = 30.0,
) -> list[Response]:
    """Fire every request at once and wait for all, or until ``give_up_after`` seconds.

    Stopping early is how a broken submission is graded as fast as a fixed one: once
    the burst is past its limit the verdict is settled. Requests still unanswered keep
    ``end=None`` and are counted as such by the checks.
    """
    start = time.monotonic()
    records = [Response(request=r, start=start) for r in requests]
    tasks = [
        asyncio.create_task(send(host, port, r, wait_at_most=wait_at_most, record=rec))
        for r, rec in zip(requests, records, strict=True)
    ]
    await _wait_settled(tasks, give_up_after)
    return records


async def staggered(
    host: str,
    port: int,
    requests: Sequence[Request],
    *,
    interval: float,
    give_up_after: float,
    wait_at_most: float = 30.0,
) -> list[Response]:
    """Send requests on a fixed schedule (open loop), one every ``interval`` seconds."""
    t0 = time.monotonic()
    records: list[Response] = []
    tasks: list[asyncio.Task[Response]] = []
    for i, r in enumerate(requests):
        await _sleep_until(t0 + i * interval)
        rec = Response(request=r, start=time.monotonic())
        records.append(rec)
        tasks.append(
            asyncio.create_task(send(host, port, r, wait_at_most=wait_at_most, record=rec))
        )
    await _wait_settled(tasks, give_up_after - (time.monotonic() - t0))
    return records


async def _wait_settled(tasks: list[asyncio.Task[Response]], budget: float) -> None:
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=max(budget, 0.0))
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


class OpenLoopProbe:
    """Send a probe request every ``interval`` seconds, whatever the previous one is doing.

    Sequential probing (the next probe after the previous answer) takes one sample per
    freeze and lets a frozen loop look healthy; an open-loop schedule counts every
    probe that had to wait.
    """

    def __init__(
        self, host: str, port: int, path: str, *, interval: float = 0.02, wait_at_most: float = 30.0
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.interval, self.wait_at_most = interval, wait_at_most
        self.records: list[Response] = []
        self._tasks: list[asyncio.Task[Response]] = []
        self._runner: asyncio.Task[None] | None = None
        self.on_probe: Callable[[Response], Awaitable[None]] | None = None

    def start(self) -> None:
        self._runner = asyncio.create_task(self._run())

    async def _run(self) -> None:
        t0 = time.monotonic()
        i = 0
        while True:
            rec = Response(request=Request("GET", self.path), start=time.monotonic())
            self.records.append(rec)
            self._tasks.append(
                asyncio.create_task(
                    send(
                        self.host,
                        self.port,
                        rec.request,
                        wait_at_most=self.wait_at_most,
                        record=rec,
                    )
                )
            )
            i += 1
            await _sleep_until(t0 + i * self.interval)

    async def stop(self, *, drain: float = 0.3) -> list[Response]:
        """Stop sending; give probes in flight ``drain`` seconds, then cut them off.

        A probe still pending when cut off keeps ``end=None``; :func:`probe_latencies`
        counts it as late by the time it had already waited.
        """
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        await _wait_settled(self._tasks, drain)
        self.stopped_at = time.monotonic()
        return self.records


def probe_latencies(
    probes: Sequence[Response], *, since: float, until: float, cut_off: float
) -> list[float]:
    """Latency of each probe sent in [since, until]; a probe never answered counts as
    having waited until ``cut_off`` (a lower bound of its real latency)."""
    out = []
    for p in probes:
        if since <= p.start <= until:
            if p.end is not None and p.error is None:
                out.append(p.end - p.start)
            else:
                out.append(max(cut_off - p.start, 0.0))
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); no interpolation between samples."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]
