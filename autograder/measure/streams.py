"""Long-lived connections measured from outside: one record per connection, and its clients.

A :class:`Stream` is what one client saw on one connection that stays open while the
server sends: when it opened, each message with the moment it arrived, when the client
left or the server ended it (and how). Two clients fill it: :func:`read_sse` (Server-Sent
Events over the raw HTTP/1.1 client's socket, the ``token-stream`` exercise) and the
WebSocket members of ``ws-broadcast``: :func:`ws_member` (the ``websockets`` library's
client; it answers the server's pings, or, stalled, reads nothing until told) and
:func:`ws_silent` (a raw socket that completes the handshake, then drains what arrives and
answers nothing: a peer that vanished without closing, which only a keepalive finds).
The scan reads its event streams with :func:`sse_body` (:func:`read_sse`'s body reader)
and connects to a service's WebSocket routes with :func:`ws_member` (its ``greeting``: one
text message, unless the route spoke first).

Every time is ``time.monotonic()``, the clock of the dependency servers too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograder.measure.load import HOST, Response

__all__ = [
    "Stream",
    "read_sse",
    "sse_body",
    "sse_events",
    "join_member",
    "ws_member",
    "ws_silent",
    "STALLED_SOCKET",
]

# A stalled member's socket: a small receive buffer and an Internet-like segment size, set
# before connecting. On loopback (MTU 64 KiB) the server's send buffer otherwise auto-tunes
# to ~4 MiB at connect, and megabytes go into the kernel before the server's send() waits.
STALLED_SOCKET = {"rcvbuf": 4096, "mss": 1400}


@dataclass
class Stream:
    """One long-lived connection as the client saw it.

    ``messages[i]`` arrived at ``times[i]`` (what a message is, the caller's ``parse``
    decides); ``left`` is when the client closed it on purpose, ``ended`` when the server
    ended it (a close frame, EOF or the end of the response), ``close_code`` the WebSocket
    close code it sent (1005: none given), ``error`` what else went wrong.
    """

    opened: float | None = None
    messages: list[Any] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    left: float | None = None
    ended: float | None = None
    close_code: int | None = None
    error: str | None = None
    said: float | None = None  # when the client sent its one message (a scan's greeting)

    def arrived(self, value: Any) -> None:
        self.messages.append(value)
        self.times.append(time.monotonic())

    def since(self, t: float) -> list[Any]:
        """The messages that arrived at or after ``t``."""
        return [m for m, at in zip(self.messages, self.times, strict=True) if at >= t]


# -- Server-Sent Events ------------------------------------------------------------------------


def sse_events(buffer: bytearray) -> list[str]:
    """Pop the complete SSE events (their data lines joined) from ``buffer``."""
    text = bytes(buffer).replace(b"\r\n", b"\n")
    *complete, rest = text.split(b"\n\n")
    buffer[:] = rest
    out = []
    for block in complete:
        data = [
            line[5:].removeprefix(b" ").decode(errors="replace")
            for line in block.split(b"\n")
            if line.startswith(b"data:")
        ]
        if data:
            out.append("\n".join(data))
    return out


async def sse_body(
    reader: asyncio.StreamReader, headers: dict[str, str], event: Callable[[str], bool]
) -> bool:
    """Read an SSE response's body after its head (``headers``: lower-case names), chunked,
    sized or up to EOF, handing each event's data to ``event`` as it completes. True when
    ``event`` said to leave (the rest is not read), False when the body ended."""
    buffer = bytearray()

    def arrived(data: bytes) -> bool:
        buffer.extend(data)
        return any(event(e) for e in sse_events(buffer))

    if headers.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16):
            if arrived((await reader.readexactly(size + 2))[:-2]):
                return True
        return False
    if "content-length" in headers:
        return arrived(await reader.readexactly(int(headers["content-length"])))
    while data := await reader.read(65536):
        if arrived(data):
            return True
    return False


async def read_sse(
    port: int,
    record: Response,
    stream: Stream,
    parse: Callable[[str], Any],
    *,
    leave_after: int | None,
    deadline: float,
) -> None:
    """One SSE client: each event ``parse`` turns into a value (None: not a message) is noted
    with when it arrived; after ``leave_after`` messages it closes the connection (a FIN,
    as a browser tab that closes). ``record`` gets the response's status and end."""
    writer = None

    def arrived(event: str) -> bool:
        value = parse(event)
        if value is not None:
            stream.arrived(value)
            return leave_after is not None and len(stream.messages) >= leave_after
        return False

    try:
        async with asyncio.timeout(max(deadline - time.monotonic(), 0.01)):
            reader, writer = await asyncio.open_connection(HOST, port)
            stream.opened = time.monotonic()
            writer.write(record.request.encode(HOST, port))
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            record.status = int(head[0].split(" ", 2)[1])
            for line in head[1:]:
                key, _, value = line.partition(":")
                if key:
                    record.headers[key.strip().lower()] = value.strip()
            leave = await sse_body(reader, record.headers, arrived)
            record.end = time.monotonic()
            if leave:
                stream.left = record.end
            else:
                stream.ended = record.end
    except TimeoutError:
        record.error = stream.error = "unfinished when the grader stopped waiting"
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        record.end = time.monotonic()
        record.error = stream.error = f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()


