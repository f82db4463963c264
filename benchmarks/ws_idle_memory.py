"""Memory per idle WebSocket connection: serve an app as the grader does, open N idle
members in one room, and read the service's memory from outside before and after.

    flock /tmp/course-timing.lock .venv/bin/python benchmarks/ws_idle_memory.py [-n 200] [FILE ...]

Default files: ws-broadcast's starter and both solutions. Printed per file: the service's
RSS (its process, read from /proc outside the sandbox) and, where the grader has a memory
cgroup for it, the cgroup's own figure (which also counts the kernel's socket buffers),
each before joining, with N members joined, and the difference per member. Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.measure.session import Session  # noqa: E402
from autograder.measure.streams import Stream, ws_member  # noqa: E402
from autograder.run import runner  # noqa: E402
from autograder.run.handles import Run  # noqa: E402

DEFAULT = [
    ROOT / "exercises" / "ws-broadcast" / "starter.py",
    *sorted((ROOT / "solutions" / "ws-broadcast").glob("*.py")),
]


def cgroup_memory(run: Run) -> int | None:
    """The run's memory cgroup's usage in bytes (v2 ``memory.current``, v1
    ``memory.usage_in_bytes``), None without one."""
    if run.cgroups is None or "memory" not in run.cgroups.dirs:
        return None
    folder = run.cgroups.dirs["memory"]
    for name in ("memory.current", "memory.usage_in_bytes"):
        try:
            return int((folder / name).read_text())
        except (OSError, ValueError):
            continue
    return None


async def settled(s: Session) -> tuple[int | None, int | None]:
    """Memory once it stopped moving (three equal RSS readings 0.2 s apart, at most 3 s)."""
    deadline = time.monotonic() + 3.0
    last: list[int | None] = []
    while time.monotonic() < deadline:
        last = [*last[-2:], s.app_memory()]
        if len(last) == 3 and len(set(last)) == 1:
            break
        await asyncio.sleep(0.2)
    return last[-1] if last else None, cgroup_memory(s.run)


async def measure(path: Path, n: int) -> dict[str, float | int | None]:
    async with runner.running(path) as run:
        s = Session(run)
        before = await settled(s)
        stop = asyncio.Event()
        streams = [Stream() for _ in range(n)]
        tasks = []
        for i, stream in enumerate(streams):
            joined = asyncio.Event()
            tasks.append(
                asyncio.create_task(
                    ws_member(
                        run.app_port, "/ws/idle", stream, lambda m: m, joined=joined, stop=stop
                    )
                )
            )
            await joined.wait()
            if stream.error:
                raise RuntimeError(f"member {i} could not join: {stream.error}")
        with_members = await settled(s)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    def per(i: int) -> float | None:
        a, b = before[i], with_members[i]
        return None if a is None or b is None else (b - a) / n

    return {
        "rss_before": before[0],
        "rss_with": with_members[0],
        "rss_per_member": per(0),
        "cgroup_before": before[1],
        "cgroup_with": with_members[1],
        "cgroup_per_member": per(1),
    }


def kib(x: float | int | None) -> str:
    return "-" if x is None else f"{x / 1024:.1f} KiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("-n", type=int, default=200, help="idle members (default 200)")
    args = parser.parse_args()
    for path in args.files:
        f = asyncio.run(measure(path.resolve(), args.n))
        print(
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {args.n} idle "
            f"members; RSS {kib(f['rss_before'])} -> {kib(f['rss_with'])}, "
            f"{kib(f['rss_per_member'])} per member; cgroup {kib(f['cgroup_before'])} -> "
            f"{kib(f['cgroup_with'])}, {kib(f['cgroup_per_member'])} per member"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
