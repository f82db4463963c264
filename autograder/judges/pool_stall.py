"""pool-stall: ``POST /orders`` holds a pooled PostgreSQL connection across an awaited 0.3 s
upstream call, so 5 connections serve 40 orders in waves and the rest time out.

The grader starts a private PostgreSQL for each grading (``servers/postgres.py``), outside
the submission's sandbox: the submission reaches it on a Unix socket (its folder made
reachable, read-only) as an ordinary role, through ``DATABASE_URL``. The account read is
slow at the server (``READ_DELAY``, ``pg_sleep`` in a view), whatever the submission
writes. One warm-up order, then ``N`` orders at once while ``/health`` is probed open-loop
and ``pg_stat_activity`` is sampled over the grader's own (superuser) connection: how many
connections the service holds at the server, and in which state. Every deciding figure is
taken outside the submission: HTTP answers, the probe, the server's own view of its
connections, the rows in the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Beside, Exercise, Unmeasurable
from autograder.measure import load
from autograder.measure.load import Request, Response
from autograder.measure.session import Figures, Session
from autograder.servers import postgres

N = 40  # orders at once: eight times the pool
POOL_SIZE = 5  # connections the database gives the service (the contract says so)
READ_DELAY = 0.05  # the account read, at the server
ANSWER_LIMIT = 1.5  # all N answered 201: released, about 0.75 s; held across the call, 2.8 s
GRACE = 0.1  # waited past the limit before unanswered orders count as unanswered
HELD_LIMIT = 1.0  # connection-seconds idle in transaction over the burst
HEALTH_LIMIT = 0.1  # p95 of /health, probed every 20 ms during the burst
MIN_HEALTH = 20
SAMPLE_EVERY = 0.02  # pg_stat_activity, over the grader's own connection
QUIET_WAIT = 3.0  # after the burst: the longest wait for the service's transactions to end
WARMUP_ACCOUNT = 300
ACCOUNTS = 300
schema_sql = f"""
CREATE TABLE accounts_data (id int PRIMARY KEY, owner text NOT NULL);
INSERT INTO accounts_data SELECT g, 'owner-' || g FROM generate_series(1, {ACCOUNTS}) g;
CREATE FUNCTION slow_owner(int) RETURNS text LANGUAGE sql VOLATILE
    AS $$ SELECT owner FROM accounts_data, pg_sleep({READ_DELAY}) WHERE id = $1 $$;
CREATE VIEW accounts AS SELECT id, slow_owner(id) AS owner FROM accounts_data;
CREATE TABLE orders (id serial PRIMARY KEY, account_id int NOT NULL, item_id int NOT NULL,
                     name text NOT NULL, owner text NOT NULL);
"""
IN_TRANSACTION = ("idle in transaction", "idle in transaction (aborted)")
activity_sql = (
    "SELECT coalesce(state, '?') AS state, count(*) AS n FROM pg_stat_activity "
    "WHERE usename = 'app' AND backend_type = 'client backend' GROUP BY 1"
)


def _asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError:
        raise Unmeasurable(
            "the grader reads PostgreSQL with asyncpg, which is not installed: install the "
            'course\'s packages (`bash scripts/setup`, or `pip install -e ".[course]"`)'
        ) from None
    return asyncpg


@contextlib.asynccontextmanager
async def database() -> AsyncIterator[Beside]:
    """A private PostgreSQL with the exercise's schema, made as the service's role."""
    asyncpg = _asyncpg()
    if postgres.bindir() is None:
        raise Unmeasurable(f"pool-stall needs a PostgreSQL server here. {postgres.HOW_TO_INSTALL}")
    with contextlib.ExitStack() as stack:
        pg = await asyncio.to_thread(stack.enter_context, postgres.postgres_server())
        try:
            conn = await asyncpg.connect(pg.dsn())
            try:
                await conn.execute(schema_sql)
            finally:
                await conn.close()
            yield Beside(env=pg.app_env, reachable=(str(pg.folder),), handle=pg)
        finally:
            await asyncio.to_thread(stack.close)


def order(account: int) -> dict[str, Any]:
    item = 100 + account
    return {"account": account, "item": item, "name": f"item-{item}", "owner": f"owner-{account}"}


class Sampler:
    """``pg_stat_activity`` every ``SAMPLE_EVERY`` s: the service's connections by state."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        t0 = time.monotonic()
        i = 0
        while True:
            rows = await self.conn.fetch(activity_sql)
            self.samples.append((time.monotonic(), {r["state"]: int(r["n"]) for r in rows}))
            i += 1
            await asyncio.sleep(max(t0 + i * SAMPLE_EVERY - time.monotonic(), 0.0))

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


