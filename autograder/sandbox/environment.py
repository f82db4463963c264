"""The grading environment: fixed by the grader, the same on every machine, reported in the JSON.

Measured on a 2-core machine, details of the environment decided verdicts more than the
student's code did, so the grader pins them for the submission's process only:

- asyncio's default executor gets 40 workers (set in ``harness/serve.py``), the size of AnyIO's
  thread limiter, so ``asyncio.to_thread`` and a plain ``def`` endpoint behave alike
  (the stock ``min(32, cpu_count + 4)`` is 6 on 2 cores);
- ``SSL_CERT_FILE`` points at a one-certificate PEM file and ``SSL_CERT_DIR`` is unset:
  every dependency is plain HTTP on loopback, but each ``httpx.Client()`` builds an SSL
  context, ~20-25 ms of CPU with certifi's bundle against ~1 ms with this file;
- uvicorn serves on asyncio + h11 with one worker, whatever extras are installed.

Resource limits and confinement keep a hostile or broken submission from taking the
grader down, seeing the machine or changing anything but its own working directory: a
bubblewrap sandbox (``bwrap.py``) around a small supervisor (``supervisor.py``), a uid of its
own when the grader is root, cgroups where it can make them. What this machine allowed is
probed once and reported in words (``docs/trust-model.md`` has the table).
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.sandbox.cgroups import Cgroups

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
OFF_SWITCH = "AUTOGRADER_SANDBOX"  # "off": grade without bubblewrap (to measure its cost)


def child_environment() -> dict[str, str]:
    """Variables every process of a grading run gets (SSL_CERT_DIR is simply absent)."""
    return {"SSL_CERT_FILE": str(CERT_FILE), "MALLOC_ARENA_MAX": "4"}


def apply_limits(*, nproc: bool = False) -> None:
    """Run in the submission's process before it executes anything (``preexec_fn``).

    ``nproc``: also cap its tasks with RLIMIT_NPROC, which counts the tasks of its real uid
    in its user namespace: per run for a uid of its own or a user namespace of its own,
    but every process of the user's session otherwise (so it is not set then)."""
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

    bwrap: str | None  # bubblewrap, when it runs here: the submission gets a view of its own
    own_uid: bool  # the grader is root: the submission gets a uid of its own
    cgroups: bool  # pids + memory cgroups can be created
    why_not: str = ""  # without bubblewrap: why, in words a person understands

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    @property
    def task_limit(self) -> bool:
        """RLIMIT_NPROC counts this run's tasks only (see ``apply_limits``)."""
        return self.own_uid or (self.bwrap is not None and not self.as_root)

    def note(self) -> str:
        """One line for a person grading without a sandbox ("" with one)."""
        if self.bwrap:
            return ""
        return (
            f"not sandboxed ({self.why_not}): the submission runs as "
            + ("a uid of its own" if self.own_uid else "you")
            + " and can read what that user can read and reach the network; "
            "fine for your own code, not for someone else's"
        )

    def describe(self) -> dict[str, Any]:
        limits = "output 64 MiB per file, 60 s of CPU and 4 GiB of address space per process"
        if self.task_limit:
            limits += ", 256 tasks (RLIMIT_NPROC, counted for this run only)"
        if not self.cgroups:
            limits += "; no limit on the memory or the tasks of the whole process tree"
        if self.bwrap:
            sandbox = "bubblewrap: own PID, network, IPC, UTS and mount namespaces" + (
                "" if self.as_root else ", in a user namespace (no capabilities)"
            )
            filesystem = (
                "read-only: the Python runtime, its packages, the grader's harness and the "
                "submission's folder; writable: its working directory and a private, empty "
                "/tmp; nothing else (no home folders, no other submissions)"
            )
            network = "loopback only, shared with the dependency servers"
        else:
            sandbox = f"none: {self.why_not}"
            filesystem = "whatever its user can read and write on this machine" + (
                " (its uid owns only its working directory)" if self.own_uid else ""
            )
            network = "the machine's network"
        return {
            "sandbox": sandbox,
            "filesystem": filesystem,
            "network": network,
            "user": "a uid of its own: no write access outside its working directory"
            if self.own_uid
            else "the grader's own user (the grader is not root)",
            "cgroups": "pids and memory limits for the whole process tree"
            if self.cgroups
            else "none available: per-process rlimits only",
            "limits": limits,
            "cleanup": "the PID namespace's init is killed: the kernel kills every process in it"
            if self.bwrap
            else "a child-subreaper supervisor kills every descendant; strays found by run token",
        }


def _env() -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def _succeeds(argv: list[str]) -> tuple[bool, str]:
    """Did ``argv`` exit with status 0? And what did it say on stderr?"""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=_env()
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    return done.returncode == 0, done.stderr


def _why_no_user_namespaces(said: str) -> str:
    """Name the machine's policy that refused bubblewrap a user namespace."""
    for path, bad, policy in (
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1", "AppArmor restricts them"),
        ("/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone=0"),
        ("/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces=0"),
    ):
        with contextlib.suppress(OSError):
            if Path(path).read_text().strip() == bad:
                return f"this machine allows no user namespaces to ordinary users ({policy})"
    last = said.strip().splitlines()[-1:] or ["no reason given"]
    return f"bubblewrap could not start a sandbox here ({last[0]})"


@functools.cache
def confinement() -> Confinement:
    from autograder.sandbox import bwrap

    root = os.geteuid() == 0
    sandbox = shutil.which("bwrap")
    why_not = ""
    probe_uid = [bwrap.PYTHON, "-m", "autograder.sandbox.supervisor", "--probe-uid", str(UID_BASE)]
    own_uid = False
    if os.environ.get(OFF_SWITCH) == "off":
        sandbox, why_not = None, f"switched off ({OFF_SWITCH}=off)"
    elif sandbox is None:
        why_not = "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    else:
        prefix = bwrap.command(sandbox, as_root=root, read_only=[], writable=[], etc=None)
        if root:  # one start tells both: the sandbox runs, and a stranger uid can import
            own_uid = _succeeds([*prefix, *probe_uid])[0]
        if not own_uid:
            works, said = _succeeds([*prefix, bwrap.PYTHON, "-c", "import json, uvicorn"])
            if not works:
                why_not = _why_no_user_namespaces(said) if not root else f"bubblewrap: {said}"
                sandbox = None
    if root and sandbox is None:  # outside a sandbox the uid must reach the interpreter
        own_uid = _succeeds(probe_uid)[0]
    cgroup = Cgroups.create(f"autograder-probe-{os.getpid()}", pids_max=10, memory_bytes=1 << 30)
    if cgroup is not None:
        cgroup.remove()
    return Confinement(sandbox, own_uid, cgroup is not None, why_not)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("fastapi", "starlette", "uvicorn", "httpx", "anyio", "websockets"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def describe() -> dict[str, Any]:
    """The ``environment`` object of the JSON verdict."""
    from autograder.harness.app import DEFAULT_EXECUTOR_WORKERS, ws_options

    return {
        "default_executor_workers": DEFAULT_EXECUTOR_WORKERS,
        "anyio_thread_limiter_tokens": 40,
        "ssl_cert_file": f"autograder/sandbox/certs/{CERT_FILE.name}",
        "ssl_cert_dir": None,
        "uvicorn": {"loop": "asyncio", "http": "h11", "workers": 1, **ws_options()},
        "limits": dict(LIMITS),
        "confinement": confinement().describe(),
        "versions": versions(),
    }