# -- WebSockets ----------------------------------------------------------------------------------


async def _small_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_SOCKET["rcvbuf"])
        with contextlib.suppress(OSError):  # not every system lets a client pick its MSS
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, STALLED_SOCKET["mss"])
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (HOST, port))
    except BaseException:
        sock.close()
        raise
    return sock


async def join_member(
    port: int,
    path: str,
    parse: Callable[[str | bytes], Any],
    *,
    stop: asyncio.Event,
    tasks: list[asyncio.Task[None]],
    **kw: Any,
) -> Stream:
    """A reading :func:`ws_member` started as a task (added to ``tasks``), once its
    handshake is done; raises when it could not join."""
    stream, joined = Stream(), asyncio.Event()
    tasks.append(
        asyncio.create_task(ws_member(port, path, stream, parse, joined=joined, stop=stop, **kw))
    )
    await joined.wait()
    if stream.error:
        raise RuntimeError(f"a member could not join {path}: {stream.error}")
    return stream


async def ws_member(
    port: int,
    path: str,
    stream: Stream,
    parse: Callable[[str | bytes], Any],
    *,
    joined: asyncio.Event,
    stop: asyncio.Event,
    reading: asyncio.Event | None = None,
    small_buffers: bool = False,
    greeting: str | None = None,
    greet_unless_within: float = 0.0,
    arrived: asyncio.Event | None = None,
) -> None:
    """A WebSocket member (the ``websockets`` client, no compression, no pings of its own;
    it answers the server's while it reads). It reads from the start, or, given
    ``reading``, nothing at all until that is set (its buffers fill: ``small_buffers``
    keeps them small, as on a real network), then everything until the server ends the
    connection or ``stop`` is set. ``joined`` is set once the handshake is done (or failed),
    ``arrived`` when the first message arrives. With a ``greeting`` it sends that one text
    message (``stream.said``: when) unless a message arrived within ``greet_unless_within``
    s of the handshake: a route that speaks first is not spoken to."""
    import websockets
    from websockets.asyncio.client import connect

    sock = None
    try:
        if small_buffers:
            sock = await _small_socket(port)
        async with connect(
            f"ws://{HOST}:{port}{path}",
            sock=sock,
            compression=None,
            ping_interval=None,
            close_timeout=1,
            max_size=None,
            max_queue=1 if reading is not None else 16,
            proxy=None,
            open_timeout=10,
            user_agent_header="autograder",
        ) as ws:
            stream.opened = time.monotonic()
            joined.set()

            first = arrived if arrived is not None else asyncio.Event()

            async def read() -> None:
                if reading is not None:
                    await reading.wait()
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for message in ws:
                        stream.arrived(parse(message))
                        first.set()
                stream.ended = time.monotonic()
                stream.close_code = ws.close_code if ws.close_code is not None else 1006

            async def greet(text: str) -> None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(greet_unless_within):
                        await first.wait()
                if not first.is_set():
                    with contextlib.suppress(websockets.ConnectionClosed):
                        stream.said = time.monotonic()
                        await ws.send(text)

            work = read() if greeting is None else asyncio.gather(read(), greet(greeting))
            await _until(work, stop)
            if stream.ended is None:
                stream.left = time.monotonic()
    except (OSError, TimeoutError, websockets.WebSocketException) as exc:
        stream.error = f"{type(exc).__name__}: {exc}"
    finally:
        joined.set()
        if sock is not None:
            sock.close()


async def ws_silent(
    port: int,
    path: str,
    stream: Stream,
    parse: Callable[[str | bytes], Any],
    *,
    joined: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """A member that vanished without closing: the handshake, then it drains what arrives
    (as the kernel of a peer gone from the network would not, but loopback cannot drop
    packets) and never answers a ping nor sends anything. Only the server's keepalive can
    find it; ``ended`` is when its close frame or EOF arrived."""
    writer = None
    try:
        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nUser-Agent: autograder\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status_line:
            raise OSError(f"the handshake was refused: {status_line!r}")
        stream.opened = time.monotonic()
        joined.set()

        async def read() -> None:
            try:
                while True:
                    b0, b1 = await reader.readexactly(2)
                    n = b1 & 0x7F
                    if n == 126:
                        (n,) = struct.unpack("!H", await reader.readexactly(2))
                    elif n == 127:
                        (n,) = struct.unpack("!Q", await reader.readexactly(8))
                    payload = await reader.readexactly(n)  # servers never mask
                    opcode = b0 & 0x0F
                    if opcode in (1, 2):
                        stream.arrived(parse(payload.decode() if opcode == 1 else payload))
                    elif opcode == 8:
                        stream.close_code = (
                            struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                        )
                        break
            except asyncio.IncompleteReadError:
                stream.close_code = stream.close_code or 1006  # EOF without a close frame
            stream.ended = time.monotonic()

        await _until(read(), stop)
        if stream.ended is None:
            stream.left = time.monotonic()
    except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
        stream.error = f"{type(exc).__name__}: {exc}"
    finally:
        joined.set()
        if writer is not None:
            writer.close()


async def _until(work: Any, stop: asyncio.Event) -> None:
    """Run ``work`` until it ends or ``stop`` is set (then cancel it)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([task, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (task, stopping):
            t.cancel()
        await asyncio.gather(task, stopping, return_exceptions=True)
