"""token-stream: ``GET /chat/{chat_id}?prompt=P`` relays a model API's tokens as Server-Sent Events.

The model API (``/v1/stream`` on the upstream, ``servers/model.py``) "thinks" for 0.5 s,
then streams its tokens one every 25 ms. The starter reads it with a sync client inside
an ``async def`` generator: every wait for a token holds the loop. Whether the service
stops reading when its client leaves is read at the model API, which records when each
stream was closed; whether worker threads stay busy is read with the harness's thread
probe, a request the grader times from outside.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from typing import Any

from autograder.harness.app import THREADS_PATH
from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.measure import load
from autograder.measure.load import OpenLoopProbe, Request, Response, percentile
from autograder.measure.session import Figures, Session
from autograder.measure.streams import Stream, read_sse
from autograder.servers.model import (
    FIRST_DELAY,
    LONG_SUFFIX,
    TOKENS,
    answer_events,
)

N = 60  # streams at once: more than the 40 worker threads
LEAVERS = 20  # of them close the connection after LEAVE_AFTER tokens (their answers are long)
LEAVE_AFTER = 5
STREAM_WAIT = 2.0  # a stayer's answer takes 0.5 s + 20 x 25 ms = 1.0 s at the model's pace
FIRST_TOKEN_LIMIT = 1.0  # p95 over all streams; the model's first token comes after 0.5 s
LAG_LIMIT = 0.3  # 60 threads waking per token contend for the GIL; a blocking read holds >= 0.5 s
HEALTH_LIMIT = 0.3  # /health p95, probed open loop while the streams run
THREADS_LIMIT = 0.3  # thread probe (hold 0) p95 while the streams run
CLOSE_LIMIT = 1.0  # each leaver's model stream closed (before its end) within this of leaving
CLOSE_WAIT = 1.2  # watched this long after the last client left
POST_GAP = 0.2  # after the last stream ended, the post-stream thread burst
POST_BURST = 40
POST_HOLD = 0.25
POST_LIMIT = 0.4  # the slowest of the burst: one wave of threads, not two
POST_WAIT = 1.5
MIN_PROBES = 20


def token_of(event: str) -> dict[str, Any] | None:
    """A token event's value (``{"index": i, "text": ...}``), None for anything else."""
    try:
        value = json.loads(event)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "index" in value else None


def _latencies(probe: OpenLoopProbe, since: float, until: float) -> list[float]:
    return load.probe_latencies(probe.records, since=since, until=until, cut_off=probe.stopped_at)


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x * 1000, 1)


async def model_outcomes(
    s: Session, prompts: list[str], *, after: float, wait: float
) -> dict[str, dict[str, Any]]:
    """The model API's record of every stream, by prompt, once each of ``prompts`` has an
    outcome (closed or read to its end), waiting at most until ``after + wait``."""

    async def by_prompt() -> dict[str, dict[str, Any]]:
        return {m["prompt"]: m for m in (await s.deps_stats())["model"]["streams"]}

    async def settled() -> bool:
        seen = await by_prompt()
        return all(seen.get(p, {}).get("outcome") for p in prompts)

    await s.wait_until(settled, wait_at_most=max(after + wait - time.monotonic(), 0.0))
    return await by_prompt()


