"""The "your turn" scenarios of notebooks 04-06, each graded by the course's grader
(:func:`autograder.grade.grade_async`) with its own checks.

- ``04-stock``: a ``def`` lookup with a ``def`` yield dependency and a response model,
  capped by the 40-token limiter; the ``threadpool-exhaustion`` exercise's scenario and
  checks (100 lookups at once must reach the upstream together).
- ``05-scores``: pure-Python work already moved to ``asyncio.to_thread``, which still
  starves ``/health`` through the GIL; four jobs in flight, ``/health``'s p95 under 100 ms.
- ``06-prices``: a product page that blocks the loop one call away from the endpoint;
  twenty pages at once within a second, the loop free.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from _practice import GRACE, LAG_LIMIT, MINE, TOTAL_LIMIT, YourTurn, concurrent, loop_free, turn

from autograder.judges import checks, threadpool_exhaustion
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.judges.scenarios import burst_figures
from autograder.measure import load
from autograder.measure.load import Request
from autograder.measure.session import Figures, Session

# 05: four pure-Python jobs in flight; /health probed open-loop meanwhile.
JOBS = 4
STEPS = 3_000_000  # the starter's and the answer's loop length
P95_LIMIT = 0.1
MIN_PROBES = 20
PROBE_INTERVAL = 0.02
JOB_TIMEOUT = 20.0


def expected_score(seed: int) -> int:
    return seed + (STEPS - 1) * STEPS * (2 * STEPS - 1) // 6  # seed + sum of i*i for i < STEPS


async def measure_scores(s: Session) -> Figures:
    await s.send(Request("GET", "/health"))  # warm-up
    health = s.probe("/health", interval=PROBE_INTERVAL)
    t0 = time.monotonic()
    health.start()
    responses = await s.burst(
        [Request("POST", f"/score/{seed}") for seed in range(1, JOBS + 1)], give_up_after=JOB_TIMEOUT
    )
    done = [r.end for r in responses if r.end is not None]
    window_end = max([*done, t0 + MIN_PROBES * PROBE_INTERVAL])  # at least MIN_PROBES counted
    if (remaining := window_end + PROBE_INTERVAL - time.monotonic()) > 0:
        await asyncio.sleep(remaining)
    probes = await health.stop()
    lat = load.probe_latencies(probes, since=t0, until=window_end, cut_off=health.stopped_at)
    return s.figures(
        requests=responses,
        waited=JOB_TIMEOUT,
        loop=(max(lat) if lat else None, len(lat)),
        extra={"health_latencies_ms": [round(x * 1000, 1) for x in lat]},
    )


def judge_scores(f: Figures) -> list[Check]:
    lat = [x / 1000 for x in f.extra.get("health_latencies_ms", [])]
    return [
        checks.bodies_match(
            "scores",
            f.requests,
            lambda r: (200, {"seed": int(r.request.path.rsplit("/", 1)[1]),
                             "score": expected_score(int(r.request.path.rsplit("/", 1)[1]))}),
            what="score requests",
        ),
        checks.p95_under("health-fast", lat, P95_LIMIT, min_count=MIN_PROBES, what="GET /health"),
    ]


# 06: twenty product pages at once, each priced by the 0.3 s upstream.
PAGES = 20
PAGES_PEAK = 15  # the pricing calls in flight together (a page priced without asking fails)


async def measure_prices(s: Session) -> Figures:
    pages = [Request("GET", f"/products/{i}") for i in range(1, PAGES + 1)]
    return await burst_figures(
        s, Request("GET", "/products/100"), pages,
        waited=TOTAL_LIMIT + GRACE, reset_deps=True, upstream_peak=True,
    )


def price_page(item_id: int) -> dict[str, object]:
    return {"id": item_id, "name": f"item-{item_id}", "price_cents": 100 + item_id}


def judge_prices(f: Figures) -> list[Check]:
    return [
        concurrent(f, "product pages"),
        checks.bodies_match(
            "responses", f.requests,
            lambda r: (200, price_page(int(r.request.path.rsplit("/", 1)[1]))), what="product pages",
        ),
        checks.at_least(
            "upstream-concurrency",
            f.extra.get("upstream_peak_in_flight", 0),
            PAGES_PEAK,
            message="the pricing service saw at most {value} calls in flight at once while "
            f"{PAGES} pages arrived together (at least {{minimum}} expected: each page's price "
            "is the pricing service's answer)",
        ),
        loop_free(f),
    ]


class ImportableTurn(YourTurn):
    """A turn whose answer may use a process pool: its files are named ``<name><number>.py``.

    The grader imports a file under its own name so that a pool's workers can import it
    again; a name that is not an identifier (``05-scores``) is imported as ``submission``,
    which no worker can find.
    """

    @property
    def mine(self) -> Path:
        return MINE / self.reference.name

    @classmethod
    def of(cls, id: str, exercise: Exercise, *, fails_on: str, reference: str) -> ImportableTurn:
        t = turn(id, exercise, fails_on=fails_on, reference=reference)
        return cls(t.id, t.starter, t.reference, t.exercise, t.fails_on)


TURNS: tuple[YourTurn, ...] = (
    turn("04-stock", Exercise(
        id="04-stock",
        title="A stock lookup that reaches its upstream 40 at a time",
        summary=f"{threadpool_exhaustion.N} GET /legacy/{{item_id}} at once, at least "
        f"{threadpool_exhaustion.PEAK_MIN} of them in flight at the upstream together",
        checks=threadpool_exhaustion.EXERCISE.checks,
        measure=threadpool_exhaustion.measure,
        judge=threadpool_exhaustion.judge,
    ), fails_on="upstream-concurrency"),
    ImportableTurn.of("05-scores", Exercise(
        id="05-scores",
        title="A scorer moved to a thread that still freezes /health",
        summary=f"{JOBS} POST /score/{{seed}} in flight (pure Python), GET /health "
        f"answered in under {P95_LIMIT * 1000:.0f} ms at the 95th percentile",
        checks=("scores", "health-fast"),
        measure=measure_scores,
        judge=judge_scores,
    ), fails_on="health-fast", reference="scores05"),
    turn("06-prices", Exercise(
        id="06-prices",
        title="Product pages that wait for their prices one at a time",
        summary=f"{PAGES} GET /products/{{id}} at once within {TOTAL_LIMIT:.0f} s, their "
        f"pricing calls in flight together, the loop never blocked over {LAG_LIMIT * 1000:.0f} ms",
        checks=("concurrent", "responses", "upstream-concurrency", "loop-free"),
        measure=measure_prices,
        judge=judge_prices,
    ), fails_on="loop-free"),
)
