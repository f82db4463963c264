"""starved-health: a slow synchronous SDK in ``def`` endpoints takes every token of the thread
pool that ``/health`` and the file download need too.

100 report requests arrive at once (each a 0.3 s call to the SDK's upstream, which accepts
40 in flight and answers 429 beyond). While they are in flight, ``/health`` and the
catalogue download are probed open-loop from outside; the upstream counts what it refused.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.measure import load, session
from autograder.measure.load import OpenLoopProbe, Request, Response
from autograder.measure.session import Figures, Session
from autograder.servers.limited import SDK_LIMIT, report_body

N = 100
REPORTS_LIMIT = 1.5  # 100 calls at 40 at a time: three waves of 0.3 s = 0.9 s
GRACE = 0.1  # waited past the limit before the verdict counts as settled
HEALTH_LIMIT = 0.1  # p95 of /health, probed every 20 ms
DOWNLOAD_LIMIT = 0.2  # p95 of the catalogue download, probed every 20 ms too
HEALTH_INTERVAL = 0.02
DOWNLOAD_INTERVAL = 0.02
MIN_HEALTH = 20
MIN_DOWNLOADS = 20
CATALOGUE_PATH = "/files/catalogue.csv"
CATALOGUE_ROWS = 5000


def catalogue_text() -> str:
    """The catalogue file the service serves (the starter writes it at start-up)."""
    return "".join(f"{i},item-{i}\n" for i in range(CATALOGUE_ROWS))


def _window(
    probe: OpenLoopProbe, probes: list[Response], since: float, until: float
) -> tuple[list[float], int]:
    """Latencies of the probes sent in [since, until], and how many of them got no 200."""
    lat = load.probe_latencies(probes, since=since, until=until, cut_off=probe.stopped_at)
    bad = sum(1 for p in probes if since <= p.start <= until and p.done and p.status != 200)
    return lat, bad


async def measure(s: Session) -> Figures:
    s.start_loop_probe()  # for the diagnosis and the metrics; no check reads it
    for path in ("/health", CATALOGUE_PATH, "/reports/0"):
        await s.send(Request("GET", path))
    await s.reset_deps()
    health = s.probe("/health")
    downloads = OpenLoopProbe(session.HOST, s.port, CATALOGUE_PATH, interval=DOWNLOAD_INTERVAL)
    t0 = time.monotonic()
    health.start()
    downloads.start()
    reports = await s.burst(
        [Request("GET", f"/reports/{i}") for i in range(1, N + 1)],
        give_up_after=REPORTS_LIMIT + GRACE,
    )
    done = [r.end for r in reports if r.end is not None]
    # The probes count while the reports are in flight, and at least MIN_HEALTH of them.
    window_end = max([*done, t0 + MIN_HEALTH * HEALTH_INTERVAL])
    remaining = window_end + DOWNLOAD_INTERVAL - time.monotonic()
    if remaining > 0:
        await asyncio.sleep(remaining)
    health_probes = await health.stop()
    download_probes = await downloads.stop()
    stats = (await s.deps_stats())["limited"]["sdk"]
    loop = await s.stop_loop_probe()
    h_lat, h_bad = _window(health, health_probes, t0, window_end)
    d_lat, d_bad = _window(downloads, download_probes, t0, window_end)
    expected = catalogue_text().encode()
    wrong_file = sum(
        1 for p in download_probes if t0 <= p.start <= window_end and p.done and p.body != expected
    )
    return s.figures(
        requests=reports,
        waited=REPORTS_LIMIT + GRACE,
        loop=loop,
        extra={
            "health_latencies_ms": [round(x * 1000, 1) for x in h_lat],
            "health_p95_ms": round(checks.percentile(h_lat, 95) * 1000, 1) if h_lat else None,
            "health_errors": h_bad,
            "download_latencies_ms": [round(x * 1000, 1) for x in d_lat],
            "download_p95_ms": round(checks.percentile(d_lat, 95) * 1000, 1) if d_lat else None,
            "download_errors": d_bad,
            "download_wrong_body": wrong_file,
            "upstream_peak_in_flight": stats["peak"],
            "upstream_refused_429": stats["refused"],
        },
    )


def _report(r: Response) -> tuple[int, dict[str, Any]]:
    return 200, report_body(int(r.request.path.rsplit("/", 1)[1]))


def _probe_check(name: str, f: Figures, key: str, limit: float, min_count: int, what: str) -> Check:
    lat = [x / 1000 for x in f.extra.get(f"{key}_latencies_ms", [])]
    result = checks.p95_under(name, lat, limit, min_count=min_count, what=what)
    errors = f.extra.get(f"{key}_errors", 0)
    if result.passed and errors:
        return Check(name, False, f"{errors} {what} probes did not answer 200")
    return result


def judge(f: Figures) -> list[Check]:
    refused = f.extra.get("upstream_refused_429", 0)
    peak = f.extra.get("upstream_peak_in_flight", 0)
    reports = checks.bodies_match("reports", f.requests, _report, what="report requests")
    if reports.passed:
        reports = checks.all_finished_within(
            "reports", f.requests, REPORTS_LIMIT, waited=f.waited, what="report requests"
        )
    downloads = _probe_check(
        "downloads-fast", f, "download", DOWNLOAD_LIMIT, MIN_DOWNLOADS, f"GET {CATALOGUE_PATH}"
    )
    wrong_file = f.extra.get("download_wrong_body", 0)
    if downloads.passed and wrong_file:
        downloads = Check(
            "downloads-fast", False, f"{wrong_file} downloads did not return the catalogue file"
        )
    return [
        reports,
        checks.at_most(
            "sdk-limit",
            refused,
            0,
            message="the SDK's upstream refused {value} calls with 429 (at most {maximum} "
            f"allowed: it accepts {SDK_LIMIT} in flight at once from the service; the service's peak was {peak})",
        ),
        _probe_check("health-fast", f, "health", HEALTH_LIMIT, MIN_HEALTH, "GET /health"),
        downloads,
    ]


EXERCISE = Exercise(
    id="starved-health",
    title="A slow SDK that starves the health check",
    summary="100 GET /reports/{id} call a sync 0.3 s SDK (40 in flight allowed); meanwhile "
    "GET /health and the catalogue download must answer fast (p95 100 ms and 200 ms)",
    checks=("reports", "sdk-limit", "health-fast", "downloads-fast"),
    measure=measure,
    judge=judge,
)