def connection_figures(samples: Sequence[tuple[float, dict[str, int]]]) -> dict[str, Any]:
    """Peaks, and connection-seconds idle in transaction (each sample's count times the
    time to the next sample)."""
    held = 0.0
    for (t, s), (t_next, _) in zip(samples, samples[1:], strict=False):
        held += sum(s.get(k, 0) for k in IN_TRANSACTION) * (t_next - t)
    return {
        "samples": len(samples),
        "peak": max((sum(s.values()) for _, s in samples), default=0),
        "peak_in_transaction": max(
            (sum(s.get(k, 0) for k in IN_TRANSACTION) for _, s in samples), default=0
        ),
        "idle_in_transaction_s": round(held, 2),
    }


async def _quiet(s: Session, admin: Any) -> None:
    """Wait until none of the service's connections is in a statement or a transaction:
    orders the grader gave up on may still be writing."""

    async def quiet() -> bool:
        rows = await admin.fetch(activity_sql)
        return all(r["state"] == "idle" for r in rows)

    await s.wait_until(quiet, wait_at_most=QUIET_WAIT)


async def measure(s: Session) -> Figures:
    pg: postgres.PostgresServer = s.beside
    asyncpg = _asyncpg()
    admin = await asyncpg.connect(pg.dsn(admin=True))
    try:
        warm = await s.send(Request("POST", "/orders", {"account": WARMUP_ACCOUNT, "item": 1}))
        await s.reset_deps()
        sampler = Sampler(admin)
        health = s.probe("/health")
        health.start()
        sampler.start()
        t0 = time.monotonic()
        responses = await s.burst(
            [Request("POST", "/orders", {"account": a, "item": 100 + a}) for a in range(1, N + 1)],
            give_up_after=ANSWER_LIMIT + GRACE,
        )
        until = time.monotonic()
        await sampler.stop()
        probes = await health.stop()
        await _quiet(s, admin)
        rows = [
            dict(r)
            for r in await admin.fetch(
                "SELECT account_id AS account, item_id AS item, name, owner FROM orders "
                "WHERE account_id <> $1 ORDER BY id",
                WARMUP_ACCOUNT,
            )
        ]
    finally:
        await admin.close()
    lat = load.probe_latencies(probes, since=t0, until=until, cut_off=health.stopped_at or until)
    samples = sampler.samples
    timeline = [
        [round((t - t0) * 1000), sum(c.values()), sum(c.get(k, 0) for k in IN_TRANSACTION)]
        for t, c in samples
    ]
    return s.figures(
        requests=responses,
        waited=ANSWER_LIMIT + GRACE,
        loop=((max(lat) if lat else None), len(lat)),
        alone=warm,
        extra={
            "connections": connection_figures(samples),
            "connections_timeline": timeline,  # [ms since the burst, open, in a transaction]
            "health_p95_ms": round(load.percentile(lat, 95) * 1000, 1) if lat else None,
            "statuses": _statuses(responses),
            "rows_written": len(rows),
            "_health": lat,
            "_rows": rows,
        },
    )


