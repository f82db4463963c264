"""Notebook 09's experiments on long-lived streams, measured from outside the app: idle
listeners held open (the app's memory and threads, ``/health`` meanwhile), what a
quiet stream puts on the wire, and what each way of writing a model relay does when its
client leaves.

The lesson's cells serve the app and call one of these; the clients, the probes and the
bookkeeping are here. Every client is the grader's kind: a raw HTTP/1.1 connection that
reads Server-Sent Events as they arrive (``autograder.measure.streams.read_sse``, the
token-stream grader's own, for the relays).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import psutil
from _scenarios import markdown_table

from autograder import lab
from autograder.judges import token_stream
from autograder.measure import load
from autograder.measure.load import HOST, Request, Response, percentile
from autograder.measure.streams import Stream, read_sse
from autograder.servers.model import LONG_SUFFIX

OPEN_WITHIN = 1.0  # s: a listener that has no first event by then is waiting for a thread


# -- idle listeners -------------------------------------------------------------------


async def _listen(port: int, path: str) -> tuple[asyncio.StreamWriter, asyncio.Task[bool]]:
    """One listener: connect and send the request; its task ends (True) once the first
    event came, and reads nothing more."""
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(Request("GET", path).encode(HOST, port))

    async def first_event() -> bool:
        buffer = b""
        while b"\r\n\r\n" not in buffer or b"\n\n" not in buffer.split(b"\r\n\r\n", 1)[1]:
            chunk = await reader.read(4096)
            if not chunk:
                return False
            buffer += chunk
        return True

    return writer, asyncio.create_task(first_event())


def app_process(app: lab.LabApp) -> psutil.Process:
    """The app's process that holds the most memory (the one serving, not a reloader)."""
    return max(app.processes(), key=lambda p: p.memory_info().rss)


async def _probe(app: lab.LabApp, path: str, seconds: float) -> tuple[list[float], int]:
    """``path`` probed open-loop every 20 ms for ``seconds`` (a measuring window): latencies."""
    probe = app.session.probe(path)
    since = time.monotonic()
    probe.start()
    await asyncio.sleep(seconds)
    until = time.monotonic()
    await probe.stop()
    sent = [r for r in probe.records if since <= r.start <= until]
    latencies = load.probe_latencies(sent, since=since, until=until, cut_off=probe.stopped_at)
    return latencies, sum(1 for r in sent if r.done)


async def _open(app: lab.LabApp) -> dict[str, Any]:
    return (await app.session.send(Request("GET", "/lab/open"))).json()


def summary(probed: tuple[list[float], int]) -> dict[str, float]:
    """p50 and p95 of the probes' latencies (one never answered counts as having waited
    until the window closed), how many were sent and answered."""
    latencies, answered = probed
    return {"p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p95_ms": round(percentile(latencies, 95) * 1000, 1),
            "probes": len(latencies), "answered": answered}


async def _hold(app: lab.LabApp, kind: str, steps: Sequence[int], probe_for: float) -> dict[str, Any]:
    port, proc = app.port, app_process(app)
    path = f"/feed/{kind}"
    clients: list[tuple[asyncio.StreamWriter, asyncio.Task[bool]]] = []
    trace = [{"streams": 0, "rss": proc.memory_info().rss, "threads": proc.num_threads(),
              "fds": (await _open(app))["fds"]}]
    health = {0: summary(await _probe(app, "/health", probe_for))}
    for target in steps:
        while len(clients) < target:
            clients.append(await _listen(port, path))
        # every listener has its first event, or (sync) no thread was left to send it
        await asyncio.wait([t for _, t in clients], timeout=OPEN_WITHIN)
        trace.append({"streams": target, "rss": proc.memory_info().rss, "threads": proc.num_threads(),
                      "fds": (await _open(app))["fds"], "opened": sum(t.done() and t.result() for _, t in clients)})
    health[len(clients)] = summary(await _probe(app, "/health", probe_for))
    inside = await _open(app)
    trace[-1]["threads_after_probe"] = proc.num_threads()
    for writer, task in clients:  # every listener leaves (a FIN, as a closed tab)
        writer.close()
        task.cancel()
    await asyncio.gather(*(t for _, t in clients), return_exceptions=True)
    left = time.monotonic()

    async def all_gone() -> float | None:
        gone = await app.session.wait_until(lambda: _open_is(app, kind, 0), wait_at_most=probe_for, every=0.02)
        return round(time.monotonic() - left, 3) if gone else None

    # /health right after they all left, while the app notices they have gone
    after, gone_within = await asyncio.gather(_probe(app, "/health", probe_for), all_gone())
    still = await _open(app)
    return {"kind": kind, "trace": trace, "health": health, "fd_limit": inside["fd_limit"], "health_after_leaving": summary(after),
            "inside": inside, "after_leaving": still, "all_gone_within_s": gone_within,
            "spec_version": inside.get("spec_version")}


