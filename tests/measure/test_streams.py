"""The SSE body reader the engine's stream clients share (measure/streams.py): chunked,
sized or up to EOF, events handed over as they complete, comments skipped, and the
reader leaving when told."""

from __future__ import annotations

import asyncio

import pytest

from autograder.measure.streams import sse_body

EVENTS = b": ping\n\ndata: 1\n\ndata: 2\ndata: two\n\n"


def _read(body: bytes, headers: dict[str, str], leave_at: int | None = None) -> tuple[bool, list]:
    async def go() -> tuple[bool, list]:
        reader = asyncio.StreamReader()
        reader.feed_data(body)
        reader.feed_eof()
        got: list[str] = []

        def event(data: str) -> bool:
            got.append(data)
            return leave_at is not None and len(got) >= leave_at

        return await sse_body(reader, headers, event), got

    return asyncio.run(go())


def _chunked(data: bytes, size: int) -> bytes:
    parts = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in parts) + b"0\r\n\r\n"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (_chunked(EVENTS, 5), {"transfer-encoding": "chunked"}),
        (EVENTS, {"content-length": str(len(EVENTS))}),
        (EVENTS, {}),
    ],
    ids=["chunked", "sized", "to-eof"],
)
def test_events_are_read_however_the_body_is_framed(body, headers):
    assert _read(body, headers) == (False, ["1", "2\ntwo"])


def test_the_reader_leaves_when_told():
    assert _read(_chunked(EVENTS, 5), {"transfer-encoding": "chunked"}, leave_at=1) == (True, ["1"])
