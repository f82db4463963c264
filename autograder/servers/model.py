"""A model API that streams its answer token by token, mounted by the dependency servers' upstream.

``GET /v1/stream?prompt=P`` (the ``token-stream`` exercise) answers 200
``text/event-stream`` (chunked) and sends the answer's tokens as Server-Sent Events: the
first after ``FIRST_DELAY`` (the model "thinking"), then one every ``TOKEN_DELAY``, each
``data: {"index": i, "text": "<token>"}`` and a blank line, then ``data: [DONE]``. An
answer has ``TOKENS`` tokens, or ``LONG_TOKENS`` for a prompt ending in ``LONG_SUFFIX``
(a model's answers differ in length). Token texts derive from a secret drawn when the
process starts (the grader reads it from ``stats``): a submission cannot produce them
without asking.

Each stream is recorded (all times ``time.monotonic()``, the clock of every process):
``prompt``, ``opened``, ``token_times`` (when each token was written: their count is the
tokens produced), ``ended`` (when the last token was written, else None), ``closed``
(when the caller closed the connection before the end, else None) and ``outcome``:
``completed``, ``abandoned`` (the caller hung up first: the model stopped producing at
once, as a model API does when its client goes away), or None while it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
import urllib.parse
from typing import Any

PATH = "/v1/stream"
FIRST_DELAY = 0.5
TOKEN_DELAY = 0.025
TOKENS = 20
LONG_TOKENS = 80
LONG_SUFFIX = "-long"


def tokens_for(prompt: str) -> int:
    """How many tokens the answer to ``prompt`` has."""
    return LONG_TOKENS if prompt.endswith(LONG_SUFFIX) else TOKENS


def token_event(secret: str, prompt: str, index: int) -> dict[str, Any]:
    """What event ``index`` of the answer to ``prompt`` carries (its ``data``, as JSON)."""
    digest = hashlib.sha256("\x00".join([secret, "token", prompt, str(index)]).encode())
    return {"index": index, "text": " " + digest.hexdigest()[:6]}


def answer_events(secret: str, prompt: str) -> list[dict[str, Any]]:
    """Every token event of the answer to ``prompt``, in order."""
    return [token_event(secret, prompt, i) for i in range(tokens_for(prompt))]


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class ModelStreams:
    """The streaming route, its per-stream records, and the secret tokens derive from."""

    def __init__(self) -> None:
        self.secret = secrets.token_hex(8)
        self.in_flight = 0
        self.peak = 0
        self.streams: list[dict[str, Any]] = []

    @staticmethod
    def handles(path: str) -> bool:
        return path.rstrip("/") == PATH

    def reset(self) -> None:
        self.peak = self.in_flight
        self.streams = []

    def stats(self) -> dict[str, Any]:
        return {"secret": self.secret, "peak": self.peak, "streams": self.streams}

    async def stream(
        self,
        method: str,
        url: urllib.parse.SplitResult,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Write the whole answer; True when the connection may serve another request."""
        prompt = urllib.parse.parse_qs(url.query).get("prompt", [""])[0]
        if method != "GET" or not prompt:
            body = b'{"detail": "GET /v1/stream?prompt=..."}'
            writer.write(
                b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            return True
        record: dict[str, Any] = {
            "prompt": prompt,
            "opened": time.monotonic(),
            "token_times": [],
            "ended": None,
            "closed": None,
            "outcome": None,
        }
        self.streams.append(record)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        # HTTP/1.1 clients send nothing more until the answer has ended: anything the
        # connection yields meanwhile is its end, i.e. the caller hung up.
        hung_up = asyncio.ensure_future(reader.read(1))
        try:
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
            )
            await writer.drain()
            next_at = record["opened"] + FIRST_DELAY
            for i in range(tokens_for(prompt)):
                wait = asyncio.ensure_future(asyncio.sleep(max(next_at - time.monotonic(), 0)))
                await asyncio.wait({hung_up, wait}, return_when=asyncio.FIRST_COMPLETED)
                if hung_up.done():
                    wait.cancel()
                    break
                event = json.dumps(token_event(self.secret, prompt, i))
                writer.write(_chunk(f"data: {event}\n\n".encode()))
                record["token_times"].append(time.monotonic())
                await writer.drain()
                next_at += TOKEN_DELAY
            else:
                writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
                record["ended"] = time.monotonic()
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self.in_flight -= 1
            if record["ended"] is None:
                record["closed"] = time.monotonic()
                record["outcome"] = "abandoned"
            else:
                record["outcome"] = "completed"
            hung_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                # a reset connection's error is retrieved here, not logged as lost
                await asyncio.gather(hung_up, return_exceptions=True)
        return record["outcome"] == "completed"