async def _open_is(app: lab.LabApp, kind: str, n: int) -> bool:
    return (await _open(app))[kind] == n


def hold_listeners(app: lab.LabApp, kind: str, steps: Sequence[int], *, probe_for: float = 0.6) -> dict[str, Any]:
    """Open idle listeners on ``/feed/<kind>`` in ``steps`` (cumulative counts), noting
    the app process's memory (RSS) and threads after each step and ``/health``'s
    latency with none and with all of them open; then every listener leaves, and
    ``/health`` is probed again while the app notices. Per stream memory: the slope."""
    out = lab.run(_hold(app, kind, steps, probe_for), 60)
    t = out["trace"]
    n = t[-1]["streams"]
    out["kb_per_stream"] = round((t[-1]["rss"] - t[1]["rss"]) / (n - t[1]["streams"]) / 1024, 1) if len(t) > 2 else None
    out["threads_added"] = t[-1]["threads"] - t[0]["threads"]
    return out


def warm_up(app: lab.LabApp, n: int = 20) -> None:
    """Open and close ``n`` async listeners: first-use allocations are not a stream's cost."""
    lab.run(_hold(app, "async", [n], 0.1), 30)


def news(app: lab.LabApp) -> None:
    """Let every waiting feed end (the sync generators' threads return)."""
    app.request("POST", "/lab/news")


# -- a quiet stream, on the wire ------------------------------------------------------


async def _raw(port: int, path: str) -> tuple[str, list[tuple[float, bytes]]]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        t0 = time.monotonic()
        writer.write(Request("GET", path).encode(HOST, port))
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        chunks: list[tuple[float, bytes]] = []
        while (size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)):
            chunks.append((time.monotonic() - t0, (await reader.readexactly(size + 2))[:-2]))
        return head, chunks
    finally:
        writer.close()


def on_the_wire(app: lab.LabApp, path: str) -> dict[str, Any]:
    """One stream read raw: its response head and each chunk with when it arrived."""
    head, chunks = lab.run(_raw(app.port, path), 30)
    return {"head": head, "chunks": chunks,
            "pings": [t for t, c in chunks if c == b": ping\n\n"],
            "events": [(t, c) for t, c in chunks if c.startswith(b"data:")]}


# -- the relays: who keeps reading after the client left --------------------------------


async def _relays(app: lab.LabApp, styles: Sequence[str], per_style: int) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    await app.session.reset_deps()
    start = time.monotonic()
    deadline = start + 3.0
    streams: dict[str, dict[str, Any]] = {}
    tasks = []
    for n in range(per_style):
        for style in styles:
            prompt = f"{tag}-{style}-{n}{LONG_SUFFIX}"
            record = Response(request=Request("GET", f"/relay/{style}?prompt={prompt}"), start=start)
            streams[prompt] = {"style": style, "seen": Stream(), "record": record}
            tasks.append(read_sse(app.port, record, streams[prompt]["seen"], token_stream.token_of,
                                  leave_after=token_stream.LEAVE_AFTER, deadline=deadline))
    await asyncio.gather(*tasks)

    seen = await token_stream.model_outcomes(app.session, list(streams), after=time.monotonic(), wait=3.5)
    ends = (await app.session.send(Request("GET", "/lab/ends"))).json()
    rows = []
    for prompt, st in streams.items():
        up, left, end = seen.get(prompt), st["seen"].left, ends.get(prompt)
        rows.append({
            "style": st["style"],
            "left_ms": None if left is None else round((left - start) * 1000),
            "model_tokens": len(up["token_times"]) if up else None,
            "wasted": sum(1 for t in up["token_times"] if left and t > left) if up else None,
            "model_closed_after_ms": round((up["closed"] - left) * 1000) if up and up["closed"] and left else None,
            "model_outcome": up["outcome"] if up else None,
            "generator_ended_by": end["how"] if end else None,
            "generator_ended_after_ms": round((end["at"] - left) * 1000) if end and left else None,
        })
    return {"rows": rows, "tokens_each": max((r["model_tokens"] or 0) for r in rows)}


