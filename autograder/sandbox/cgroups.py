"""Cgroups for one run's submission: a pids and a memory cgroup (v1 or v2), when the
machine allows. Grader-side: the runner creates them, the sandbox's supervisor only
writes the submission's pid into their ``cgroup.procs`` files (named in its spec).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


class Cgroups:
    """A pids and a memory cgroup for one run's submission (v1 or v2), when the machine allows.

    The pids controller counts every task (threads included) whatever its uid, which
    RLIMIT_NPROC does not do for root; the memory controller bounds the whole process
    tree, which RLIMIT_AS (per process) does not.
    """

    def __init__(self, dirs: dict[str, Path]) -> None:
        self.dirs = dirs

    @classmethod
    def create(cls, name: str, *, pids_max: int, memory_bytes: int) -> Cgroups | None:
        try:
            own = Path("/proc/self/cgroup").read_text().splitlines()
        except OSError:
            return None
        places: dict[str, str] = {}
        for line in own:
            _, controllers, path = line.split(":", 2)
            for c in controllers.split(","):
                places[c or "unified"] = path
        dirs: dict[str, Path] = {}
        try:
            if "pids" in places and (CGROUP_ROOT / "pids").is_dir():  # v1
                for ctrl in ("pids", "memory"):
                    d = CGROUP_ROOT / ctrl / places[ctrl].lstrip("/") / name
                    d.mkdir()
                    dirs[ctrl] = d
                (dirs["pids"] / "pids.max").write_text(str(pids_max))
                (dirs["memory"] / "memory.limit_in_bytes").write_text(str(memory_bytes))
            elif (CGROUP_ROOT / "cgroup.controllers").exists():  # v2
                parent = CGROUP_ROOT / places.get("unified", "/").lstrip("/")
                (parent / "cgroup.subtree_control").write_text("+pids +memory")
                d = parent / name
                d.mkdir()
                dirs["pids"] = dirs["memory"] = d
                (d / "pids.max").write_text(str(pids_max))
                (d / "memory.max").write_text(str(memory_bytes))
                (d / "memory.swap.max").write_text("0")
            else:
                return None
        except (OSError, KeyError, ValueError):
            cls(dirs).remove()
            return None
        return cls(dirs)

    @property
    def version(self) -> int:
        return 2 if self.dirs.get("pids") == self.dirs.get("memory") else 1

    def procs_files(self) -> list[str]:
        return sorted({str(d / "cgroup.procs") for d in self.dirs.values()})

    def _counter(self, ctrl: str, file: str, key: str) -> int:
        with contextlib.suppress(OSError, ValueError, KeyError):
            text = (self.dirs[ctrl] / file).read_text()
            for line in text.splitlines():
                k, _, v = line.partition(" ")
                if k == key:
                    return int(v)
        return 0

    def pids_refused(self) -> int:
        """How many forks or thread starts the pids limit refused."""
        return self._counter("pids", "pids.events", "max")

    def pids_at_limit(self) -> bool:
        """Did the submission reach the process limit? (RLIMIT_NPROC, equal to it, may refuse
        the fork first and leave the cgroup's own counter at 0.)"""
        if self.pids_refused():
            return True
        with contextlib.suppress(OSError, ValueError):
            d = self.dirs["pids"]
            return int((d / "pids.current").read_text()) >= int((d / "pids.max").read_text())
        return False

    def oom_kills(self) -> int:
        if self.version == 1:
            return self._counter("memory", "memory.oom_control", "oom_kill")
        return self._counter("memory", "memory.events", "oom_kill")

    def pids(self) -> list[int]:
        found: set[int] = set()
        for procs in self.procs_files():
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in Path(procs).read_text().split())
        return sorted(found)

    def kill_all(self, timeout: float = 3.0) -> None:
        deadline = time.monotonic() + timeout
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def remove(self) -> None:
        for d in set(self.dirs.values()):
            for _ in range(50):  # v1 refuses while a killed task is still exiting
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
