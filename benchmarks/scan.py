"""Scan an app through the CLI a few times; print the scan time and each route's figures.

    flock /tmp/course-timing.lock .venv/bin/python benchmarks/scan.py [--repeat 3]
        [--target tests/scan_apps/library.py] [-n 20]

The default target is a ten-route app (eight clean routes, two problems): the issue's
target is a scan under 15 s on a 2-core machine. The capstone's bookshop
(``--target course/apps/nb11_bookshop.py``: six clean routes, three problems, one POST
skipped) is the other ten-route case. Each round runs ``python -m autograder
scan TARGET --json`` as a user would; the report lists the wall time, the scan's own
time, each route's verdict and deciding figures, and any route whose verdict changed
between rounds. It prints figures and asserts nothing. Run it under the machine's timing
lock; it does not take the lock itself.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("alone_ms", "max_latency_ms", "slowdown", "parallelism", "loop_lag_ms", "threads_in_use")


def scan_once(target: str, n: int, extra: list[str]) -> tuple[float, dict]:
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "scan", target, "-n", str(n), "--json", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    wall = time.monotonic() - t0
    if not done.stdout:
        sys.exit(f"the scan printed nothing: {done.stderr[-2000:]}")
    return wall, json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="tests/scan_apps/library.py")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("extra", nargs="*", help="more scan arguments (after --)")
    args = parser.parse_args()
    walls, scans = [], []
    verdicts: dict[str, list[str]] = {}
    for round_ in range(1, args.repeat + 1):
        wall, out = scan_once(args.target, args.n, args.extra)
        walls.append(wall)
        scans.append(out["scan_s"])
        print(f"round {round_}: {wall:.1f} s wall, {out['scan_s']:.1f} s scanning")
        if out["error"]:
            print(f"  error: {out['error']}")
        for r in out["routes"]:
            key = f"{r['method']} {r['path']}"
            verdicts.setdefault(key, []).append(r["verdict"])
            figs = r["figures"]
            shown = " ".join(f"{k}={figs.get(k)}" for k in FIGURES if figs.get(k) is not None)
            print(f"  {key:<28} {r['verdict']:<12} {shown}")
            if r["diagnosis"]:
                print(f"  {'':<28} where: {r['diagnosis']}")
    print(
        f"\n{args.target}: median {statistics.median(walls):.1f} s wall "
        f"(max {max(walls):.1f}), median {statistics.median(scans):.1f} s scanning"
    )
    changed = {k: v for k, v in verdicts.items() if len(set(v)) > 1}
    for key, seen in changed.items():
        print(f"verdict changed between rounds: {key}: {seen}")
    if not changed:
        print(f"every verdict the same over {args.repeat} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