def relays(app: lab.LabApp, styles: Sequence[str], *, per_style: int = 4) -> dict[str, dict[str, Any]]:
    """``per_style`` clients per relay style, all at once, each asking a long answer
    (80 tokens) and leaving after 5 tokens; per style: tokens the model wrote after its
    client left (wasted), when the model's stream was closed, what ended the generator."""
    out = lab.run(_relays(app, styles, per_style), 30)
    by_style: dict[str, dict[str, Any]] = {}
    for style in styles:
        rows = [r for r in out["rows"] if r["style"] == style]
        closed = [r["model_closed_after_ms"] for r in rows]
        by_style[style] = {
            "rows": rows,
            "left": sum(r["left_ms"] is not None for r in rows),
            "wasted_max": max(r["wasted"] or 0 for r in rows),
            "wasted_mean": round(sum(r["wasted"] or 0 for r in rows) / len(rows), 1),
            "closed_after_ms": closed,
            "read_to_the_end": sum(r["model_outcome"] == "completed" for r in rows),
            "ended_by": dict(Counter(r["generator_ended_by"] for r in rows)),
            "generator_ended_after_ms": [r["generator_ended_after_ms"] for r in rows],
        }
    return by_style


def relays_table(runs: dict[str, dict[str, Any]], names: dict[str, str]) -> str:
    rows = []
    for style, r in runs.items():
        closed = [c for c in r["closed_after_ms"] if c is not None]
        rows.append((
            names[style], f"{r['wasted_mean']} (at most {r['wasted_max']})",
            f"{min(closed)}-{max(closed)} ms" if closed else "never: the model wrote its whole answer",
            f"{r['read_to_the_end']} of {len(r['rows'])}",
            ", ".join(f"{k or 'nothing yet (suspended at its yield)'} ×{v}" for k, v in r["ended_by"].items()),
        ))
    return markdown_table(
        ("relay", "tokens wasted per client that left", "model stream closed after the client left",
         "model answers written to their end", "what ended the generator"),
        rows,
    )


# -- the two ways Starlette notices a disconnect, side by side ----------------------------


async def noticed(spec_version: str, *, leave_at: float = 0.1, token_every: float = 0.5) -> dict[str, Any]:
    """The installed ``StreamingResponse`` run as an ASGI server would run it, declaring
    ``spec_version``: a generator that sends a token every ``token_every`` s, a client
    that leaves at ``leave_at`` s. The fake server keeps the spec's promise: ``receive()``
    returns ``http.disconnect`` once the client has left; after that, a send raises
    ``OSError`` under ASGI >= 2.4 and returns silently below (as uvicorn's h11 does).
    Returns when and how the generator ended, and what the response raised."""
    from starlette.responses import StreamingResponse

    t0 = time.monotonic()
    ended: dict[str, Any] = {"how": None, "after_s": None}
    received: list[str] = []

    async def tokens() -> Any:
        try:
            while True:
                await asyncio.sleep(token_every)  # waiting for the model
                yield b'data: {"text": "token"}\n\n'
        except BaseException as exc:
            ended["how"] = type(exc).__name__
            raise
        finally:
            ended["after_s"] = round(time.monotonic() - t0, 3)

    async def receive() -> dict[str, Any]:
        if not received:
            received.append("http.request")
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(max(t0 + leave_at - time.monotonic(), 0))  # the client leaves then
        received.append("http.disconnect")
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if time.monotonic() - t0 >= leave_at and tuple(map(int, spec_version.split("."))) >= (2, 4):
            raise OSError("the client has gone")

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": spec_version},
             "method": "GET", "path": "/", "headers": []}
    raised = None
    try:
        await StreamingResponse(tokens(), media_type="text/event-stream")(scope, receive, send)  # type: ignore[arg-type]
    except Exception as exc:
        raised = type(exc).__name__
    return {"spec_version": spec_version, "response_returned_after_s": round(time.monotonic() - t0, 3),
            "raised": raised, "generator_ended_by": ended["how"], "generator_ended_after_s": ended["after_s"],
            "received": received}
