"""What a lesson's experiment saw, read and summed up: a graded exercise's own scenario
run on a served app (notebook 07), what a lookup burst left on both sides (notebook 04),
and the tables and counts the lessons print.

The notebooks serve the app and send the load in their own cells; these helpers do the
bookkeeping around it, so the cells show the service being measured and the claims.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, TypedDict

from autograder import lab
from autograder.judges.checks import Check
from autograder.measure.burst import Burst
from autograder.measure.load import Response
from autograder.measure.session import Figures


class ScenarioRun(TypedDict):
    """One app served and measured by an exercise's scenario, then judged."""

    figures: Figures  # what the scenario measured, from outside the app
    extra: Mapping[str, Any]  # the exercise's own figures (``figures.extra``)
    checks: dict[str, Check]  # the exercise's checks, by name
    failed: list[str]  # the names of the checks that failed
    deps: dict[str, Any]  # what the dependency servers recorded meanwhile
    then: Any  # what the further experiment on the same server returned (or None)


def measured(
    judge: ModuleType, app_file: Path | str, then: Callable[[lab.LabApp], Any] | None = None
) -> ScenarioRun:
    """Serve ``app_file``, run the exercise's own scenario (``judge.measure``) on it and
    judge the figures (``judge.judge``); ``then``, if given, is a further experiment on
    the same server before it stops."""
    with lab.serve(app_file) as app:
        figures = lab.run(judge.measure(app.session), 60)
        deps = app.stats()
        later = then(app) if then is not None else None
    results: list[Check] = judge.judge(figures)
    return {
        "figures": figures,
        "extra": figures.extra,
        "checks": {c.name: c for c in results},
        "failed": [c.name for c in results if not c.passed],
        "deps": deps,
        "then": later,
    }


def verdict_line(run: ScenarioRun) -> str:
    """``name ✓, name ✗, ...``: each check's verdict on one line."""
    return ", ".join(f"{name} {'✓' if c.passed else '✗'}" for name, c in run["checks"].items())


