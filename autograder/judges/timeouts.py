"""timeouts: ``GET /quote/{symbol}`` calls an upstream that, for about half the symbols, never answers.

The starter calls it from a ``def`` endpoint with no timeout: each hang holds a worker
thread (and a connection) forever, and after 40 hangs the healthy quotes queue too.
Whether the service gave up is read at the upstream: it records when each hanging
connection was closed.
"""

from __future__ import annotations

import uuid

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import watch_hanging_quotes
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session
from autograder.servers.slow import QUOTE_DELAY, quote_body, quote_hangs

N = 100
HANGING = 45  # more than the 40 worker threads: a service that never gives up runs out
INTERVAL = 0.01  # open loop: 100 quotes over one second
DEADLINE = 1.0
HEALTHY_LIMIT = 0.5  # p99 of the quotes the upstream answers (in 50 ms)
CLOSE_LIMIT = 1.5  # each hanging connection closed within this long of its opening
LAG_LIMIT = 0.2
GRACE = 0.1


def symbols(secret: str, tag: str) -> list[str]:
    """N symbols, HANGING of which hang, spread evenly through the sequence."""
    hang: list[str] = []
    healthy: list[str] = []
    i = 0
    while len(hang) < HANGING or len(healthy) < N - HANGING:
        sym = f"{tag}{i}"
        (hang if quote_hangs(secret, sym) else healthy).append(sym)
        i += 1
    out = []
    for k in range(N):
        is_hang = (k + 1) * HANGING // N != k * HANGING // N
        out.append(hang.pop() if is_hang else healthy.pop())
    return out


async def measure(s: Session) -> Figures:
    secret = (await s.deps_stats())["slow"]["secret"]
    tag = "Q" + uuid.uuid4().hex[:4].upper()
    warm = next(sym for sym in (f"W{tag}{i}" for i in range(100)) if not quote_hangs(secret, sym))
    s.start_loop_probe()
    await s.send(Request("GET", f"/quote/{warm}"), wait_at_most=DEADLINE)
    await s.reset_deps()
    responses = await s.staggered(
        [Request("GET", f"/quote/{sym}") for sym in symbols(secret, tag)],
        interval=INTERVAL,
        give_up_after=N * INTERVAL + DEADLINE + GRACE,
    )

    # Watch the hanging connections until each is closed or past its limit.
    await watch_hanging_quotes(s, CLOSE_LIMIT)
    loop = await s.stop_loop_probe()
    quotes = (await s.deps_stats())["slow"]["quotes"]
    return s.figures(
        requests=responses,
        waited=N * INTERVAL + DEADLINE + GRACE,
        loop=loop,
        extra={
            "quotes": N,
            "hanging_quotes": HANGING,
            "upstream_answered": quotes["answered"],
            "hanging_connections": len(quotes["hangs"]),
            "hanging_still_open": sum(1 for h in quotes["hangs"] if h["closed"] is None),
            "_secret": secret,
            "_hangs": [(h["opened"], h["closed"]) for h in quotes["hangs"]],
        },
    )


def _symbol(r: Response) -> str:
    return r.request.path.rsplit("/", 1)[1]


def judge(f: Figures) -> list[Check]:
    secret = f.extra.get("_secret", "")

    def expected(r: Response) -> tuple[int, object]:
        sym = _symbol(r)
        if not quote_hangs(secret, sym):
            return 200, quote_body(secret, sym)
        if r.status == 200:  # a fallback: the symbol and no price
            return 200, {"symbol": sym, "price": None}
        return 504, r.json()  # a gateway timeout, whatever its body says

    healthy = [r for r in f.requests if not quote_hangs(secret, _symbol(r))]
    healthy_latencies = [
        r.latency
        if r.done and r.status == 200 and r.json() == quote_body(secret, _symbol(r))
        else None
        for r in healthy
    ]
    return [
        checks.each_answered_within(
            "deadline", f.requests, DEADLINE, what="quotes sent 10 ms apart"
        ),
        checks.bodies_match("responses", f.requests, expected, what="quotes"),
        checks.percentile_under(
            "healthy-fast",
            healthy_latencies,
            HEALTHY_LIMIT,
            q=99,
            what=f"quotes the upstream answers (in {QUOTE_DELAY * 1000:.0f} ms)",
        ),
        checks.closed_within(
            "cleanup",
            f.extra.get("_hangs", []),
            CLOSE_LIMIT,
            what="hanging upstream connections",
        ),
        checks.loop_lag_under("loop-free", f.loop_lag, LAG_LIMIT, probes=f.probes),
    ]


EXERCISE = Exercise(
    id="timeouts",
    title="Quotes that wait forever for an upstream that never answers",
    summary=f"GET /quote/{{symbol}}: {N} quotes over 1 s, {HANGING} of them hang upstream; each "
    f"answered within {DEADLINE:.0f} s (504 or fallback) and every hanging connection closed",
    checks=("deadline", "responses", "healthy-fast", "cleanup", "loop-free"),
    measure=measure,
    judge=judge,
)
