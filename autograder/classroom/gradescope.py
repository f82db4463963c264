"""An exercise as a Gradescope autograder: ``setup.sh``, ``run_autograder``, the grader.

Gradescope builds one image from the zip (``setup.sh`` runs once, in
``/autograder/source``), then runs ``run_autograder`` in a fresh container per
submission, with the student's files in ``/autograder/submission/`` and the results
expected in ``/autograder/results/results.json``: one test per check (its score, its
message), the diagnosis and the sandbox the grading had in the overall output.

Such a container may forbid Linux namespaces: the grader then runs in its degraded mode
(what it could confine is stated in the output). A container grades one submission, so
no machine-wide wait is needed.

``python -m autograder.classroom.gradescope run EXERCISE --root DIR`` is what
``run_autograder`` calls (``--root``: the platform's ``/autograder``, or a local copy of
its layout for a test).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

from autograder.judges.verdict import Verdict

PACKAGE = Path(__file__).resolve().parents[1]
# What the grader imports at grading time (not the course's notebook tooling).
RUNTIME = (
    "fastapi", "uvicorn", "httpx", "sniffio", "anyio", "aiosmtpd", "aiosmtplib",
    "matplotlib", "nbformat", "nbgrader", "psutil", "websockets",
)  # fmt: skip

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, when it builds the image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-venv util-linux
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -r /autograder/source/requirements.txt
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this per submission; AUTOGRADER_ROOT/PYTHON let a local test use it too.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
cd "$ROOT/source"
exec "$PYTHON" -m autograder.classroom.gradescope run {exercise} --root "$ROOT"
"""


def requirements() -> str:
    """The grader's runtime packages, pinned to the versions it was tested with here."""
    return "".join(f"{name}=={metadata.version(name)}\n" for name in RUNTIME)


def export(exercise: str, out: Path) -> Path:
    """Write ``out/<exercise>-gradescope.zip``; return its path."""
    out.mkdir(parents=True, exist_ok=True)
    zip_path = out / f"{exercise}-gradescope.zip"
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN.format(exercise=exercise))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable once unpacked
            z.writestr(info, text)
        z.writestr("requirements.txt", requirements())
        for path in sorted(PACKAGE.rglob("*")):
            if (
                path.is_file()
                and path.suffix in (".py", ".pem")
                and "__pycache__" not in path.parts
            ):
                z.write(path, Path("autograder") / path.relative_to(PACKAGE))
    return zip_path


def _service(submission: Path) -> str:
    """The submitted service: a notebook's app cell, else ``app.py`` (or the one .py)."""
    from autograder.classroom.submission import NoService, app_cell, app_source, read_notebook

    notebooks = sorted(submission.rglob("*.ipynb"))
    if notebooks:
        return app_source(app_cell(read_notebook(notebooks[0])))
    files = sorted(submission.rglob("app.py")) or sorted(submission.rglob("*.py"))
    if len(files) != 1:
        raise NoService(
            "no service to grade: submit the exercise's notebook, or one app.py "
            f"(found {len(files)} .py files)"
        )
    return files[0].read_text(encoding="utf-8", errors="replace")


def results(verdict: Verdict, seconds: float) -> dict[str, Any]:
    """Gradescope's results.json: one test per check, the diagnosis and sandbox overall."""
    lines = [f"{verdict.exercise}: {verdict.score}/{verdict.max_score} checks passed."]
    if verdict.diagnosis:
        lines.append(f"What blocked the event loop: {verdict.diagnosis}")
    confinement = verdict.environment.get("confinement")
    if isinstance(confinement, dict):
        lines.append("How your service was confined while it was graded:")
        lines += [f"  {k}: {v}" for k, v in confinement.items()]
    return {
        "score": float(verdict.score),
        "execution_time": round(seconds, 2),
        "output": "\n".join(lines),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": c.name,
                "number": str(n),
                "score": float(c.passed),
                "max_score": 1.0,
                "status": "passed" if c.passed else "failed",
                "output": c.message,
                "output_format": "text",
                "visibility": "visible",
            }
            for n, c in enumerate(verdict.checks, 1)
        ],
    }


def run(exercise: str, root: Path) -> Path:
    """Grade ``root/submission`` and write ``root/results/results.json``."""
    from autograder.classroom.grading import grade_source, no_service
    from autograder.classroom.submission import NoService, Unreadable

    started = time.monotonic()
    try:
        code = _service(root / "submission")
    except (NoService, Unreadable) as exc:
        verdict = no_service(exercise, str(exc))
    else:
        verdict = grade_source(exercise, code, exclusive=False)  # one container, one grading
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results(verdict, time.monotonic() - started), indent=1))
    return out


def main(argv: list[str] | None = None) -> int:
    from autograder.judges import EXERCISES

    parser = argparse.ArgumentParser(
        prog="python -m autograder.classroom.gradescope",
        description="Grade a submission in Gradescope's layout (what run_autograder calls).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="grade ROOT/submission into ROOT/results/results.json")
    r.add_argument("exercise", choices=list(EXERCISES))
    r.add_argument("--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    print(run(args.exercise, args.root))
    return 0


if __name__ == "__main__":
    sys.exit(main())