async def measure(s: Session) -> Figures:
    secret = (await s.deps_stats())["model"]["secret"]
    tag = uuid.uuid4().hex[:6]
    probes = {
        "loop": s.probe("loop"),
        "health": s.probe("/health"),
        "threads": s.probe(f"{THREADS_PATH}?hold=0"),
    }
    began = time.monotonic()
    for p in probes.values():
        p.start()
    alone = await s.send(Request("GET", "/health"), wait_at_most=5)
    await s.reset_deps()
    ids = [f"s{i}" for i in range(N - LEAVERS)] + [f"l{i}" for i in range(LEAVERS)]
    order = [ids[i] for i in sorted(range(N), key=lambda i: (i % 3, i))]  # leavers spread out
    start = time.monotonic()
    deadline = start + STREAM_WAIT
    streams: dict[str, dict[str, Any]] = {}
    seen_by: dict[str, Stream] = {}
    records: dict[str, Response] = {}
    tasks = []
    for sid in order:
        leaver = sid.startswith("l")
        prompt = f"{tag}-{sid}" + (LONG_SUFFIX if leaver else "")
        records[sid] = Response(request=Request("GET", f"/chat/{sid}?prompt={prompt}"), start=start)
        streams[sid] = {"prompt": prompt, "leaver": leaver}
        seen_by[sid] = Stream()
        tasks.append(
            asyncio.create_task(
                read_sse(
                    s.port,
                    records[sid],
                    seen_by[sid],
                    token_of,
                    leave_after=LEAVE_AFTER if leaver else None,
                    deadline=deadline,
                )
            )
        )
    await asyncio.gather(*tasks)
    until = time.monotonic()
    for p in probes.values():
        await p.stop()
    # The loop from the warm-up on (a lazy set-up that blocks counts); /health and the
    # thread probe while the streams run.
    lat = {
        name: _latencies(p, began if name == "loop" else start, until) for name, p in probes.items()
    }
    loop = (max(lat["loop"]) if lat["loop"] else None), len(lat["loop"])

    # The post-stream burst: do worker threads stay busy after the last stream ended?
    ends = [r.end for sid, r in records.items() if not streams[sid]["leaver"] and r.end]
    await asyncio.sleep(max(max(ends, default=until) + POST_GAP - time.monotonic(), 0.0))
    post = await s.burst(
        [Request("GET", f"{THREADS_PATH}?hold={POST_HOLD}")] * POST_BURST, give_up_after=POST_WAIT
    )
    post_latencies = [r.latency for r in post if r.done and r.status == 200 and r.latency]

    # The model's records: wait (bounded) until every stream that left was closed.
    lefts = [st.left for st in seen_by.values() if st.left is not None]
    seen = await model_outcomes(
        s,
        [st["prompt"] for st in streams.values() if st["leaver"]],
        after=max(lefts, default=until),
        wait=CLOSE_WAIT,
    )

    rows = []
    for sid in order:
        st, rec, got = streams[sid], records[sid], seen_by[sid]
        up = seen.get(st["prompt"])
        left = got.left
        closed = up["closed"] if up is not None else None
        first = got.times[0] if got.times else None
        rows.append(
            {
                "id": sid,
                "leaver": st["leaver"],
                "first_token_ms": _ms(first - start) if first else None,
                "tokens": len(got.messages),
                "token_ms": [round((t - start) * 1000) for t in got.times],
                "end_ms": _ms(rec.end - start)
                if rec.end and left is None and not rec.error
                else None,
                "left_ms": _ms(left - start) if left else None,
                "upstream_opened_ms": _ms(up["opened"] - start) if up else None,
                "upstream_closed_ms": _ms(closed - start) if closed else None,
                "upstream_tokens": len(up["token_times"]) if up else None,
                "wasted_tokens": sum(1 for t in up["token_times"] if t > left)
                if up and left
                else None,
            }
        )
    return s.figures(
        requests=list(records.values()),
        waited=STREAM_WAIT,
        loop=loop,
        alone=alone,
        extra={
            "streams": rows,
            "first_token_p95_ms": _p95([r["first_token_ms"] for r in rows]),
            "health_p95_ms": _ms(percentile(lat["health"], 95)) if lat["health"] else None,
            "threads_p95_ms": _ms(percentile(lat["threads"], 95)) if lat["threads"] else None,
            "post_burst_max_ms": _ms(max(post_latencies)) if post_latencies else None,
            "post_burst_answered": len(post_latencies),
            "upstream_close_max_ms": _close_max(rows),
            "wasted_tokens_max": max(
                (r["wasted_tokens"] for r in rows if r["wasted_tokens"] is not None), default=None
            ),
            "_secret": secret,
            "_prompts": {sid: st["prompt"] for sid, st in streams.items()},
            "_tokens": {sid: got.messages for sid, got in seen_by.items()},
            "_health": lat["health"],
            "_threads": lat["threads"],
            "_post": [r.latency if r.done and r.status == 200 else None for r in post],
        },
    )


def _close_max(rows: list[dict[str, Any]]) -> float | None:
    """The slowest close after a client left (ms); None when one was never closed."""
    gone = [r for r in rows if r["left_ms"] is not None]
    if not gone or any(r["upstream_closed_ms"] is None for r in gone):
        return None
    return round(max(r["upstream_closed_ms"] - r["left_ms"] for r in gone), 1)


def _p95(values: list[float | None]) -> float | None:
    """The 95th percentile, None when empty or when a missing value (infinitely late) is it."""
    if not values:
        return None
    value = percentile([math.inf if v is None else v for v in values], 95)
    return None if math.isinf(value) else value


def judge(f: Figures) -> list[Check]:
    rows: list[dict[str, Any]] = f.extra.get("streams", [])
    secret = f.extra.get("_secret", "")
    prompts: dict[str, str] = f.extra.get("_prompts", {})
    tokens: dict[str, list[Any]] = f.extra.get("_tokens", {})
    stayers = [r for r in rows if not r["leaver"]]
    return [
        checks.percentile_under(
            "first-token",
            [None if r["first_token_ms"] is None else r["first_token_ms"] / 1000 for r in rows],
            FIRST_TOKEN_LIMIT,
            q=95,
            what=f"streams (first token: when it reached the client; the model sends it after "
            f"{FIRST_DELAY * 1000:.0f} ms)",
        ),
        tokens_check(stayers, tokens, prompts, secret),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
        checks.p95_under(
            "health-fast",
            f.extra.get("_health", []),
            HEALTH_LIMIT,
            min_count=MIN_PROBES,
            what="GET /health",
        ),
        checks.p95_under(
            "threads-free",
            f.extra.get("_threads", []),
            THREADS_LIMIT,
            min_count=MIN_PROBES,
            what="the thread probe (a worker thread of each pool, as a def endpoint gets)",
        ),
        closed_check([r for r in rows if r["leaver"]]),
        released_check(f.extra.get("_post", [])),
    ]


