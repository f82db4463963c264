"""Margins: grade an exercise's starter, reference fixes and test corpus for several rounds
and print each file's verdict per round, any flip, and the figures its checks read.

    flock /tmp/course-timing.lock .venv/bin/python benchmarks/margins.py durable-jobs [-r 3]

A valid fix (``solutions/<id>/*.py``, ``tests/corpus/<id>/valid_*.py``) must pass every
round; the starter and every ``wrong_*.py`` must fail every round. The figures printed
(slowest answer, worst loop lag, and the exercise's own records) are what a note reports
as the margins against each limit. Figures only: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grade import grade  # noqa: E402
from autograder.judges import EXERCISES  # noqa: E402


def cases(exercise: str) -> list[tuple[str, Path]]:
    """(expected outcome, file): the starter and wrong fixes fail, the valid ones pass."""
    out = [("fail", ROOT / "exercises" / exercise / "starter.py")]
    out += [("pass", p) for p in sorted((ROOT / "solutions" / exercise).glob("*.py"))]
    corpus = ROOT / "tests" / "corpus" / exercise
    out += [("pass", p) for p in sorted(corpus.glob("valid_*.py"))]
    out += [("fail", p) for p in sorted(corpus.glob("wrong_*.py"))]
    return out


def figures(metrics: dict[str, Any]) -> dict[str, Any]:
    keep = {"max_loop_lag_ms", "latency_ms"}
    skip = {"timeline", "events", "emails_ms", "requests", "answered", "waited_ms", "loop_probes",
            "streams", "connections_timeline", "members", "published_ms", "memory_timeline"}
    return {k: v for k, v in metrics.items() if k in keep or k not in skip}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exercise", choices=sorted(EXERCISES))
    parser.add_argument("-r", "--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("-k", "--only", default="", help="only files whose path contains this")
    args = parser.parse_args()
    flips = 0
    for expected, path in cases(args.exercise):
        if args.only not in str(path):
            continue
        name = path.relative_to(ROOT)
        outcomes = []
        for r in range(args.rounds):
            t0 = time.monotonic()
            verdict = grade(args.exercise, path)
            took = time.monotonic() - t0
            outcome = "pass" if verdict.passed else "fail"
            outcomes.append(outcome)
            failed = ",".join(verdict.failed) or "-"
            print(f"{name} round {r + 1}: {outcome} (expected {expected}) in {took:.1f} s; failed: {failed}")
            print("   ", json.dumps(figures(verdict.metrics), sort_keys=True))
            for check in verdict.checks:
                if not check.passed:
                    print(f"    {check.name}: {check.message}")
        wrong = [o for o in outcomes if o != expected]
        flips += bool(wrong)
        print(f"{name}: {'OK' if not wrong else 'FLIPPED'} over {args.rounds} rounds\n")
    print(f"{args.exercise}: {flips} files with a wrong or flipping verdict")
    return 1 if flips else 0


if __name__ == "__main__":
    raise SystemExit(main())
