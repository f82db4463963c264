"""The dependency servers: a slow HTTP upstream and a real SMTP server, in a process of their own.

Run as ``python -m autograder.servers.process --upstream-fd N --smtp-fd M --audit-log PATH``
with two listening sockets inherited from the sandbox's supervisor, which binds them
inside the sandbox (so their ports are known before either this process or the
submission starts: the two start side by side). The grader
drives it with one JSON command per line on stdin and reads one JSON answer per line on
stdout; the submission knows neither pipe, so it cannot touch the figures recorded here.

The upstream also serves the rate-limited APIs of ``limited_upstream`` (``/parts/...``,
``/sdk/...``); ``stats`` reports their figures under ``limited``; and the model API that
streams tokens (``/v1/stream``, ``model.py``), its figures under ``model``.

Commands: ``stats``, ``reset``, ``smtp_refuse`` (close the SMTP listener: connections
are then refused), ``quit``.

What is recorded, all with ``time.monotonic()`` (one clock for every process):

- upstream: every request (path, start, end) and the peak number in flight at once
  (the row source and the hanging quotes keep figures of their own: ``slow.py``);
- SMTP: every delivered message (recipients, subject, Message-ID, when it arrived and was
  accepted, and the audit-log lines present when it arrived), the messages in flight
  (arrived, not yet accepted: a sender that dies then loses them) and the peak in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import time
import urllib.parse
from email import message_from_bytes
from email.header import decode_header, make_header
from http import HTTPStatus
from pathlib import Path
from typing import Any

from autograder.servers.limited import LimitedRoutes
from autograder.servers.model import ModelStreams
from autograder.servers.slow import SlowUpstreams

UPSTREAM_DELAY = 0.3
SMTP_DELAY = 0.3


def temperature_for(city: str) -> int:
    """The upstream's temperature for a city: deterministic, different between cities."""
    return sum(city.encode()) % 45 - 10


def weather_body(city: str) -> dict[str, Any]:
    return {"city": city, "temp_c": temperature_for(city)}


def legacy_body(item_id: int) -> dict[str, Any]:
    return {"item_id": item_id, "name": f"item-{item_id}"}


class Upstream:
    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.requests: list[dict[str, Any]] = []
        self.slow = SlowUpstreams()  # /rows and /quote (slow.py)
        self.limited = LimitedRoutes()
        self.model = ModelStreams()  # /v1/stream (model.py)

    def reset(self) -> None:
        self.peak = self.in_flight
        self.requests = []
        self.slow.reset()
        self.limited.reset()
        self.model.reset()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: pooled clients reuse the connection
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                if int(headers.get("content-length", "0") or 0):
                    await reader.readexactly(int(headers["content-length"]))
                url = urllib.parse.urlsplit(target)
                close = headers.get("connection", "").lower() == "close"
                if self.model.handles(url.path):  # writes its streamed answer itself
                    reusable = await self.model.stream(method, url, reader, writer)
                    if close or not reusable:
                        break
                    continue
                if self.slow.handles(url.path):
                    answer = await self.slow.answer(method, url, reader)
                    if answer is None:  # a hanging call the caller gave up on
                        break
                    status, body = answer
                elif self.limited.owns(url.path):
                    answer = await self.limited.answer(method, url.path, reader)
                    if answer is None:  # the caller hung up
                        break
                    status, body = answer
                else:
                    status, body = await self._answer(method, url.path)
                payload = json.dumps(body).encode()
                writer.write(
                    f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                    "content-type: application/json\r\n"
                    f"content-length: {len(payload)}\r\n"
                    f"connection: {'close' if close else 'keep-alive'}\r\n\r\n".encode()
                    + payload
                )
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if method != "GET" or len(parts) != 2 or parts[0] not in {"weather", "legacy"}:
            return 404, {"detail": "Not Found"}
        if parts[0] == "legacy" and not parts[1].isdigit():
            return 404, {"detail": "item ids are integers"}
        record = {"path": path, "start": time.monotonic(), "end": None}
        self.requests.append(record)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(UPSTREAM_DELAY)
        finally:
            self.in_flight -= 1
            record["end"] = time.monotonic()
        if parts[0] == "weather":
            return 200, weather_body(parts[1])
        return 200, legacy_body(int(parts[1]))


