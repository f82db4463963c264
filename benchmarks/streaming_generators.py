"""What a sync generator costs in a StreamingResponse, against an async one: print figures.

    flock /tmp/course-timing.lock .venv/bin/python benchmarks/streaming_generators.py [--sizes 20 40 80]

Starlette iterates a sync generator with ``iterate_in_threadpool``: one
``anyio.to_thread.run_sync`` per chunk, each holding one of the default limiter's 40
tokens while the generator waits for its source. This serves the ``streaming`` exercise's
two reference solutions beside the real row source (10 rows, 50 ms each) and, for each
number of concurrent exports, prints the slowest first row, the total time, and the CPU
seconds the app's process used. It asserts nothing. Run it under the timing lock.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder import lab  # noqa: E402
from autograder.judges.streaming import stream_one  # noqa: E402
from autograder.measure.load import Request, Response  # noqa: E402

SOLUTIONS = ("async_generator.py", "sync_generator.py")


async def exports(port: int, n: int) -> tuple[list[float | None], list[Response]]:
    tag = uuid.uuid4().hex[:6]
    start = time.monotonic()
    records = [
        Response(request=Request("GET", f"/export/{tag}-{i}"), start=start) for i in range(n)
    ]
    firsts: list[float | None] = [None] * n
    await asyncio.wait_for(
        asyncio.gather(*(stream_one(port, r, firsts, i) for i, r in enumerate(records))), 30
    )
    return firsts, records


def cpu_seconds(app: lab.LabApp) -> float:
    total = 0.0
    for p in app.processes():
        t = p.cpu_times()
        total += t.user + t.system
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 40, 80])
    args = parser.parse_args(argv)
    print(f"{'solution':22} {'exports':>7} {'first row max':>13} {'total':>7} {'app CPU':>8}")
    for name in SOLUTIONS:
        with lab.serve(ROOT / "solutions" / "streaming" / name) as app:
            lab.run(exports(app.port, 5))  # warm-up
            for n in args.sizes:
                cpu0 = cpu_seconds(app)
                firsts, records = lab.run(exports(app.port, n))
                cpu = cpu_seconds(app) - cpu0
                ok = sum(1 for r in records if r.done and r.status == 200)
                first = max((f for f in firsts if f is not None), default=float("nan"))
                total = max(r.end for r in records if r.end) - records[0].start
                print(
                    f"{name:22} {n:7d} {first * 1000:10.0f} ms {total:5.2f} s {cpu:6.2f} s"
                    + ("" if ok == n else f"  ({n - ok} failed)")
                )


if __name__ == "__main__":
    main()
