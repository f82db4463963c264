"""Grade every solution and every starter through the CLI; print wall times and verdicts.

    flock /tmp/course-timing.lock .venv/bin/python benchmarks/grade_all.py [--repeat 3] [--corpus]

One submission at a time, exactly as a student runs the grader (``python -m autograder
grade ID FILE --json``). Prints, per file, the wall time of each run, its verdict (passed,
or the set of failed checks) and the deciding figures (loop lag, upstream peak, /health
p95); then the median wall time per exercise; with ``--repeat N``, each round grades
everything once (rounds, not back-to-back repeats, so a slow minute spreads over all
files) and the report lists every file whose verdict changed between rounds.

It prints figures and asserts nothing: thresholds belong to the grader.
Run it under the machine's timing lock; it does not take the lock itself.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.judges import EXERCISES  # noqa: E402

# The figures that decide the close calls, as named in the JSON ``metrics``.
FIGURES = {
    "max_loop_lag_ms": "lag",
    "upstream_peak_in_flight": "peak",
    "health_p95_ms": "p95",
    "total_ms": "total",
}


@dataclass
class Case:
    exercise: str
    kind: str  # solution, starter, valid, wrong
    path: Path
    seconds: list[float] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.path.relative_to(ROOT))

    @property
    def stable(self) -> bool:
        return len(set(self.verdicts)) <= 1


def cases(with_corpus: bool, only: str | None) -> list[Case]:
    found = []
    for exercise in EXERCISES:
        if only and exercise != only:
            continue
        for path in sorted((ROOT / "solutions" / exercise).glob("*.py")):
            found.append(Case(exercise, "solution", path))
        found.append(Case(exercise, "starter", ROOT / "exercises" / exercise / "starter.py"))
        if with_corpus:
            for path in sorted((ROOT / "tests" / "corpus" / exercise).glob("*.py")):
                found.append(Case(exercise, path.name.split("_", 1)[0], path))
    return found


def grade(case: Case) -> None:
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", case.exercise, str(case.path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=180,
    )
    case.seconds.append(time.monotonic() - t0)
    try:
        verdict = json.loads(done.stdout)
    except ValueError:
        case.verdicts.append(f"no verdict (exit {done.returncode})")
        case.figures.append("")
        return
    failed = sorted(c["name"] for c in verdict["checks"] if not c["passed"])
    case.verdicts.append("passed" if verdict["passed"] else "failed " + ",".join(failed))
    metrics = verdict.get("metrics", {})
    case.figures.append(
        " ".join(f"{short}={metrics[key]:g}" for key, short in FIGURES.items() if key in metrics)
    )


def report(all_cases: list[Case], rounds: int) -> None:
    print(f"\n{'file':<58} {'kind':<8} {'wall s':<18} verdict / figures")
    for case in all_cases:
        walls = " ".join(f"{s:.1f}" for s in case.seconds)
        print(f"{case.name:<58} {case.kind:<8} {walls:<18} {case.verdicts[0]}")
        for i, (verdict, figures) in enumerate(zip(case.verdicts, case.figures, strict=True)):
            changed = "" if verdict == case.verdicts[0] else f"  <- changed: {verdict}"
            print(f"{'':<58} {'':<8} {'run ' + str(i + 1):<18} {figures}{changed}")

    print(f"\n{'exercise':<24} {'gradings':>8} {'median s':>9} {'max s':>7}")
    for exercise in EXERCISES:
        times = [s for c in all_cases if c.exercise == exercise for s in c.seconds]
        if times:
            print(
                f"{exercise:<24} {len(times):>8} {statistics.median(times):>9.2f} {max(times):>7.2f}"
            )
    every = [s for c in all_cases for s in c.seconds]
    print(f"{'all':<24} {len(every):>8} {statistics.median(every):>9.2f} {max(every):>7.2f}")
    print(f"total wall time of the gradings: {sum(every):.0f} s")

    if rounds > 1:
        unstable = [c for c in all_cases if not c.stable]
        print(
            f"\nverdict changed between the {rounds} rounds for {len(unstable)} of {len(all_cases)} files"
        )
        for case in unstable:
            print(f"  {case.name}: " + " | ".join(case.verdicts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="rounds over every file (default 1)")
    parser.add_argument("--corpus", action="store_true", help="also grade tests/corpus/")
    parser.add_argument("--exercise", choices=list(EXERCISES), help="only this exercise")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    all_cases = cases(args.corpus, args.exercise)
    for r in range(args.repeat):
        print(f"round {r + 1}/{args.repeat}: grading {len(all_cases)} files", file=sys.stderr)
        for case in all_cases:
            grade(case)
            print(f"  {case.seconds[-1]:5.1f} s  {case.name}: {case.verdicts[-1]}", file=sys.stderr)
    report(all_cases, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