def _statuses(responses: Sequence[Response]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in responses:
        key = str(r.status) if r.done else "unanswered"
        out[key] = out.get(key, 0) + 1
    return out


def _answered(f: Figures) -> Check:
    rs = f.requests
    bad = {k: v for k, v in _statuses(rs).items() if k != "201"}
    if bad:
        said = ", ".join(f"{v} {k}" for k, v in sorted(bad.items(), key=lambda kv: -kv[1]))
        detail = next(
            (r.body[:120].decode(errors="replace") for r in rs if r.done and r.status != 201), ""
        )
        return Check(
            "answered",
            False,
            f"of {len(rs)} orders sent at once, {len(rs) - sum(bad.values())} were answered 201 "
            f"within {f.waited:.2f} s; the others: {said}"
            + (f" (e.g. {detail})" if detail else "")
            + f" (limit {ANSWER_LIMIT:.2f} s for all {len(rs)}, each 201)",
        )
    return checks.all_finished_within("answered", rs, ANSWER_LIMIT, waited=f.waited, what="orders")


def _rows(f: Figures) -> Check:
    rows: list[dict[str, Any]] = list(f.extra.get("_rows", []))
    by_account: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_account.setdefault(row["account"], []).append(row)
    for r in f.requests:
        body = r.request.json_body
        if not isinstance(body, dict):
            continue
        account = body["account"]
        written = by_account.pop(account, [])
        want = order(account)
        if r.done and r.status == 201:
            answer = r.json()
            got = {k: answer.get(k) for k in want} if isinstance(answer, dict) else answer
            if got != want:
                return Check("rows", False, f"order {account} answered {got}; expected {want}")
            if [{k: w[k] for k in want} for w in written] != [want]:
                return Check(
                    "rows",
                    False,
                    f"order {account} was answered 201 but the table holds {len(written)} "
                    f"rows for it: {written[:2]} (expected exactly {want})",
                )
        elif r.done and written:
            return Check(
                "rows",
                False,
                f"order {account} was answered {r.status} but a row was written for it: "
                f"{written[0]} (a failed order must write nothing: one session per request)",
            )
    if by_account:
        extra = next(iter(by_account.values()))[0]
        return Check("rows", False, f"a row no order asked for: {extra}")
    ok = sum(1 for r in f.requests if r.done and r.status == 201)
    if not ok:
        return checks.not_measured("rows", "no order was answered 201")
    return Check(
        "rows", True, f"each of the {ok} orders answered 201 wrote exactly its one right row"
    )


def judge(f: Figures) -> list[Check]:
    conns: dict[str, Any] = dict(f.extra.get("connections", {}))
    if not conns.get("samples"):
        sampled = [checks.not_measured(n, "pg_stat_activity was not sampled") for n in ("pool", "held")]
    else:
        peak, held = conns["peak"], conns["idle_in_transaction_s"]
        sampled = [
            checks.at_most(
                "pool",
                peak,
                POOL_SIZE,
                message="the service held up to {value} connections at the server at once "
                "(at most {maximum}: the database gives it "
                f"{POOL_SIZE}; {conns['samples']} samples of pg_stat_activity, every 20 ms)",
            ),
            checks.at_most(
                "held",
                held,
                HELD_LIMIT,
                message="its connections sat idle in a transaction for {value:.2f} connection-"
                "seconds during the burst (at most {maximum:.2f}; peak "
                f"{conns['peak_in_transaction']} at once): "
                + (
                    "a connection is held while the request awaits something else"
                    if held > HELD_LIMIT
                    else "connections are given back between statements"
                ),
            ),
        ]
    return [
        _answered(f),
        *sampled,
        checks.p95_under(
            "health", list(f.extra.get("_health", [])), HEALTH_LIMIT, min_count=MIN_HEALTH,
            what="GET /health",
        ),
        _rows(f),
    ]


EXERCISE = Exercise(
    id="pool-stall",
    title="Orders that hold a database connection across an upstream call",
    summary=f"POST /orders reads an account, calls a 0.3 s upstream and writes the order on "
    f"PostgreSQL with {POOL_SIZE} connections: {N} orders at once all answered within "
    f"{ANSWER_LIMIT} s, no connection idle in a transaction",
    checks=("answered", "pool", "held", "health", "rows"),
    measure=measure,
    judge=judge,
    beside=database,
)
