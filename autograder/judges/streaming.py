"""streaming: ``GET /export/{report}`` streams a report's rows from a paginated source at its pace.

The source (``/rows`` on the upstream) hands out one row every 50 ms, each with the cursor
of the next. The starter walks it with a sync client inside an ``async def`` generator:
every page wait blocks the loop, so 20 exports share one row at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.measure import session
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session
from autograder.servers.slow import ROW_DELAY, ROWS_PER_REPORT, export_body

N = 20
FIRST_ROW_LIMIT = 0.3  # first row from the source after 50 ms; a buffered export, 0.5 s
TOTAL_LIMIT = 1.0  # each export takes 10 x 50 ms = 0.5 s at the source's pace
LAG_LIMIT = 0.2
GRACE = 0.1


async def stream_one(port: int, record: Response, firsts: list[float | None], i: int) -> None:
    """Read one chunked (or plain) response, noting when its first full line arrived."""
    writer = None
    body = bytearray()

    def arrived(data: bytes) -> None:
        body.extend(data)
        if firsts[i] is None and b"\n" in body:
            firsts[i] = time.monotonic() - record.start

    try:
        reader, writer = await asyncio.open_connection(session.HOST, port)
        writer.write(record.request.encode(session.HOST, port))
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        record.status = int(head[0].split(" ", 2)[1])
        for line in head[1:]:
            key, _, value = line.partition(":")
            if key:
                record.headers[key.strip().lower()] = value.strip()
        if record.headers.get("transfer-encoding", "").lower() == "chunked":
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16):
                arrived((await reader.readexactly(size + 2))[:-2])
        elif "content-length" in record.headers:
            arrived(await reader.readexactly(int(record.headers["content-length"])))
        else:
            while data := await reader.read(65536):
                arrived(data)
        record.end = time.monotonic()
        record.body = bytes(body)
    except (OSError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        record.end = time.monotonic()
        record.body = bytes(body)
        record.error = f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()


async def measure(s: Session) -> Figures:
    secret = (await s.deps_stats())["slow"]["secret"]
    tag = uuid.uuid4().hex[:6]
    requests = [Request("GET", f"/export/{tag}-{i}") for i in range(N)]
    s.start_loop_probe()
    start = time.monotonic()
    records = [Response(request=r, start=start) for r in requests]
    firsts: list[float | None] = [None] * N
    tasks = [asyncio.create_task(stream_one(s.port, rec, firsts, i)) for i, rec in enumerate(records)]
    _, pending = await asyncio.wait(tasks, timeout=TOTAL_LIMIT + GRACE)
    for t in pending:
        t.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*pending, return_exceptions=True)
    loop = await s.stop_loop_probe()
    rows = (await s.deps_stats())["slow"]["rows"]
    return s.figures(
        requests=records,
        waited=TOTAL_LIMIT + GRACE,
        loop=loop,
        extra={
            "first_row_ms": [None if f is None else round(f * 1000, 1) for f in firsts],
            "source_calls": len(rows["calls"]),
            "source_peak_in_flight": rows["peak"],
            "_secret": secret,
            "_firsts": firsts,
        },
    )


def judge(f: Figures) -> list[Check]:
    secret = f.extra.get("_secret", "")
    firsts = f.extra.get("_firsts", [None] * len(f.requests))
    return [
        checks.each_began_within(
            "first-row",
            f.requests,
            firsts,
            FIRST_ROW_LIMIT,
            what="concurrent exports",
            part="first row",
        ),
        checks.all_finished_within(
            "concurrent", f.requests, TOTAL_LIMIT, waited=f.waited, what="exports"
        ),
        checks.texts_match(
            "rows",
            f.requests,
            lambda r: (200, export_body(secret, r.request.path.rsplit("/", 1)[1])),
            what="exports",
        ),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
    ]


EXERCISE = Exercise(
    id="streaming",
    title="An export that streams one row at a time for everyone",
    summary=f"GET /export/{{report}} streams {ROWS_PER_REPORT} rows from a source that gives one every "
    f"{ROW_DELAY * 1000:.0f} ms; {N} exports at once each start within "
    f"{FIRST_ROW_LIMIT * 1000:.0f} ms and all end within {TOTAL_LIMIT:.0f} s",
    checks=("first-row", "concurrent", "rows", "loop-free"),
    measure=measure,
    judge=judge,
)
