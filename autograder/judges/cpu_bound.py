"""cpu-bound: ``POST /hash`` runs pbkdf2 (1M iterations); ``/health`` must stay fast meanwhile."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time

from autograder.judges import checks
from autograder.judges.checks import Check
from autograder.judges.exercise import Exercise
from autograder.measure import load
from autograder.measure.load import Request
from autograder.measure.session import Figures, Session

N = 4
ITERATIONS = 1_000_000
SALT = b"course-salt"
P95_LIMIT = 0.1
MIN_PROBES = 20
PROBE_INTERVAL = 0.02
HASH_TIMEOUT = 20.0


def expected_hash(password: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), SALT, ITERATIONS).hex()


def prepare() -> dict[str, str]:
    """Two fresh passwords and their hashes, computed while the submission starts up
    (each is sent twice: four hashes in flight, half the checking cost)."""
    passwords = [secrets.token_hex(6) for _ in range(N // 2)]
    return {p: expected_hash(p) for p in passwords}


async def measure(s: Session) -> Figures:
    expected: dict[str, str] = s.prepared
    passwords = list(expected) * 2
    await s.send(Request("GET", "/health"))  # warm-up
    health = s.probe("/health")
    t0 = time.monotonic()
    health.start()
    responses = await s.burst(
        [Request("POST", "/hash", {"password": p}) for p in passwords], give_up_after=HASH_TIMEOUT
    )
    done = [r.end for r in responses if r.end is not None]
    # At least MIN_PROBES are counted, even when the hashes come back sooner.
    window_end = max([*done, t0 + MIN_PROBES * PROBE_INTERVAL])
    remaining = window_end + PROBE_INTERVAL - time.monotonic()
    if remaining > 0:
        await asyncio.sleep(remaining)
    probes = await health.stop()
    lat = load.probe_latencies(probes, since=t0, until=window_end, cut_off=health.stopped_at)
    failed = sum(1 for p in probes if t0 <= p.start <= window_end and p.done and p.status != 200)
    return s.figures(
        requests=responses,
        waited=HASH_TIMEOUT,
        loop=(max(lat) if lat else None, len(lat)),
        extra={
            "health_latencies_ms": [round(x * 1000, 1) for x in lat],
            "health_p95_ms": round(checks.percentile(lat, 95) * 1000, 1) if lat else None,
            "health_errors": failed,
            "_expected": expected,
        },
    )


def judge(f: Figures) -> list[Check]:
    expected = f.extra.get("_expected", {})
    lat = [x / 1000 for x in f.extra.get("health_latencies_ms", [])]
    result = [
        checks.bodies_match(
            "hashes",
            f.requests,
            lambda r: (200, {"hash": expected.get(r.request.json_body["password"])}),
            what="hash requests",
        ),
        checks.p95_under("health-fast", lat, P95_LIMIT, min_count=MIN_PROBES, what="GET /health"),
    ]
    if result[0].passed and len([r for r in f.requests if r.done]) < len(f.requests):
        result[0] = Check(
            "hashes", False, f"only {sum(r.done for r in f.requests)} of {N} hashes came back"
        )
    errors = f.extra.get("health_errors", 0)
    if errors and result[1].passed:
        result[1] = Check("health-fast", False, f"{errors} /health probes did not answer 200")
    return result


EXERCISE = Exercise(
    id="cpu-bound",
    title="Password hashing that stops the health check",
    summary="POST /hash runs pbkdf2 (1M rounds); with 4 in flight, GET /health must answer in under 100 ms (p95)",
    checks=("hashes", "health-fast"),
    prepare=prepare,
    measure=measure,
    judge=judge,
)
