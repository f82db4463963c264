"""The student's side, inside the notebook's kernel: "check my work" and the test cells."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from autograder.classroom.processes import run_isolated
from autograder.verdict import Verdict

VERDICT_FILE = ".autograder-verdict.json"
RUNS_LOG = ".autograder-runs.jsonl"
# The contract: a broken submission gets its verdict within 60 s. Python start-up and the
# grader's own clean-up need a margin on a busy 2-core machine.
GRADE_TIMEOUT = 90.0


def _grader_command(exercise: str, app: Path) -> list[str]:
    # -v: the grader's progress log (on its stderr) tells the student what it did.
    return [sys.executable, "-m", "autograder", "-v", "grade", exercise, str(app), "--json"]


@contextlib.contextmanager
def _warnings_on_stdout() -> Iterator[None]:
    """A warning printed on a test cell's stderr would zero it: show it on stdout."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            for w in caught:
                print(f"warning: {w.category.__name__}: {w.message}")


def timeline_png(verdict: dict[str, Any]) -> bytes | None:
    """The verdict's request timeline as PNG bytes (None when nothing was sent)."""
    from matplotlib.figure import Figure

    from autograder import plots

    bars = verdict.get("metrics", {}).get("timeline") or []
    if not bars:
        return None
    # Unanswered requests are drawn up to when the grader stopped waiting for them.
    waited = verdict.get("metrics", {}).get("waited_ms")
    ax = plots.timeline(
        bars,
        title=f"{verdict.get('exercise')}: your app's requests (grey: never answered)",
        cut_off_ms=waited if isinstance(waited, int | float) else None,
    )
    figure = ax.get_figure(root=True)
    assert isinstance(figure, Figure)
    return plots.png(figure, dpi=90)


def _show_timeline(verdict: dict[str, Any]) -> None:
    png = timeline_png(verdict)
    if png is None:
        print("(no request timeline: the app never served)")
        return
    try:
        from IPython.display import Image, display
    except ImportError:  # a script: the text verdict is enough
        return
    display(Image(data=png, format="png"))


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _grade(
    exercise: str, app: Path, timeout: float, command: Sequence[str] | None
) -> dict[str, Any]:
    started = time.monotonic()
    done = run_isolated(command or _grader_command(exercise, app), timeout=timeout)
    if done.stderr.strip():
        print("grader log:")
        for line in done.stderr.strip().splitlines()[-40:]:
            print(f"  {line}")
    if done.timed_out:
        raise RuntimeError(f"the grader gave no verdict within {timeout:.0f} s and was stopped")
    try:
        verdict = json.loads(done.stdout)
    except ValueError:
        tail = done.stdout.strip()[-2000:]
        raise RuntimeError(
            f"the grader gave no verdict (exit status {done.returncode}); it printed:\n{tail}"
        ) from None
    verdict["graded_s"] = round(time.monotonic() - started, 2)
    return verdict


def _record_run(exercise: str, verdict: dict[str, Any] | None, app: Path, log: Path) -> None:
    """One line per grading run, beside the notebook: how often a notebook run graded."""
    entry = {
        "exercise": exercise,
        "nbgrader_execution": os.environ.get("NBGRADER_EXECUTION"),
        "app_sha256": _sha256(app),
        "score": None if verdict is None else verdict.get("score"),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    with open(log, "a") as f:
        f.write(json.dumps(entry) + "\n")


def grade_to_cache(
    exercise: str,
    app: str | Path = "app.py",
    *,
    cache: str | Path = VERDICT_FILE,
    timeout: float = GRADE_TIMEOUT,
    command: Sequence[str] | None = None,
) -> None:
    """Grade ``app`` once, cache the JSON verdict in ``cache``, print it and show the timeline.

    Returns None on purpose: a test cell's ``execute_result`` would be read by nbgrader
    as partial credit.
    """
    app, cache = Path(app), Path(cache)
    cache.unlink(missing_ok=True)  # never let a stale (or planted) verdict stand
    with _warnings_on_stdout():
        verdict = None
        try:
            verdict = _grade(exercise, app, timeout, command)
        finally:
            _record_run(exercise, verdict, app, cache.parent / RUNS_LOG)
        verdict["app_sha256"] = _sha256(app)
        cache.write_text(json.dumps(verdict, indent=1))
        print(Verdict.from_dict(verdict).render())
        print(
            f"score: {verdict['score']}/{verdict['max_score']} (graded in {verdict['graded_s']:.1f} s)"
        )
        _show_timeline(verdict)


class CheckFailed(AssertionError):
    """A grader check failed: the test cell gets no points; the message says why."""


def check(name: str, *, cache: str | Path = VERDICT_FILE) -> None:
    """Pass when the cached verdict's check ``name`` passed; else raise with its message."""
    try:
        verdict = json.loads(Path(cache).read_text())
    except (OSError, ValueError):
        raise CheckFailed(f"{name}: no verdict: the grading cell above did not finish") from None
    found = [c for c in verdict.get("checks", []) if c.get("name") == name]
    if not found:
        raise CheckFailed(f"{name}: the grader reported no such check")
    c = found[0]
    print(f"{'✓' if c['passed'] else '✗'} {name}: {c['message']}")
    if not c["passed"]:
        if verdict.get("diagnosis"):
            print(f"diagnosis: {verdict['diagnosis']}")
        raise CheckFailed(f"{name}: {c['message']}")


def check_my_work(
    exercise: str,
    app: str | Path = "app.py",
    *,
    timeout: float = GRADE_TIMEOUT,
    command: Sequence[str] | None = None,
) -> None:
    """The student's "check my work" cell: the same grading, shown as text and a timeline."""
    if os.environ.get("NBGRADER_EXECUTION"):
        # nbgrader is running the notebook (autograde or validate): the hidden test cells
        # grade it once; grading here too would double the time and the load.
        print(f"nbgrader {os.environ['NBGRADER_EXECUTION']}: the test cells below grade app.py")
        return
    if not Path(app).exists():
        print(f"There is no {app} yet: run the cell with your service first.")
        return
    grade_to_cache(exercise, app, timeout=timeout, command=command)
