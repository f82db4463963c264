"""The grading environment: fixed by the grader, the same on every machine, reported in the JSON.

Measured on a 2-core machine, details of the environment decided verdicts more than the
student's code did, so the grader pins them for the submission's process only:

- asyncio's default executor gets 40 workers (set in ``serve.py``), the size of AnyIO's
  thread limiter, so ``asyncio.to_thread`` and a plain ``def`` endpoint behave alike
  (the stock ``min(32, cpu_count + 4)`` is 6 on 2 cores);
- ``SSL_CERT_FILE`` points at a one-certificate PEM file and ``SSL_CERT_DIR`` is unset:
  every dependency is plain HTTP on loopback, but each ``httpx.Client()`` builds an SSL
  context, ~20-25 ms of CPU with certifi's bundle against ~1 ms with this file;
- uvicorn serves on asyncio + h11 with one worker, whatever extras are installed.

Resource limits and confinement keep a hostile or broken submission from taking the
grader down or changing anything but its own working directory (``sandbox.py``); what
this machine allowed is probed once and reported too.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import os
import platform
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.cgroups import Cgroups

CERT_FILE = Path(__file__).resolve().parent / "certs" / "loopback-ca.pem"

LIMITS = {
    "output_mib": 64,  # RLIMIT_FSIZE: stdout/stderr, the audit log, any file it writes
    "cpu_seconds": 60,  # RLIMIT_CPU of each of the submission's processes
    "address_space_gib": 4,  # RLIMIT_AS per process; 40 threads' stacks need ~0.4 GiB of it
    "memory_mib": 1024,  # memory cgroup: the whole tree (a valid fix uses < 200 MiB)
    # pids cgroup, and RLIMIT_NPROC of its own uid: tasks, threads included. A valid fix
    # runs ~90 threads (40 executor workers, 40 AnyIO workers, the harness) plus a small
    # process pool.
    "processes": 256,
}

# The submission runs as uid UID_BASE + slot (one slot per concurrent grading run on the
# machine): a uid that owns nothing but its own working directory.
UID_BASE = 1_600_000_000
UNSHARE = ("unshare", "--pid", "--net", "--mount", "--mount-proc", "--fork", "--kill-child")


def child_environment() -> dict[str, str]:
    """Variables every process of a grading run gets (SSL_CERT_DIR is simply absent)."""
    return {"SSL_CERT_FILE": str(CERT_FILE), "MALLOC_ARENA_MAX": "4"}


def apply_limits(*, nproc: bool = False) -> None:
    """Run in the submission's process before it executes anything (``preexec_fn``).

    ``nproc``: also cap its uid's tasks (RLIMIT_NPROC binds only a non-root uid)."""
    mib = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMITS["output_mib"] * mib,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (LIMITS["cpu_seconds"], LIMITS["cpu_seconds"] + 5))
    resource.setrlimit(resource.RLIMIT_AS, (LIMITS["address_space_gib"] * 1024 * mib,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (LIMITS["processes"],) * 2)


@dataclass(frozen=True)
class Confinement:
    """What this machine lets the grader do to confine a submission (probed once)."""

    unshare: tuple[str, ...] | None  # the command prefix that gives fresh namespaces
    own_uid: bool  # the grader is root: the submission gets a uid of its own
    cgroups: bool  # pids + memory cgroups can be created

    def describe(self) -> dict[str, Any]:
        return {
            "namespaces": "pid, network (loopback only), mount (own /proc)"
            if self.unshare
            else "none (unshare unavailable here): host network and process table",
            "user": "a uid of its own: no write access outside its working directory"
            if self.own_uid
            else "the grader's own user (the grader is not root)",
            "cgroups": "pids and memory limits for the whole process tree"
            if self.cgroups
            else "none available: per-process rlimits only",
            "cleanup": "the PID namespace's init is killed: the kernel kills every process in it"
            if self.unshare
            else "a child-subreaper supervisor kills every descendant; strays found by run token",
        }


def exposed_paths() -> list[str]:
    """What the submission's uid must reach: the interpreter, the virtualenv, the grader."""
    exe = os.path.realpath(sys.executable)
    return sorted(
        {
            os.path.realpath(sys.base_prefix),
            os.path.realpath(sys.prefix),
            os.path.dirname(exe),
            str(Path(__file__).resolve().parent.parent),
        }
    )


def _env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }


@functools.cache
def confinement() -> Confinement:
    root = os.geteuid() == 0
    own_uid = False
    unshare: tuple[str, ...] | None = None
    if shutil.which("unshare"):
        candidates: list[tuple[str, ...]] = [UNSHARE] if root else []
        candidates.append((UNSHARE[0], "--user", "--map-root-user", *UNSHARE[1:]))
        for prefix in candidates:
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                done = subprocess.run(
                    [*prefix, "true"], capture_output=True, timeout=10, stdin=subprocess.DEVNULL
                )
                if done.returncode == 0:
                    unshare = prefix
                    break
    if root:  # the interpreter and the packages must be reachable by a stranger uid
        own_uid = False
        probe = [*(unshare or ()), sys.executable, "-m", "autograder.sandbox", "--probe-uid"]
        probe += [str(UID_BASE), *(exposed_paths() if unshare else ())]
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            own_uid = (
                subprocess.run(
                    probe, capture_output=True, timeout=60, stdin=subprocess.DEVNULL, env=_env()
                ).returncode
                == 0
            )
    cgroup = Cgroups.create(f"autograder-probe-{os.getpid()}", pids_max=10, memory_bytes=1 << 30)
    if cgroup is not None:
        cgroup.remove()
    return Confinement(unshare, own_uid, cgroup is not None)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("fastapi", "starlette", "uvicorn", "httpx", "anyio"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def describe() -> dict[str, Any]:
    """The ``environment`` object of the JSON verdict."""
    from autograder.serve import DEFAULT_EXECUTOR_WORKERS

    return {
        "default_executor_workers": DEFAULT_EXECUTOR_WORKERS,
        "anyio_thread_limiter_tokens": 40,
        "ssl_cert_file": f"autograder/certs/{CERT_FILE.name}",
        "ssl_cert_dir": None,
        "uvicorn": {"loop": "asyncio", "http": "h11", "workers": 1},
        "limits": dict(LIMITS),
        "confinement": confinement().describe(),
        "versions": versions(),
    }