class SlowMailbox:
    """aiosmtpd handler: takes SMTP_DELAY to accept each message, records what arrived."""

    def __init__(self, audit_log: Path | None) -> None:
        self.audit_log = audit_log
        self.in_flight = 0
        self.peak = 0
        self.messages: list[dict[str, Any]] = []
        self.pending: list[dict[str, Any]] = []  # arrived, not yet accepted

    def reset(self) -> None:
        self.peak = self.in_flight
        self.messages = []

    def _audit_lines(self) -> list[str]:
        if self.audit_log is None:
            return []
        try:
            return self.audit_log.read_text(errors="replace").splitlines()
        except OSError:
            return []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        arrived = time.monotonic()
        audit_then = self._audit_lines()  # read before the delay: "written before sending"
        msg = message_from_bytes(envelope.original_content or envelope.content)
        subject = str(make_header(decode_header(msg.get("Subject", ""))))
        # A message whose sender goes away during the delay is never accepted: aiosmtpd
        # cancels this handler when the connection is lost, and nothing is recorded.
        pending = {"subject": subject, "arrived": arrived}
        self.pending.append(pending)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(SMTP_DELAY)
        finally:
            self.in_flight -= 1
            self.pending.remove(pending)
        self.messages.append(
            {
                "rcpt_tos": list(envelope.rcpt_tos),
                "mail_from": envelope.mail_from,
                "subject": subject,
                "message_id": str(msg.get("Message-ID", "")).strip(),
                "arrived": arrived,
                "accepted": time.monotonic(),
                "audit_lines_at_arrival": audit_then,
            }
        )
        return "250 Message accepted"


async def serve(upstream_fd: int, smtp_fd: int, audit_log: Path | None) -> None:
    from aiosmtpd.smtp import SMTP  # imported here: ~0.1 s, only in this process

    loop = asyncio.get_running_loop()
    upstream = Upstream()
    mailbox = SlowMailbox(audit_log)
    up_sock = socket.socket(fileno=upstream_fd)
    smtp_sock = socket.socket(fileno=smtp_fd)
    up_server = await asyncio.start_server(upstream.handle, sock=up_sock, backlog=1024)
    smtp_server: asyncio.Server | None = await loop.create_server(
        # hostname given: aiosmtpd would otherwise ask DNS for the FQDN on every session
        lambda: SMTP(mailbox, hostname="localhost", ident="course-smtp"),
        sock=smtp_sock,
        backlog=1024,
    )

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def reply(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    reply({"ready": True})
    async with up_server:
        while line := await reader.readline():
            command = json.loads(line)["cmd"]
            if command == "stats":
                reply(
                    {
                        "upstream": {"peak": upstream.peak, "requests": upstream.requests},
                        "limited": upstream.limited.stats(),
                        "smtp": {
                            "peak": mailbox.peak,
                            "messages": mailbox.messages,
                            "in_flight": mailbox.pending,
                        },
                        "smtp_listening": smtp_server is not None,
                        "slow": upstream.slow.stats(),
                        "model": upstream.model.stats(),
                    }
                )
            elif command == "reset":
                upstream.reset()
                mailbox.reset()
                reply({"ok": True})
            elif command == "smtp_refuse":
                if smtp_server is not None:
                    smtp_server.close()
                    smtp_server = None
                reply({"ok": True})
            elif command == "quit":
                reply({"ok": True})
                break
            else:
                reply({"error": f"unknown command {command!r}"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream-fd", type=int, required=True)
    parser.add_argument("--smtp-fd", type=int, required=True)
    parser.add_argument("--audit-log", type=Path, default=None)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.upstream_fd, args.smtp_fd, args.audit_log))


if __name__ == "__main__":
    main()
