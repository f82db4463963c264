"""Soak: N gradings in a row, in this process, must leave nothing behind.

    flock /tmp/course-timing.lock .venv/bin/python benchmarks/soak.py [-n 100]

Grades a valid fix, the starter and a submission that leaves processes behind
(tests/hostile/escapees.py) in turn through ``autograder.grade.grade``, and prints what
the machine and this process held before (after one warm-up grading, which fills the
grader's caches) and after: open file descriptors and threads of this process, its
listening sockets and child processes, processes of any grading run (run token or
sandbox uid), the runs' temporary directories and cgroups, files the sandbox uids own
in the shared temporary directories, and the run slots held.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grade import grade  # noqa: E402
from autograder.run import slots  # noqa: E402
from autograder.run.handles import RUN_TOKEN_VAR  # noqa: E402
from autograder.sandbox import environment  # noqa: E402

SUBMISSIONS = (
    ROOT / "solutions" / "blocking-sleep" / "async_sleep.py",
    ROOT / "exercises" / "blocking-sleep" / "starter.py",
    ROOT / "tests" / "hostile" / "escapees.py",
)
SANDBOX_UIDS = range(environment.UID_BASE, environment.UID_BASE + slots.MAX_SLOTS)


def _cgroup_dirs() -> set[str]:
    found: set[str] = set()
    for base in Path("/sys/fs/cgroup").glob("**/autograder-*"):
        if base.is_dir():
            found.add(str(base))
    return found


def _run_processes() -> list[int]:
    pids = []
    for p in psutil.process_iter(["uids", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if p.info["uids"].real in SANDBOX_UIDS or RUN_TOKEN_VAR in p.environ():
                pids.append(p.pid)
        except (psutil.Error, AttributeError):
            continue
    return pids


def _sandbox_files() -> int:
    count = 0
    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for e in entries:
            try:
                count += e.stat(follow_symlinks=False).st_uid in SANDBOX_UIDS
            except OSError:
                continue
    return count


def snapshot() -> dict[str, Any]:
    """What a grading could leave behind, as comparable figures."""
    me = psutil.Process()
    listening = [c for c in me.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    return {
        "open_fds": len(os.listdir("/proc/self/fd")),
        "threads": threading.active_count(),
        "listening_sockets": len(listening),
        "child_processes": len(me.children(recursive=True)),
        "grading_processes": len(_run_processes()),
        "tmp_dirs": sorted(str(p) for p in Path("/tmp").glob("autograder-*")),
        "cgroups": sorted(_cgroup_dirs()),
        "sandbox_files": _sandbox_files(),
        "active_runs": len(slots.active_runs()),
    }


def leftovers(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Differences that mean something was left behind (new dirs, not ones others made
    before we started and still hold)."""
    out: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, list):
            new = sorted(set(value) - set(before[key]))
            if new:
                out[key] = new
        elif value > before[key]:
            out[key] = (before[key], value)
    return out


def soak(n: int, *, report: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    grade("blocking-sleep", SUBMISSIONS[0])  # warm-up: caches, imports, the probe
    before = snapshot()
    t0 = time.monotonic()
    for i in range(n):
        path = SUBMISSIONS[i % len(SUBMISSIONS)]
        verdict = grade("blocking-sleep", path)
        if report and (i + 1) % 10 == 0:
            print(
                f"{i + 1:4d} gradings, {time.monotonic() - t0:6.1f} s; last: {path.name} "
                f"{'passed' if verdict.passed else 'failed'}; fds {len(os.listdir('/proc/self/fd'))}",
                flush=True,
            )
    return before, snapshot()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100, help="gradings in a row (default 100)")
    args = parser.parse_args()
    before, after = soak(args.n)
    print(f"\n{'':20} {'before':>8} {'after':>8}")
    for key in before:
        b, a = before[key], after[key]
        if isinstance(b, list):
            b, a = len(b), len(a)
        print(f"{key:20} {b:>8} {a:>8}")
    left = leftovers(before, after)
    print("\nleft behind:", left or "nothing")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
