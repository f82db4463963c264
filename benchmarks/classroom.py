"""Grade a class of notebooks with feedback, and the same files with the CLI; print the times.

    flock /tmp/course-timing.lock .venv/bin/python benchmarks/classroom.py [--per-exercise 5]

Builds a class in a temporary nbgrader course: for every exercise, the untouched starter,
its solutions and then wrong/valid variants from tests/corpus/ until ``--per-exercise``
notebooks (30 for six exercises), each file's code in the notebook's app cell. Then, in
the same run:

1. every file once through the CLI (``python -m autograder grade ID FILE --json``), as a
   student grades it: wall time per file;
2. the whole class with ``python -m autograder classroom autograde --feedback``: the
   time the class command printed per submission, and the feedback's time shared over
   them.

Prints per submission: CLI seconds, class seconds, their ratio and both scores; then the
medians (class per submission, with and without the feedback's share; ratio). It asserts
nothing. It does not take the machine's timing lock itself: run it under the lock.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from autograder.classroom.submission import app_cell  # noqa: E402
from autograder.judges import EXERCISES  # noqa: E402

LINE = re.compile(
    r"^\[\d+/\d+\] (?P<student>\S+) / (?P<exercise>\S+) \.\.\. (?P<rest>.*) \((?P<s>[\d.]+) s\)$"
)
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def class_files(per_exercise: int) -> list[tuple[str, str, Path]]:
    """(student, exercise, file): starter, solutions, then corpus files, per exercise."""
    chosen = []
    for exercise in EXERCISES:
        files = [ROOT / "exercises" / exercise / "starter.py"]
        files += sorted((ROOT / "solutions" / exercise).glob("*.py"))
        files += sorted((ROOT / "tests" / "corpus" / exercise).glob("*.py"))
        for n, path in enumerate(files[:per_exercise]):
            chosen.append((f"s{n:02d}-{path.stem.replace('_', '-')}", exercise, path))
    return chosen


def nbgrader(course: Path, *args: str) -> None:
    env = {**ENV, "PATH": os.pathsep.join([str(Path(sys.executable).parent), ENV["PATH"]])}
    subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )


def build_class(course: Path, chosen: list[tuple[str, str, Path]]) -> None:
    course.mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source", course / "source")
    nbgrader(course, "generate_assignment", "*")
    for who, exercise, path in chosen:
        nb = nbformat.read(course / "release" / exercise / f"{exercise}.ipynb", as_version=4)
        app_cell(nb).source = "%%writefile app.py\n" + path.read_text()
        folder = course / "submitted" / who / exercise
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{exercise}.ipynb")


def cli_grade(exercise: str, path: Path) -> tuple[float, int | str]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", exercise, str(path), "--json"],
        capture_output=True,
        text=True,
        env=ENV,
        stdin=subprocess.DEVNULL,
    )
    took = time.monotonic() - started
    try:
        return took, json.loads(done.stdout)["score"]
    except (ValueError, KeyError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return took, f"no verdict (exit {done.returncode}: {tail[:120]})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-exercise", type=int, default=5, help="notebooks per exercise")
    parser.add_argument("--keep", type=Path, help="build the course here and keep it")
    args = parser.parse_args()
    chosen = class_files(args.per_exercise)
    with tempfile.TemporaryDirectory(prefix="classroom-bench-") as tmp:
        course = args.keep or Path(tmp) / "course"
        build_class(course, chosen)
        print(f"{len(chosen)} submissions; grading each file with the CLI ...", flush=True)
        cli = {(who, ex): cli_grade(ex, path) for who, ex, path in chosen}
        print("grading the class (with feedback) ...", flush=True)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "autograder", "classroom", "autograde"]
            + ["--course", str(course), "--feedback"],
            capture_output=True,
            text=True,
            env=ENV,
            stdin=subprocess.DEVNULL,
        )
        total = time.monotonic() - started
        graded: dict[tuple[str, str], tuple[float, str]] = {}
        for line in done.stdout.splitlines():
            m = LINE.match(line)
            if m:
                graded[(m["student"], m["exercise"])] = (float(m["s"]), m["rest"])
    if len(graded) != len(chosen):
        print(done.stdout, done.stderr, sep="\n")
        return 1
    feedback_share = (total - sum(s for s, _ in graded.values())) / len(graded)
    print(f"\n{'exercise':<22} {'submission':<40} {'cli s':>6} {'class s':>7} {'ratio':>5}  scores")
    ratios = []
    for who, ex, _ in chosen:
        cli_s, cli_score = cli[(who, ex)]
        class_s, rest = graded[(who, ex)]
        ratios.append(class_s / cli_s)
        print(
            f"{ex:<22} {who:<40} {cli_s:6.2f} {class_s:7.2f} {class_s / cli_s:5.2f}  "
            f"cli {cli_score}, class {rest.split(',')[0]}"
        )
    class_times = [s for s, _ in graded.values()]
    cli_times = [s for s, _ in cli.values()]
    print(
        f"\nCLI grading, median per file:                 {statistics.median(cli_times):.2f} s"
        f"\nclass grading, median per submission:         {statistics.median(class_times):.2f} s"
        f"\n  + feedback and start-up, shared per submission: {feedback_share:.2f} s"
        f"\n  = median with feedback:                      "
        f"{statistics.median(class_times) + feedback_share:.2f} s"
        f"\nratio class/CLI per submission, median:       {statistics.median(ratios):.2f}"
        f" (max {max(ratios):.2f})"
        f"\nwhole class with feedback: {total:.1f} s for {len(graded)} submissions"
        f" ({3600 * len(graded) / total:.0f} submissions an hour)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