def in_flight_steps(
    spans: Iterable[tuple[float, float | None]], t0: float
) -> tuple[list[float], list[int]]:
    """How many of ``spans`` (start, end; end None: still open) were open over time: the
    step points (ms since ``t0``, count) of a step plot, starting at (0, 0)."""
    events = sorted(
        [(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans if end is not None]
    )
    xs, ys, now = [0.0], [0], 0
    for t, step in events:
        now += step
        xs.append((t - t0) * 1000)
        ys.append(now)
    return xs, ys


def upstream_calls(calls: Iterable[dict[str, Any]]) -> list[tuple[float, float | None]]:
    """The (start, end) of each call the limited upstream served (a refused one, a 429,
    never held a slot), from its own records."""
    return [(c["start"], c.get("end")) for c in calls if c.get("outcome") != "refused"]


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table: ``header``'s cells, then one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def streaming_table(runs: Mapping[str, ScenarioRun]) -> str:
    """The streaming runs side by side, as a Markdown table: exports ended, their first
    rows, the source's peak of calls in flight, the worst loop probe, the checks."""
    rows = []
    for name, run in runs.items():
        f, x = run["figures"], run["extra"]
        firsts = [v for v in x["first_row_ms"] if v is not None]
        done = [r for r in f.requests if r.done and r.end is not None]
        last = (
            f"{max(r.end for r in done if r.end) - min(r.start for r in f.requests):.2f} s"
            if done else "-"
        )
        rows.append((
            name, f"{len(done)}/{len(f.requests)}, the last after {last}",
            f"{len(firsts)} got one; slowest {max(firsts, default=float('nan')):.0f} ms",
            x["source_peak_in_flight"], f"{(f.loop_lag or 0) * 1000:.0f} ms", verdict_line(run),
        ))
    return markdown_table(
        ("export", "ended within 1.1 s", "first row (time to first byte)",
         "rows calls in flight at the source (peak)", "worst loop probe", "checks"),
        rows,
    )


def orders_table(runs: Mapping[str, dict[str, Any]]) -> str:
    """The database runs side by side, as a Markdown table: the pool, its peaks, the
    answers by status, and ``/health``'s p95."""
    return markdown_table(
        ("app", "pool", "connections at once (peak)", "requests waiting for one (peak)", "200",
         "503 (pool timeout)", "served after waiting", "/health p95"),
        (
            (name, f"{r['pool']['pool']} {r['pool']['size']}+{r['pool']['max_overflow']}, "
             f"timeout {r['pool']['timeout']} s", r["pool"]["peak_checked_out"],
             r["pool"]["peak_waiting"], r["statuses"][200], r["statuses"][503],
             sum(w > 50 for w in r["waited"]), f"{r['burst'].probe_p95() * 1000:.0f} ms")
            for name, r in runs.items()
        ),
    )


class LookupRun(TypedDict):
    """A burst of ``GET /legacy/{i}`` lookups at a notebook-04 lab app, and what both
    sides saw (figures read from the upstream's and the app's own records)."""

    burst: Burst
    upstream_peak: int  # the most lookups the upstream served at once
    upstream_starts: list[float]  # when each lookup reached it, s after the first
    limiter: dict[str, Any]  # ``GET /lab/limiter``: total_tokens and a (t, borrowed, threads) trace
    max_borrowed: int  # the most tokens borrowed at once
    costs: dict[str, Any]  # ``GET /lab/costs``: threads, memory, connections to the upstream
    correct: bool  # every answer was the item asked for


def lookups_seen(app: lab.LabApp, burst: Burst) -> LookupRun:
    """Read, right after ``burst``, what the upstream recorded, the app's limiter trace
    (from just before the burst) and the app's costs; check every answer."""
    upstream = app.stats()["upstream"]
    limiter = app.request("GET", f"/lab/limiter?since={burst.started - 0.05}").json()
    costs = app.request("GET", "/lab/costs").json()
    starts = sorted(r["start"] for r in upstream["requests"])
    return {
        "burst": burst,
        "upstream_peak": upstream["peak"],
        "upstream_starts": [s - starts[0] for s in starts],
        "limiter": limiter,
        "max_borrowed": max((s[1] for s in limiter["trace"]), default=0),
        "costs": costs,
        "correct": all(
            r.json() == {"item_id": int(r.request.path.rsplit("/", 1)[1]),
                         "name": f"item-{r.request.path.rsplit('/', 1)[1]}"}
            for r in burst.answered
        ),
    }


def costs_table(runs: Mapping[str, LookupRun]) -> str:
    """The lookup runs' bill side by side, as a Markdown table: the upstream's peak, the
    burst's time, and the app's threads, memory and connections right after it."""
    return markdown_table(
        ("app", "upstream peak", "burst", "threads", "resident memory", "address space",
         "connections to the upstream kept open"),
        (
            (name, r["upstream_peak"], f"{r['burst'].total:.2f} s", r["costs"]["threads"],
             f"{r['costs']['rss_mib']:.0f} MiB", f"{r['costs']['vms_mib']:.0f} MiB",
             r["costs"]["upstream_connections"])
            for name, r in runs.items()
        ),
    )


def pid_of(r: Response) -> int:
    """The worker process that answered (the notebook-06 apps put their pid in the body)."""
    return int(r.json()["pid"])


def per_worker(b: Burst) -> dict[int, list[Response]]:
    """Each worker's answers in ``b``, in the order it sent them."""
    out: dict[int, list[Response]] = {}
    for r in sorted(b.answered, key=lambda r: r.end or 0.0):
        out.setdefault(pid_of(r), []).append(r)
    return out


# -- 07 PostgreSQL ------------------------------------------------------------------------


def measured_on_postgres(app_file: Path | str) -> ScenarioRun:
    """pool-stall's own scenario and checks on ``app_file``, with the grader's set-up: a
    private PostgreSQL started for this run (its socket's folder reachable in the app's
    sandbox, ``DATABASE_URL`` in its environment), stopped and removed after it."""
    from autograder.judges import pool_stall
    from autograder.measure.session import Session
    from autograder.run import runner

    async def go() -> Figures:
        async with (
            pool_stall.database() as beside,
            runner.running(Path(app_file), env=dict(beside.env), reachable=beside.reachable) as run,
        ):
            s = Session(run)
            s.beside = beside.handle
            return await pool_stall.measure(s)

    figures = lab.run(go(), 90)
    results = pool_stall.judge(figures)
    return {
        "figures": figures,
        "extra": figures.extra,
        "checks": {c.name: c for c in results},
        "failed": [c.name for c in results if not c.passed],
        "deps": {},
        "then": None,
    }


def status_counts(responses: Iterable[Response]) -> dict[str, int]:
    """How many answers of each status (``unanswered`` for the rest), most first."""
    counts: dict[str, int] = {}
    for r in responses:
        key = str(r.status) if r.done else "unanswered"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def held_table(runs: Mapping[str, ScenarioRun]) -> str:
    """The PostgreSQL runs side by side: answers, connections at the server, time held."""
    rows = []
    for name, r in runs.items():
        conns = r["extra"]["connections"]
        rows.append((
            name,
            ", ".join(f"{v} × {k}" for k, v in r["extra"]["statuses"].items()),
            conns["peak"],
            f"{conns['idle_in_transaction_s']:.2f}",
            f"{r['extra']['health_p95_ms']} ms",
            verdict_line(r),
        ))
    return markdown_table(
        ("app", "answers", "connections at the server (peak)", "idle in transaction (conn·s)",
         "/health p95", "checks"),
        rows,
    )


def two_pools(app: lab.LabApp, pg: Any, *, requests: int, every: float) -> dict[str, Any]:
    """``GET /hold`` sent once every ``every`` s (both workers get some), while the grader's
    sampler reads ``pg_stat_activity`` over its own superuser connection: the answers, the
    SQLSTATEs the refused ones carried, and the peak of the app's connections at the server."""
    import asyncpg

    from autograder.judges import pool_stall
    from autograder.measure.load import Request

    async def go() -> tuple[Burst, list[tuple[float, dict[str, int]]]]:
        admin = await asyncpg.connect(pg.dsn(admin=True))
        try:
            sampler = pool_stall.Sampler(admin)
            sampler.start()
            burst = await app.session.measure_burst(
                [Request("GET", "/hold")] * requests, every=every, give_up_after=15.0
            )
            await sampler.stop()
        finally:
            await admin.close()
        return burst, sampler.samples

    burst, samples = lab.run(go(), 30)
    refused = [r.json() for r in burst.answered if r.status == 500]
    return {
        "burst": burst,
        "statuses": status_counts(burst.responses),
        "sqlstates": sorted({str(r.get("sqlstate")) for r in refused}),
        "refused": refused,
        "workers": sorted({r.json()["pid"] for r in burst.answered if r.status == 200}),
        "peak": pool_stall.connection_figures(samples)["peak"],
    }


def fill_up(pg: Any, *, at_most: int = 40) -> dict[str, Any]:
    """Open connections as the app's role, one after another, until the server refuses
    one (at most ``at_most``); then close them all. What the refusal said."""
    import asyncpg

    async def go() -> dict[str, Any]:
        conns = []
        try:
            for _ in range(at_most):
                conns.append(await asyncpg.connect(pg.dsn()))
        except asyncpg.TooManyConnectionsError as e:
            return {"opened": len(conns), "raised": type(e).__name__, "sqlstate": e.sqlstate,
                    "message": str(e)}
        finally:
            for c in conns:
                await c.close()
        return {"opened": len(conns), "raised": None, "sqlstate": None, "message": ""}

    return lab.run(go(), 30)
