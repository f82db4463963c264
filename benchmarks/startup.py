"""What starting a process costs: imports of each kind of process, and a whole grading.

    flock /tmp/course-timing.lock .venv/bin/python benchmarks/startup.py [--repeat 3]

Every graded app, lesson kernel and nbgrader command is a fresh Python process, and the
grader's sandbox never writes bytecode (read-only site-packages, PYTHONDONTWRITEBYTECODE):
``scripts/setup`` compiles it once (``uv sync --compile-bytecode``). This prints how much
of site-packages is compiled, the median wall time of each kind of process's imports,
and a whole grading's time (the blocking-sleep solution, through the CLI).

It prints figures and asserts nothing. Run it under the machine's timing lock; it does
not take the lock itself.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IMPORTS = {
    "a graded app (fastapi, uvicorn, httpx)": "import fastapi, uvicorn, httpx",
    "a lesson's kernel (ipykernel, matplotlib)": "import ipykernel.kernelapp, matplotlib.pyplot",
    "an nbgrader command": "import nbgrader.apps",
}


def wall(argv: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
    return time.monotonic() - started


def compiled_share() -> str:
    packages = next((ROOT / ".venv" / "lib").glob("python3.*/site-packages"))
    sources = sum(1 for _ in packages.rglob("*.py"))
    compiled = sum(1 for _ in packages.rglob("__pycache__/*.pyc"))
    return f"{compiled} bytecode files for {sources} sources in the course's site-packages"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    args = parser.parse_args()
    python = str(ROOT / ".venv" / "bin" / "python")
    print(compiled_share())
    for what, code in IMPORTS.items():
        took = [wall([python, "-c", code]) for _ in range(args.repeat)]
        print(f"{what:44} {statistics.median(took):5.2f} s")
    solution = ROOT / "solutions" / "blocking-sleep" / "async_sleep.py"
    grading = []
    for _ in range(args.repeat):
        done = subprocess.run(
            [python, "-m", "autograder", "grade", "blocking-sleep", str(solution), "--json"],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        grading.append(json.loads(done.stdout)["metrics"]["grading_s"])
    print(f"{'a grading (blocking-sleep solution)':44} {statistics.median(grading):5.2f} s "
          f"(grading_s of {len(grading)} runs: {grading})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