def tokens_check(
    stayers: list[dict[str, Any]],
    tokens: dict[str, list[Any]],
    prompts: dict[str, str],
    secret: str,
) -> Check:
    if not stayers:
        return checks.not_measured("tokens", "no stream was sent")
    unfinished = [r["id"] for r in stayers if r["end_ms"] is None]
    wrong = [
        r["id"]
        for r in stayers
        if r["end_ms"] is not None
        and tokens.get(r["id"]) != answer_events(secret, prompts[r["id"]])
    ]
    n = len(stayers)
    if unfinished or wrong:
        parts = []
        if unfinished:
            parts.append(
                f"{len(unfinished)} of {n} streams read to the end had not ended "
                f"within {STREAM_WAIT:.1f} s"
            )
        if wrong:
            r = next(x for x in stayers if x["id"] == wrong[0])
            parts.append(
                f"{len(wrong)} of {n} ended streams did not carry exactly the model's "
                f"{TOKENS} token events in order (e.g. {r['id']}: {r['tokens']} received)"
            )
        return Check("tokens", False, "; ".join(parts))
    return Check(
        "tokens",
        True,
        f"all {n} streams read to the end carried exactly the model's "
        f"{TOKENS} token events, in order, and ended",
    )


def closed_check(leavers: list[dict[str, Any]]) -> Check:
    gone = [r for r in leavers if r["left_ms"] is not None]
    if not gone:
        return checks.not_measured("upstream-closed", "no client left after a few tokens")
    late = [
        r
        for r in gone
        if r["upstream_closed_ms"] is None
        or r["upstream_closed_ms"] - r["left_ms"] > CLOSE_LIMIT * 1000
    ]
    wasted = max((r["wasted_tokens"] or 0) for r in gone)
    if late:
        never = sum(1 for r in late if r["upstream_closed_ms"] is None)
        return Check(
            "upstream-closed",
            False,
            f"for {len(late)} of {len(gone)} clients that left after {LEAVE_AFTER} tokens, the model "
            f"API's stream was not closed within {CLOSE_LIMIT * 1000:.0f} ms ({never} still open "
            f"or read to the end); the model produced up to {wasted} tokens nobody received",
        )
    worst = max(r["upstream_closed_ms"] - r["left_ms"] for r in gone)
    return Check(
        "upstream-closed",
        True,
        f"each of {len(gone)} clients that left had its model stream closed within "
        f"{CLOSE_LIMIT * 1000:.0f} ms (slowest {worst:.0f} ms; up to {wasted} tokens wasted)",
    )


def released_check(post: list[float | None]) -> Check:
    if not post:
        return checks.not_measured("threads-released", "no thread probe was sent")
    slow = [p for p in post if p is None or p > POST_LIMIT]
    worst = max((math.inf if p is None else p) for p in post)
    shown = "was never answered" if math.isinf(worst) else f"took {worst * 1000:.0f} ms"
    what = (
        f"{len(post)} thread probes sent at once {POST_GAP * 1000:.0f} ms after the last stream "
        f"ended, each holding a thread of each pool {POST_HOLD * 1000:.0f} ms"
    )
    if slow:
        return Check(
            "threads-released",
            False,
            f"{what}: the slowest {shown} (limit {POST_LIMIT * 1000:.0f} ms: one wave of "
            "threads): worker threads were still busy after every stream had ended",
        )
    return Check(
        "threads-released",
        True,
        f"{what}: the slowest {shown} (under {POST_LIMIT * 1000:.0f} ms)",
    )


EXERCISE = Exercise(
    id="token-stream",
    title="A chat relay that streams a model's tokens, and keeps streaming for nobody",
    summary=f"GET /chat/{{id}}?prompt=P relays the model API's tokens as SSE; {N} streams at once, "
    f"{LEAVERS} clients leave after {LEAVE_AFTER} tokens; first token p95 under "
    f"{FIRST_TOKEN_LIMIT:.1f} s, the loop and the worker threads free, every abandoned model "
    f"stream closed within {CLOSE_LIMIT * 1000:.0f} ms",
    checks=(
        "first-token",
        "tokens",
        "loop-free",
        "health-fast",
        "threads-free",
        "upstream-closed",
        "threads-released",
    ),
    measure=measure,
    judge=judge,
)
